// Command parity runs one prompt through two LLM runtimes, records what
// every layer computed, lines the two records up and names the first tensor
// where they part ways.
//
// This package is wiring only: one file per command, each a newXCommand
// that declares flags and a plain runX that does the work through the
// library packages, and one exit-code switch (exitCode) for all of them.
package main
