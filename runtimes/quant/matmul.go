package quant

import (
	"fmt"
	"runtime"
	"sync"

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
// repacked Q4_0/Q4_K/IQ4_NL GEMMs; they use the same activation
// quantization and differ only in float summation order.)
//
// threads ≤ 0 means runtime.GOMAXPROCS(0). Rows are split into contiguous
// ranges, one per goroutine. Scratch for the converted activations comes
// from a pool, so a steady stream of calls does not allocate per call
// beyond the goroutines themselves.
func MatMul(dst []float32, w []byte, wt ggml.Type, nRows, nCols int, x []float32, nTok int, threads int) error {
	at, ok := VecDotType(wt)
	if !ok {
		return &UnsupportedError{"matmul", wt}
	}
	if nRows < 0 || nCols < 0 || nTok < 0 {
		return fmt.Errorf("quant: matmul %s: negative shape %d×%d, %d tokens", wt, nRows, nCols, nTok)
	}
	if nCols%wt.BlockSize() != 0 || nCols%at.BlockSize() != 0 {
		return fmt.Errorf("quant: matmul %s: row length %d is not a multiple of the block size %d", wt, nCols, max(wt.BlockSize(), at.BlockSize()))
	}
	wRow := nCols / wt.BlockSize() * wt.TypeSize()
	aRow := nCols / at.BlockSize() * at.TypeSize()
	switch {
	case len(w) != nRows*wRow:
		return fmt.Errorf("quant: matmul %s: weights are %d bytes, %d rows of %d need %d", wt, len(w), nRows, nCols, nRows*wRow)
	case len(x) != nTok*nCols:
		return fmt.Errorf("quant: matmul %s: activations have %d values, %d tokens of %d need %d", wt, len(x), nTok, nCols, nTok*nCols)
	case len(dst) != nTok*nRows:
		return fmt.Errorf("quant: matmul %s: dst has %d values, want %d", wt, len(dst), nTok*nRows)
	}
	if nRows == 0 || nTok == 0 {
		return nil
	}

	bufp := scratch.Get().(*[]byte)
	defer scratch.Put(bufp)
	if cap(*bufp) < nTok*aRow {
		*bufp = make([]byte, nTok*aRow)
	}
	act := (*bufp)[:nTok*aRow]

	from := lookup(at).fromFloat
	dot := lookup(wt).dot
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	parallel(nTok, threads, func(t0, t1 int) {
		for t := t0; t < t1; t++ {
			from(x[t*nCols:(t+1)*nCols], act[t*aRow:(t+1)*aRow])
		}
	})
	parallel(nRows, threads, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			wr := w[r*wRow : (r+1)*wRow]
			for t := 0; t < nTok; t++ {
				dst[t*nRows+r] = dot(nCols, wr, act[t*aRow:(t+1)*aRow])
			}
		}
	})
	return nil
}

var scratch = sync.Pool{New: func() any { return new([]byte) }}

// parallel runs f over [0, n) split into at most `threads` contiguous
// ranges, the last one on the calling goroutine.
func parallel(n, threads int, f func(lo, hi int)) {
	threads = min(threads, n)
	if threads <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + threads - 1) / threads
	lo := 0
	for ; lo+chunk < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, lo+chunk)
	}
	f(lo, n)
	wg.Wait()
}
