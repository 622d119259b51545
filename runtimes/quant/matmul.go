package quant

import (
	"sync"
	"sync/atomic"

	"github.com/layerwise/parity/runtimes/ggml"
)

// MatMul computes dst[t·nRows + r] = dot(w row r, x row t) for nRows weight
// rows of nCols elements of type wt (w is nRows·RowSize(nCols) bytes, rows
// back to back as in a GGUF tensor with ne0 = nCols) and nTok activation
// rows of nCols float32 values (x is nTok·nCols values).
//
// This is ggml_compute_forward_mul_mat's vec_dot path: every activation row
// is converted once with QuantizeRow(VecDotType(wt)), then each output is
// one VecDot. Each output element depends only on its weight row and its
// activation row, so the result is bit-identical for every thread count.
// (llama.cpp may take other paths: llamafile's sgemm for F32/F16/Q8_0/Q4_0,
// repacked Q4_0/Q4_K/IQ4_NL GEMMs, and its SIMD dots; they use the same
// activation quantization and differ only in float summation order. See
// Kernel for an emulation of those orders.) MatMul is
// KernelGeneric.MatMul.
//
// threads ≤ 0 means runtime.GOMAXPROCS(0). Rows are handed out to the
// goroutines in tiles as they become free. Scratch for the converted activations comes
// from a pool, so a steady stream of calls does not allocate per call
// beyond the goroutines themselves.
func MatMul(dst []float32, w []byte, wt ggml.Type, nRows, nCols int, x []float32, nTok int, threads int) error {
	return KernelGeneric.MatMul(dst, w, wt, nRows, nCols, x, nTok, threads)
}

var scratch = sync.Pool{New: func() any { return new([]byte) }}

// parallel runs f over [0, n) in chunks of at most chunk elements, handed
// out in order to up to `threads` goroutines (the caller is one of them)
// as each finishes its previous chunk, so a thread slowed by another
// process's load takes fewer chunks instead of holding up the rest.
// Callers compute every element on its own, so the split never changes a
// result.
func parallel(n, threads, chunk int, f func(lo, hi int)) {
	chunks := (n + chunk - 1) / chunk
	threads = min(threads, chunks)
	if threads <= 1 {
		f(0, n)
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			f(c*chunk, min(n, (c+1)*chunk))
		}
	}
	var wg sync.WaitGroup
	for i := 1; i < threads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}
