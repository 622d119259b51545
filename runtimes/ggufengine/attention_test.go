package ggufengine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/layerwise/parity/runtimes/fp32"
	"github.com/layerwise/parity/runtimes/quant"
)

// attendPadded is attention written the way ggml lays it out: full rows of
// n_kv = a multiple of 256 scores with −Inf masks, every softmax chunk,
// the transposed and zero-padded V cache, one dot per output element. It
// shares the lane kernels with attend but none of its shortcuts.
func attendPadded(q, kc, vc []float32, T, pos0, nHead, nHeadKV, hd int, scale float32) []float32 {
	qd, kvd := nHead*hd, nHeadKV*hd
	nTot := pos0 + T
	nKV := max(256, (nTot+255)/256*256)
	out := make([]float32, T*qd)
	for t := 0; t < T; t++ {
		for h := 0; h < nHead; h++ {
			kvh := h / (nHead / nHeadKV)
			qh := q[t*qd+h*hd : t*qd+(h+1)*hd]
			row := make([]float32, nKV)
			for j := range row {
				k := make([]float32, hd) // an unused cell holds zeros
				if j < nTot {
					k = kc[j*kvd+kvh*hd : j*kvd+(kvh+1)*hd]
				}
				row[j] = quant.VecDotF32(k, qh) * scale
				if j > pos0+t {
					row[j] += float32(math.Inf(-1))
				}
			}
			mx := float32(math.Inf(-1))
			for _, v := range row {
				mx = max(mx, v)
			}
			var sum float64
			for c := 0; c < nKV; c += 16 {
				var chunk [16]float32
				for l := range chunk {
					chunk[l] = vExpf(row[c+l] - mx)
					row[c+l] = chunk[l]
				}
				sum += float64(reduceAdd16(&chunk))
			}
			inv := float32(1 / sum)
			for j := range row {
				row[j] *= inv
			}
			for i := 0; i < hd; i++ {
				col := make([]float32, nKV)
				for j := 0; j < nTot; j++ {
					col[j] = vc[j*kvd+kvh*hd+i]
				}
				var v float32
				if T >= 2 && hd%4 == 0 {
					var lanes [16]float32
					for j := range col {
						lanes[j%16] = fp32.FMA(col[j], row[j], lanes[j%16])
					}
					v = reduceAdd16(&lanes)
				} else {
					v = quant.VecDotF32(col, row) // nKV is a multiple of 64
				}
				out[t*qd+h*hd+i] = v
			}
		}
	}
	return out
}

func TestAttendSkipsOnlyZeros(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	fill := func(n int, sd float64) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * sd)
		}
		return x
	}
	for _, c := range []struct{ T, pos0, nHead, nHeadKV, hd int }{
		{1, 0, 2, 1, 8}, {5, 0, 4, 2, 64}, {1, 300, 4, 2, 64}, {7, 250, 2, 2, 6}, {3, 40, 2, 1, 4}, {2, 0, 1, 1, 2},
	} {
		nTot := c.pos0 + c.T
		q := fill(c.T*c.nHead*c.hd, 2)
		kc, vc := fill(nTot*c.nHeadKV*c.hd, 2), fill(nTot*c.nHeadKV*c.hd, 1)
		scale := 1 / float32(math.Sqrt(float64(c.hd)))
		got := make([]float32, len(q))
		attend(got, q, kc, vc, c.T, c.pos0, c.nHead, c.nHeadKV, c.hd, scale, false, false, nil)
		want := attendPadded(q, kc, vc, c.T, c.pos0, c.nHead, c.nHeadKV, c.hd, scale)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Errorf("%+v: output %d is %g, the padded computation gives %g", c, i, got[i], want[i])
				break
			}
		}
	}
}

// BenchmarkAttendDecode is one decode step of one layer: 32 query heads of
// 128 over 8 KV heads and 1024 cached positions.
func BenchmarkAttendDecode(b *testing.B) {
	const nHead, nHeadKV, hd, nPos = 32, 8, 128, 1024
	r := rand.New(rand.NewPCG(1, 1))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	q, kc, vc := fill(nHead*hd), fill(nPos*nHeadKV*hd), fill(nPos*nHeadKV*hd)
	dst := make([]float32, nHead*hd)
	var buf []float32
	for b.Loop() {
		buf = attend(dst, q, kc, vc, 1, nPos-1, nHead, nHeadKV, hd, 0.088, false, false, buf)
	}
}
