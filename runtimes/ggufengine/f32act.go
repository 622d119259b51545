package ggufengine

import (
	"fmt"
	"sync"

	"github.com/layerwise/parity/runtimes/quant"
)

// matmulF32Act computes dst[t·rows + r] = dequant(W[r]) · x[t] with the
// activations left in f32 (Options.F32Activations): each weight row is
// dequantized once and dotted with every token row, products summed in
// float64 in index order and rounded once. Rows are split into contiguous
// ranges per goroutine, and each output's arithmetic does not depend on
// the split, so the result does not depend on the thread count.
func (e *Engine) matmulF32Act(dst []float32, w matrix, x []float32, T int) error {
	rb, err := w.typ.RowSize(int64(w.cols))
	if err != nil {
		return fmt.Errorf("ggufengine: %s: %w", w.name, err)
	}
	if len(x) < T*w.cols || len(dst) < T*w.rows || len(w.data) < int(rb)*w.rows {
		return fmt.Errorf("ggufengine: %s: matmul sizes do not fit", w.name)
	}
	threads := max(1, min(e.opts.Threads, w.rows))
	per := (w.rows + threads - 1) / threads
	errs := make([]error, threads)
	var wg sync.WaitGroup
	for g := 0; g < threads; g++ {
		r0, r1 := g*per, min(w.rows, (g+1)*per)
		if r0 >= r1 {
			break
		}
		wg.Add(1)
		go func(g, r0, r1 int) {
			defer wg.Done()
			row := make([]float32, w.cols)
			for r := r0; r < r1; r++ {
				src := w.data[r*int(rb) : (r+1)*int(rb)]
				if err := quant.Dequantize(w.typ, src, row); err != nil {
					errs[g] = fmt.Errorf("ggufengine: %s: %w", w.name, err)
					return
				}
				for t := 0; t < T; t++ {
					xt := x[t*w.cols : (t+1)*w.cols]
					var acc float64
					for i, v := range row {
						acc += float64(v) * float64(xt[i])
					}
					dst[t*w.rows+r] = float32(acc)
				}
			}
		}(g, r0, r1)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
