// Package model is the engines' single view of a model file: the
// architecture configuration (Config, read from GGUF or APR metadata the
// way llama.cpp reads hparams), canonical tensor roles with the GGUF ↔
// Hugging Face name maps, a Weights view that hands out tensors by role and
// layer whatever the container, and the tokenizer vocabulary read from
// either file.
//
// Because both engines read weights only through this package, either
// engine runs either file; that 2×2 is what separates a conversion bug from
// an engine bug. Model validates shapes against the configuration when a
// file is opened, so a malformed file fails here with a message naming the
// tensor, never inside a kernel. It computes nothing itself.
package model
