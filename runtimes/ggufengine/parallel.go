package ggufengine

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelRange runs f over [0, n) in chunks of chunk elements, handed out
// in order to up to GOMAXPROCS goroutines (the caller is one of them) as
// each finishes its previous chunk; worker numbers the goroutines from 0,
// so f can keep per-worker scratch. Callers use it only where every
// element is computed on its own, so the split never changes a result.
func parallelRange(n, chunk int, f func(worker, lo, hi int)) {
	chunks := (n + chunk - 1) / chunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		f(0, 0, n)
		return
	}
	var next atomic.Int64
	work := func(w int) {
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			f(w, c*chunk, min(n, (c+1)*chunk))
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(w)
		}()
	}
	work(0)
	wg.Wait()
}
