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
	lanes   [][]float64 // per worker: partial-sum lanes of a tile's outputs (lanes4x4)
	x64     []float64   // the activations of one matmul widened to float64
}

func newTiler(threads int) *tiler {
	return &tiler{threads: threads, tiles: make([][]float32, threads), lanes: make([][]float64, threads)}
}

// colChunk is how many columns lanes4x4 takes per pass over a tile: the
// activations' chunk (64 tokens · 512 · 8 bytes) then stays in cache
// while every row of the tile passes over it.
const colChunk = 512

// rowsPerTile is how many whole rows of cols elements fit in a tile,
// rounded down to a multiple of four (the dots go four or two rows at a
// time) when four fit, else of two, else one.
func rowsPerTile(cols int) int {
	switch n := TileFloats / cols; {
	case n >= 4:
		return n &^ 3
	case n >= 2:
		return 2
	}
	return 1
}

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
		t4, r4 := 0, 0 // tokens and rows done by tileBlocks
		if lanes4x4 != nil && T >= 4 && n >= 4 {
			t4, r4 = T&^3, n&^3
			m.tileBlocks(wi, dst, tile, x64, rows, cols, r0, r4, t4)
		}
		for t := 0; t+4 <= T; t += 4 {
			r := 0
			if t < t4 {
				r = r4 // the rows tileBlocks left out
			}
			xt := x64[t*cols : (t+4)*cols]
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
		for t := T &^ 3; t < T; t++ {
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

// lanes4x4, when set (amd64 with AVX-512), adds to acc[16t+4r : 16t+4r+4]
// dot's four partial sums over n4 groups of four columns of weight row r
// (w, wStride floats apart) and activation row t (x, xStride apart), for
// four rows of each. Running it column chunk by column chunk keeps each sum in
// column order, so the result is dot's.
var lanes4x4 func(w []float32, wStride int, x []float64, xStride, n4 int, acc *[64]float64)

// tileBlocks computes the outputs of rows [0, r4) of the tile (tile row r
// is matrix row r0+r) for tokens [0, nt), both multiples of four, with
// lanes4x4 in column chunks, then finishes each output as dot does.
func (m *tiler) tileBlocks(wi int, dst, tile []float32, x64 []float64, rows, cols, r0, r4, nt int) {
	nb := nt / 4
	lanes := grow(&m.lanes[wi], r4*nt*4)
	clear(lanes)
	block := func(rb, tb int) *[64]float64 { return (*[64]float64)(lanes[(rb*nb+tb)*64:]) }
	c4 := cols &^ 3
	for c0 := 0; c0 < c4; c0 += colChunk {
		k := min(colChunk, c4-c0)
		for tb := 0; tb < nb; tb++ {
			for rb := 0; rb < r4/4; rb++ {
				lanes4x4(tile[4*rb*cols+c0:], cols, x64[4*tb*cols+c0:], cols, k/4, block(rb, tb))
			}
		}
	}
	for rb := 0; rb < r4/4; rb++ {
		for tb := 0; tb < nb; tb++ {
			acc := block(rb, tb)
			for j := 0; j < 4; j++ {
				for i := 0; i < 4; i++ {
					r, t := 4*rb+i, 4*tb+j
					s := (*[4]float64)(acc[16*j+4*i:])
					wr, xr := tile[r*cols:(r+1)*cols], x64[t*cols:(t+1)*cols]
					for k := c4; k < cols; k++ {
						s[0] += float64(wr[k]) * xr[k]
					}
					dst[t*rows+r0+r] = float32((s[0] + s[1]) + (s[2] + s[3]))
				}
			}
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
