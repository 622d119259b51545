package diag

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/runtimes/quant"
)

// TestNoiseBudgets re-measures what each encoding costs on 256×256
// tensors of normal, Laplace and Student-t₃ values and checks that every
// budget is at least twice the worst of them, so a faithful re-encoding is
// "within quantization noise" with room to spare.
func TestNoiseBudgets(t *testing.T) {
	const n = 256 * 256
	rng := rand.New(rand.NewPCG(1, 2))
	dists := []struct {
		name string
		draw func() float64
	}{
		{"normal", rng.NormFloat64},
		{"laplace", func() float64 { return rng.ExpFloat64() * float64(1-2*rng.IntN(2)) }},
		{"t3", func() float64 {
			var s float64
			for range 3 {
				z := rng.NormFloat64()
				s += z * z
			}
			return rng.NormFloat64() / math.Sqrt(s/3)
		}},
	}
	nmse := func(x, y []float32) float64 {
		d := compare(x, y, 256)
		return float64(d.NMSE)
	}
	for _, dist := range dists {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(dist.draw())
		}
		for enc, limit := range nmseBudget {
			y := make([]float32, n)
			switch enc {
			case "APR_Q8", "APR_Q4":
				dt, q := apr.APRQ8, apr.QuantizeAPRQ8
				if enc == "APR_Q4" {
					dt, q = apr.APRQ4, apr.QuantizeAPRQ4
				}
				if err := apr.DequantizeRow(dt, q(x), 0, y); err != nil {
					t.Fatal(err)
				}
			default:
				typ, err := ggml.ParseType(enc)
				if err != nil {
					t.Fatal(err)
				}
				size, _ := typ.RowSize(n)
				b := make([]byte, size)
				if err := quant.Quantize(typ, x, b); err != nil {
					t.Fatal(err)
				}
				if err := quant.Dequantize(typ, b, y); err != nil {
					t.Fatal(err)
				}
			}
			got := nmse(x, y)
			if 2*got > limit {
				t.Errorf("%s on %s values: NMSE %.3g, more than half the budget %.3g", enc, dist.name, got, limit)
			}
		}
	}
}

func TestBudgetFallbackAndNames(t *testing.T) {
	for _, c := range []struct {
		t    model.Tensor
		enc  string
		want float64
	}{
		{model.Tensor{Type: ggml.Q8_0}, "q8_0", 2e-4},
		{model.Tensor{Type: ggml.F32, Storage: "APR_Q8"}, "APR_Q8", 1.5e-2},
		{model.Tensor{Type: ggml.Q4_K, Storage: "q4_K (rows padded)"}, "q4_K", 2e-2},
		// 2.0625 bits per weight: 8·4^−2.0625.
		{model.Tensor{Type: ggml.IQ2_XXS}, "iq2_xxs", 8 * math.Pow(4, -2.0625)},
	} {
		if got := Encoding(&c.t); got != c.enc {
			t.Errorf("Encoding = %q, want %q", got, c.enc)
		}
		if got := budget(&c.t); math.Abs(got-c.want) > 1e-12*c.want {
			t.Errorf("%s: budget %g, want %g", c.enc, got, c.want)
		}
	}
	a, b := &model.Tensor{Type: ggml.Q8_0}, &model.Tensor{Type: ggml.F16}
	if lim, of := pairBudget(a, b); lim != 2e-4+1e-7 || of != "q8_0 + f16 budget" {
		t.Errorf("pairBudget = %g %q", lim, of)
	}
	if _, of := pairBudget(a, a); of != "2 × q8_0 budget" {
		t.Errorf("pairBudget(same) names %q", of)
	}
}
