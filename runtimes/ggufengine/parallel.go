package ggufengine

import (
	"runtime"
	"sync"
)

// parallelRange runs f over [0, n) split into contiguous ranges of at
// least minChunk elements, one per goroutine up to GOMAXPROCS, the last on
// the calling goroutine; worker numbers the ranges from 0. Callers use it
// only where every element is computed on its own, so the split never
// changes a result.
func parallelRange(n, minChunk int, f func(worker, lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/minChunk))
	if workers <= 1 {
		f(0, 0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	lo, w := 0, 0
	for ; lo+chunk < n; lo, w = lo+chunk, w+1 {
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			f(w, lo, hi)
		}(w, lo, lo+chunk)
	}
	f(w, lo, n)
	wg.Wait()
}
