package aprengine

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/runtimes/quant"
)

// testMatrix quantizes a random rows×cols matrix to t.
func testMatrix(tb testing.TB, typ ggml.Type, rows, cols int) *model.Tensor {
	tb.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	src := make([]float32, rows*cols)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	size, err := typ.RowSize(int64(cols))
	if err != nil {
		tb.Fatal(err)
	}
	data := make([]byte, int(size)*rows)
	if err := quant.Quantize(typ, src, data); err != nil {
		tb.Fatal(err)
	}
	return &model.Tensor{Name: "w", Type: typ, Shape: []int64{int64(cols), int64(rows)}, Data: data}
}

func testActivations(T, cols int) []float32 {
	rng := rand.New(rand.NewPCG(3, 5))
	x := make([]float32, T*cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// TestMatMulTiles multiplies a matrix ten tiles large (the last one
// partial, with rows past the last whole kernel block) by seven tokens (a
// full token block and a remainder) and checks that (1) no worker's tile
// ever exceeds TileFloats, (2) the tiled result is bit-identical to dot
// over the whole matrix dequantized at once, for 1 and 2 threads, and (3)
// the whole call allocates at most the tiles and lanes, far less than an
// f32 copy of the matrix. A second, f32 matrix has rows whose length is
// not a multiple of sixteen (the column tail) and of the tile.
func TestMatMulTiles(t *testing.T) {
	for _, c := range []struct {
		typ           ggml.Type
		rows, cols, T int
	}{{ggml.Q8_0, 2602, 1024, 7}, {ggml.F32, 301, 1000, 13}} {
		rows, cols, T := c.rows, c.cols, c.T
		if c.typ == ggml.Q8_0 && (rowsPerTile(cols)*cols > TileFloats || rows*cols < 8*TileFloats || rows%4 == 0) {
			t.Fatalf("test shape does not span several full tiles and a partial block")
		}
		w := testMatrix(t, c.typ, rows, cols)
		x := testActivations(T, cols)
		full, err := w.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, T*rows)
		for tok := 0; tok < T; tok++ {
			for r := 0; r < rows; r++ {
				want[tok*rows+r] = dot(full[r*cols:(r+1)*cols], x[tok*cols:(tok+1)*cols])
			}
		}
		for _, threads := range []int{1, 2} {
			m := newTiler(threads)
			got := make([]float32, T*rows)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			if err := m.mul(got, w, x, T); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			for i, tile := range m.tiles {
				if cap(tile) > TileFloats {
					t.Errorf("%d threads: tile %d holds %d floats, more than TileFloats %d", threads, i, cap(tile), TileFloats)
				}
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v %d threads: element %d = %g, whole-matrix dot %g", c.typ, threads, i, got[i], want[i])
				}
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			bound := uint64(threads*(TileFloats*4+blockTokens*rowsPerTile(cols)*64) + 64<<10) // tiles, lanes, goroutine bookkeeping
			whole := uint64(rows * cols * 4)
			t.Logf("%v %d threads: allocated %d bytes; a whole f32 copy would be %d", c.typ, threads, allocated, whole)
			if allocated > bound || (c.typ == ggml.Q8_0 && allocated >= whole/2) {
				t.Errorf("%d threads: matmul allocated %d bytes, bound %d (whole f32 matrix %d)", threads, allocated, bound, whole)
			}
		}
	}
}

// TestRowsPerTile: a tile holds whole rows, a multiple of four when four
// fit, else of two, and at least one.
func TestRowsPerTile(t *testing.T) {
	for _, c := range []struct{ cols, want int }{
		{64, TileFloats / 64}, {1000, 260}, {1536, 168}, {8960, 28}, {TileFloats / 3, 2}, {TileFloats / 2, 2}, {TileFloats/2 + 1, 1}, {TileFloats, 1}, {TileFloats + 256, 1},
	} {
		if got := rowsPerTile(c.cols); got != c.want {
			t.Errorf("rowsPerTile(%d) = %d, want %d", c.cols, got, c.want)
		}
	}
}

// TestMatMulShapeErrors: mismatched buffers are errors, not panics.
func TestMatMulShapeErrors(t *testing.T) {
	w := testMatrix(t, ggml.F32, 4, 32)
	m := newTiler(2)
	if err := m.mul(make([]float32, 8), w, make([]float32, 31*2), 2); err == nil {
		t.Error("short activations: no error")
	}
	if err := m.mul(make([]float32, 7), w, make([]float32, 32*2), 2); err == nil {
		t.Error("short dst: no error")
	}
}

func BenchmarkMatMulQ4K(b *testing.B) {
	const rows, cols, T = 1024, 1024, 1
	w := testMatrix(b, ggml.Q4_K, rows, cols)
	x := testActivations(T, cols)
	dst := make([]float32, T*rows)
	m := newTiler(runtime.NumCPU())
	b.SetBytes(int64(len(w.Data)))
	for b.Loop() {
		if err := m.mul(dst, w, x, T); err != nil {
			b.Fatal(err)
		}
	}
}
