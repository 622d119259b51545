// Package faults names the bugs parity must be able to find, so tests and
// `parity selftest` can plant them and check that bisection points at the
// right tensor. An engine given a Set applies each fault at its layer (and,
// for decode faults, from its step on); a clean engine ignores an empty Set
// at the cost of one nil check per operation.
//
// File-level faults (rows of a weight corrupted or a matrix transposed in
// the file) are not engine behaviour: runtimes/fixtures writes them into the
// model file itself. They are listed here too so that every fault has one
// name and one expected first-divergence slot.
package faults
