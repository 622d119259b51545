// Package selftest checks parity against itself: it plants every fault
// class of runtimes/faults — in the GGUF engine, in the weights file, or in
// the capture policy — at chosen layers of synthetic models (or of a model
// the user names), bisects the faulted run against a clean reference run,
// and checks that the first divergence and the culprit operation are
// exactly the (step, layer, slot) where the fault was planted.
//
// It is the glue between the runtimes and the diff engine that neither may
// contain (runtimes never import diff, diff never imports a runtime), and
// it backs `parity selftest`, `make demo` and the fault-zoo tests.
package selftest
