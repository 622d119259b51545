// Package llamacpp puts the user's own llama.cpp build beside parity's
// engines as a reference: it reads the full-tensor dumps written by the
// project's dumper (index.tsv + .npy, the format of ../shared/llamacpp) and
// the text of stock llama-eval-callback, and maps llama.cpp's graph node
// names onto parity's slots.
//
// It never links llama.cpp: the reference runs as a subprocess, so a
// crashing or hanging build is an error message, not a crash of parity.
package llamacpp
