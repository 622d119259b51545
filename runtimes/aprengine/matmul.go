package aprengine

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/layerwise/parity/runtimes/model"
)

// TileFloats is the size, in float32 elements, of the scratch tile one
// matmul worker dequantizes weight rows into: 256 Ki floats = 1 MiB. A
// tile holds rowsPerTile(cols) whole rows, so the only f32 copy of a
// weight matrix that ever exists is one tile per worker: peak extra memory
// is Threads × max(TileFloats, cols)·4 bytes for the tiles, whatever the
// model size. A tile this large holds 28 rows even of a 9k-wide FFN down
// projection, so the activations a tile is multiplied with are read from
// outer caches once per 28 rows, not once per 4 (a 1.5B prefill ran
// 5–9% faster than with 256 KiB tiles). A row longer than
// TileFloats, which no supported model has, gets a tile of exactly one row.
const TileFloats = 1 << 18

// tiler multiplies activations by weight matrices that stay in their
// stored type, dequantizing them a row block at a time. Its scratch lives
// as long as the engine, so steady-state matmuls do not allocate.
type tiler struct {
	threads int
	tiles   [][]float32 // per worker: dequantized rows, cap ≤ max(TileFloats, widest row)
	acc     [][]lanes   // per worker: the lanes of one token block's outputs of a tile
}

func newTiler(threads int) *tiler {
	return &tiler{threads: threads, tiles: make([][]float32, threads), acc: make([][]lanes, threads)}
}

// colChunk is how many columns dotBlock takes per call: a block's weight
// rows and activation rows over one chunk (4·512·4 + 6·512·4 bytes) stay
// in the L1 cache while the kernel runs.
const colChunk = 512

// rowsPerTile is how many whole rows of cols elements fit in a tile,
// rounded down to a multiple of four (the kernels take four or two rows
// at a time) when four fit, else of two, else one.
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

// mul computes dst[t·rows + r] = dot(W[r], x[t]) for the T activation rows
// of x (each w.Cols() floats) and every row r of w. Row blocks of
// rowsPerTile rows are handed out to workers one at a time; a worker
// dequantizes its block into its own tile and multiplies every token with
// every row of it (tileProducts). Each output element is one dot (see
// dot.go) computed by one worker in dot's fixed order, so the result is
// bit-identical for any thread count, blocking or batch size.
func (m *tiler) mul(dst []float32, w *model.Tensor, x []float32, T int) error {
	rows, cols := w.Rows(), w.Cols()
	if len(x) != T*cols || len(dst) != T*rows {
		return fmt.Errorf("aprengine: %s: matmul of %d×%d weights with %d values into %d (want %d tokens × %d)", w.Name, rows, cols, len(x), len(dst), T, cols)
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
		m.tileProducts(wi, dst, tile, x, rows, cols, r0, n, T)
	})
	return errors.Join(errs...)
}

// tileProducts sets the outputs of the n tile rows (matrix rows r0..) for
// all T tokens. Tokens go blockTokens at a time; for each token block the
// columns go colChunk at a time and, within a chunk, dotBlock takes the
// tile's rows blockRows at a time, so the chunk of the block's activations
// stays in cache over the whole tile. Rows past the last whole row block
// and columns past the last multiple of sixteen are added with accumulate;
// then every output's lanes are folded.
func (m *tiler) tileProducts(wi int, dst, tile, x []float32, rows, cols, r0, n, T int) {
	c16 := cols &^ 15
	nr := n - n%blockRows
	acc := grow(&m.acc[wi], n*blockTokens)
	// Output (r, t) of the token block: for r < nr, block r−r%blockRows
	// holds it at t·blockRows + r%blockRows (dotBlock's layout); the rows
	// past nr follow, one run of nt per row.
	for t0 := 0; t0 < T; t0 += blockTokens {
		nt := min(blockTokens, T-t0)
		clear(acc[:n*nt])
		xb := x[t0*cols : (t0+nt)*cols]
		for c0 := 0; c0 < c16; c0 += colChunk {
			k := min(colChunk, c16-c0)
			for rb := 0; rb < nr; rb += blockRows {
				dotBlock(tile[rb*cols+c0:], cols, xb[c0:], cols, k/16, nt, acc[rb*nt:(rb+blockRows)*nt])
			}
		}
		for t := 0; t < nt; t++ {
			xt := xb[t*cols : (t+1)*cols]
			for r := 0; r < n; r++ {
				var s *lanes
				wr := tile[r*cols : (r+1)*cols]
				if r < nr {
					s = &acc[(r-r%blockRows)*nt+t*blockRows+r%blockRows]
				} else {
					s = &acc[r*nt+t]
					accumulate(s, wr[:c16], xt)
				}
				if c16 < cols {
					accumulate(s, wr[c16:], xt[c16:])
				}
				dst[(t0+t)*rows+r0+r] = fold(s)
			}
		}
	}
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
