package aprengine

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/layerwise/parity/runtimes/model"
)

// TileFloats is the size, in float32 elements, of the scratch tile one
// matmul worker dequantizes weight rows into: 64 Ki floats = 256 KiB. A
// tile holds rowsPerTile(cols) whole rows, so the only f32 copy of a
// weight matrix that ever exists is one tile per worker: peak extra memory
// is Threads × max(TileFloats, cols)·4 bytes for the tiles plus T·cols·8
// for the batch's activations widened to float64 once per matmul, whatever
// the model size. A row longer than TileFloats, which no supported model
// has, gets a tile of exactly one row.
const TileFloats = 1 << 16

// tiler multiplies activations by weight matrices that stay in their
// stored type, dequantizing them a row block at a time. Its scratch lives
// as long as the engine, so steady-state matmuls do not allocate.
type tiler struct {
	threads int
	tiles   [][]float32 // per worker: dequantized rows, cap ≤ max(TileFloats, widest row)
	x64     []float64   // the activations of one matmul widened to float64
}

func newTiler(threads int) *tiler {
	return &tiler{threads: threads, tiles: make([][]float32, threads)}
}

// rowsPerTile is how many whole rows of cols elements fit in a tile,
// rounded down to an even count (the dots go two rows at a time) unless
// only one fits.
func rowsPerTile(cols int) int { return max(1, TileFloats/cols&^1) }

// grow returns buf resized to n, reallocating only when it is too small.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// mul computes dst[t·rows + r] = W[r]·x[t] for the T activation rows of x
// (each w.Cols() floats) and every row r of w. Row blocks of rowsPerTile
// rows are handed out to workers one at a time; a worker dequantizes its
// block into its own tile and takes every token's dot with every row of
// it, two rows by four tokens at a time (dots2x4). Each output element is
// one dot (see there) computed by one worker in a fixed order, so the
// result is bit-identical for any thread count and any blocking.
func (m *tiler) mul(dst []float32, w *model.Tensor, x []float32, T int) error {
	rows, cols := w.Rows(), w.Cols()
	if len(x) != T*cols || len(dst) != T*rows {
		return fmt.Errorf("aprengine: %s: matmul of %d×%d weights with %d values into %d (want %d tokens × %d)", w.Name, rows, cols, len(x), len(dst), T, cols)
	}
	x64 := grow(&m.x64, T*cols)
	for i, v := range x {
		x64[i] = float64(v)
	}
	per := rowsPerTile(cols)
	nBlocks := (rows + per - 1) / per
	errs := make([]error, m.threads)
	parallel(m.threads, nBlocks, func(wi, b int) {
		r0 := b * per
		n := min(per, rows-r0)
		tile := grow(&m.tiles[wi], n*cols)
		if err := w.DequantizeRows(r0, n, tile); err != nil {
			errs[wi] = fmt.Errorf("aprengine: %w", err)
			return
		}
		var out [2][4]float32
		t := 0
		for ; t+4 <= T; t += 4 {
			xt := x64[t*cols : (t+4)*cols]
			r := 0
			for ; r+2 <= n; r += 2 {
				dots2x4(tile[r*cols:(r+2)*cols], xt, cols, &out)
				for i, o := range out {
					for j, v := range o {
						dst[(t+j)*rows+r0+r+i] = v
					}
				}
			}
			for ; r < n; r++ {
				for j := 0; j < 4; j++ {
					dst[(t+j)*rows+r0+r] = dot(tile[r*cols:(r+1)*cols], xt[j*cols:(j+1)*cols])
				}
			}
		}
		var out1 [4]float32
		for ; t < T; t++ {
			xt := x64[t*cols : (t+1)*cols]
			r := 0
			for ; r+4 <= n; r += 4 {
				dots4x1(tile[r*cols:(r+4)*cols], xt, cols, &out1)
				for i, v := range out1 {
					dst[t*rows+r0+r+i] = v
				}
			}
			for ; r < n; r++ {
				dst[t*rows+r0+r] = dot(tile[r*cols:(r+1)*cols], xt)
			}
		}
	})
	return errors.Join(errs...)
}

// dots2x4 sets out[i][j] = dot(w row i, x row j) for the two rows of w
// and the four rows of x, each n long. This is the Go version; amd64 with
// AVX2 and FMA replaces it with an assembly kernel that keeps dot's four
// partial sums of each output in the four lanes of one register and
// returns the same bits.
var dots2x4 = func(w []float32, x []float64, n int, out *[2][4]float32) {
	for i := range out {
		for j := range out[i] {
			out[i][j] = dot(w[i*n:(i+1)*n], x[j*n:(j+1)*n])
		}
	}
}

// dots4x1 sets out[i] = dot(w row i, x) for the four rows of w: the
// single-token (decode) case of dots2x4, with its own assembly kernel.
var dots4x1 = func(w []float32, x []float64, n int, out *[4]float32) {
	for i := range out {
		out[i] = dot(w[i*n:(i+1)*n], x[:n])
	}
}

// dot returns Σ w[i]·x[i] rounded once to f32, where x holds f32 values
// widened to float64. Each product of two f32 values is exact in float64
// (24+24 significant bits < 53), so the only rounding before the final one
// is the float64 summation: four interleaved partial sums (element i goes
// to sum i mod 4), combined as (s0+s1)+(s2+s3). The order is fixed, and
// because the products are exact an FMA contraction by the compiler cannot
// change the result.
func dot(w []float32, x []float64) float32 {
	x = x[:len(w)]
	var s0, s1, s2, s3 float64
	for len(w) >= 4 && len(x) >= 4 {
		s0 += float64(w[0]) * x[0]
		s1 += float64(w[1]) * x[1]
		s2 += float64(w[2]) * x[2]
		s3 += float64(w[3]) * x[3]
		w, x = w[4:], x[4:]
	}
	for i, v := range w {
		s0 += float64(v) * x[i]
	}
	return float32((s0 + s1) + (s2 + s3))
}

// parallel runs f(i) for i in [0, n) on up to threads goroutines, each
// index exactly once. Callers make f(i) depend only on i, so the result
// does not depend on the thread count.
func parallel(threads, n int, f func(worker, i int)) {
	workers := min(threads, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for wi := 0; wi < workers; wi++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(wi, i)
			}
		}()
	}
	wg.Wait()
}
