package diag

import (
	"math"
	"strings"

	"github.com/layerwise/parity/runtimes/model"
)

// nmseBudget is the NMSE one encoding of a weight tensor may cost: about
// twice (at least) what the reference quantizer (runtimes/quant, the
// arithmetic llama-quantize uses without an importance matrix) costs on a
// 256×256 tensor of Student-t (3 degrees of freedom) values, the
// heaviest-tailed of the three distributions it was measured on (normal,
// Laplace, t₃). Measured NMSE, normal / t₃:
//
//	f16 4.3e-8 / 4.5e-8      bf16 2.7e-6 / 2.9e-6     q8_0 2.9e-5 / 6.8e-5
//	q6_K 3.1e-4 / 6.6e-4     q5_K 1.3e-3 / 2.2e-3     q5_1 1.4e-3 / 2.3e-3
//	q5_0 1.8e-3 / 4.3e-3     q4_K 5.1e-3 / 8.5e-3     q4_1 6.1e-3 / 9.7e-3
//	iq4_nl 5.8e-3 / 1.0e-2   iq4_xs 5.9e-3 / 1.1e-2   q4_0 7.4e-3 / 1.6e-2
//	q3_K 2.3e-2 / 3.7e-2     q2_K 8.7e-2 / 1.3e-1
//	APR_Q8 1.1e-4 / 4.8e-3   APR_Q4 9.4e-3 / 2.1e-2
//
// APR_Q8 has a single scale for the whole tensor, so one outlier coarsens
// every element (hence its 40× spread between normal and t₃ values);
// APR_Q4 is Q4_0-like with a cruder rounding (an f16 scale per 32 values).
// TestNoiseBudgets re-measures all of them.
var nmseBudget = map[string]float64{
	"f32":    0,
	"f16":    1e-7,
	"bf16":   1e-5,
	"q8_0":   2e-4,
	"q6_K":   2e-3,
	"q5_K":   5e-3,
	"q5_1":   5e-3,
	"q5_0":   1e-2,
	"q4_K":   2e-2,
	"q4_1":   2.5e-2,
	"iq4_nl": 2.5e-2,
	"iq4_xs": 2.5e-2,
	"q4_0":   4e-2,
	"q3_K":   8e-2,
	"q2_K":   0.3,
	"APR_Q8": 1.5e-2,
	"APR_Q4": 5e-2,
}

// Encoding names how a tensor's values are stored: the ggml type name, or
// the APR layout ("APR_Q8", "APR_Q4") for payloads that are not ggml rows.
func Encoding(t *model.Tensor) string {
	if t.Storage != "" && !strings.HasPrefix(t.Storage, t.Type.String()) {
		return t.Storage
	}
	return t.Type.String()
}

// budget returns the NMSE one encoding may cost (see nmseBudget). Types
// without a measured entry get 8·4^(−bits per weight), a rough rate-
// distortion bound that the measured types stay within.
func budget(t *model.Tensor) float64 {
	if b, ok := nmseBudget[Encoding(t)]; ok {
		return b
	}
	if bs := t.Type.BlockSize(); bs > 0 {
		bpw := 8 * float64(t.Type.TypeSize()) / float64(bs)
		return 8 * math.Pow(4, -bpw)
	}
	return 0
}

// pairBudget is the NMSE two independently encoded copies of the same
// values may differ by: the sum of both encodings' budgets, with the
// explanation a report prints ("q8_0 + f16 budget").
func pairBudget(a, b *model.Tensor) (float64, string) {
	ea, eb := Encoding(a), Encoding(b)
	what := ea + " + " + eb + " budget"
	if ea == eb {
		what = "2 × " + ea + " budget"
	}
	return budget(a) + budget(b), what
}
