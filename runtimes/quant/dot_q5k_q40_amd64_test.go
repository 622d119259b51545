//go:build !noasm

package quant

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// randScale16 draws an fp16 scale from one of several classes, either
// sign: an ordinary normal, the smallest and largest normals, a
// subnormal, zero and, when special is set, ±Inf or NaN (the Go kernels
// define those through IEEE arithmetic, so the twins must follow them).
func randScale16(r *rand.Rand, special bool) uint16 {
	sign := uint16(r.IntN(2)) << 15
	classes := 5
	if special {
		classes = 7
	}
	switch r.IntN(classes) {
	case 0, 1:
		return sign | uint16(1+r.IntN(30))<<10 | uint16(r.IntN(1024))
	case 2:
		return sign | 1<<10 | uint16(r.IntN(1024)) // tiny normal
	case 3:
		if r.IntN(2) == 0 {
			return sign | 0x7bff // largest finite, 65504
		}
		return sign | uint16(1+r.IntN(1023)) // subnormal
	case 4:
		return sign // ±0
	case 5:
		return sign | 0x7c00 // ±Inf
	default:
		return sign | 0x7c00 | uint16(1+r.IntN(1023)) // NaN, quiet or not
	}
}

// randScale32 draws a float32 scale for an activation block the same way:
// a normal across a wide exponent range, a subnormal, ±0, the largest
// finite, and (special) ±Inf or NaN.
func randScale32(r *rand.Rand, special bool) float32 {
	sign := float32(1 - 2*r.IntN(2))
	classes := 5
	if special {
		classes = 7
	}
	switch r.IntN(classes) {
	case 0, 1:
		return float32(math.Ldexp(r.Float64()+0.5, r.IntN(80)-60)) * sign
	case 2:
		return math.Float32frombits(uint32(1+r.IntN(1<<23-1))) * sign // subnormal
	case 3:
		return math.MaxFloat32 * sign
	case 4:
		return 0 * sign
	case 5:
		return float32(math.Inf(1)) * sign
	default:
		return math.Float32frombits(0x7f800000 | uint32(1+r.IntN(1<<23-1)))
	}
}

// fillPattern writes random bytes into b, or one of the extremes: all
// zero bits, all one bits (maximal nibbles, high bits and 6-bit scales),
// or all v for the int8 activation bytes −128 and 127.
func fillPattern(r *rand.Rand, b []byte, int8s bool) {
	var v byte
	switch k := r.IntN(8); {
	case k < 4:
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return
	case k == 4:
		v = 0
	case k == 5 || !int8s:
		v = 0xff
	case k == 6:
		v = 0x80 // −128
	default:
		v = 0x7f // 127
	}
	for i := range b {
		b[i] = v
	}
}

// q5KQ8KRow builds nb random Q5_K and Q8_K blocks: each block's integer
// fields are random or extreme (fillPattern), its scales from randScale16
// and randScale32; the Q8_K bsums are random or ±32767/−32768.
func q5KQ8KRow(r *rand.Rand, nb int, special bool) (w, a []byte) {
	w, a = make([]byte, nb*176), make([]byte, nb*292)
	for i := 0; i < nb; i++ {
		x, y := w[i*176:(i+1)*176], a[i*292:(i+1)*292]
		fillPattern(r, x[4:16], false)  // scales
		fillPattern(r, x[16:48], false) // qh
		fillPattern(r, x[48:], false)   // qs
		putF16(x[0:], randScale16(r, special))
		putF16(x[2:], randScale16(r, special))
		fillPattern(r, y[4:260], true)
		for j := 0; j < 16; j++ {
			v := uint16(r.Uint32())
			switch r.IntN(6) {
			case 0:
				v = 0x7fff
			case 1:
				v = 0x8000
			}
			y[260+2*j], y[261+2*j] = byte(v), byte(v>>8)
		}
		putF32(y, randScale32(r, special))
	}
	return w, a
}

// q40Q80Row builds nb random Q4_0 and Q8_0 blocks the same way.
func q40Q80Row(r *rand.Rand, nb int, special bool) (w, a []byte) {
	w, a = make([]byte, nb*18), make([]byte, nb*34)
	for i := 0; i < nb; i++ {
		x, y := w[i*18:(i+1)*18], a[i*34:(i+1)*34]
		fillPattern(r, x[2:], false)
		fillPattern(r, y[2:], true)
		putF16(x, randScale16(r, special))
		putF16(y, randScale16(r, special))
	}
	return w, a
}

// TestQ5KQ40AssemblyMatchesGo compares the assembly dots with the Go ones
// bit for bit (NaN payloads aside) on rows of 0..40 blocks, with n also
// leaving a partial block that both must ignore.
func TestQ5KQ40AssemblyMatchesGo(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA/F16C")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for nb := 0; nb <= 40; nb++ {
		for trial := 0; trial < 24; trial++ {
			special := trial%4 == 3
			w, a := q5KQ8KRow(r, nb, special)
			n := nb*qkK + r.IntN(qkK)*(trial%2)
			if got, want := dotQ5_KQ8_KAVX2(n, w, a), dotQ5_KQ8_K(n, w, a); !sameFloat(got, want) {
				t.Fatalf("q5_K nb=%d trial %d: asm %g (%#08x), go %g (%#08x)",
					nb, trial, got, math.Float32bits(got), want, math.Float32bits(want))
			}
			w, a = q40Q80Row(r, nb, special)
			n = nb*qk + r.IntN(qk)*(trial%2)
			if got, want := dotQ4_0Q8_0AVX2(n, w, a), dotQ4_0Q8_0(n, w, a); !sameFloat(got, want) {
				t.Fatalf("q4_0 nb=%d trial %d: asm %g (%#08x), go %g (%#08x)",
					nb, trial, got, math.Float32bits(got), want, math.Float32bits(want))
			}
		}
	}
}

// TestQ5KQ40AssemblyQuantized compares the two on what the quantizers
// write, where the float sums are long and their order shows in the last
// bits.
func TestQ5KQ40AssemblyQuantized(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA/F16C")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 40; trial++ {
		n := qkK * (1 + r.IntN(24))
		for _, c := range []struct {
			wt, at   ggml.Type
			asm, ref func(int, []byte, []byte) float32
		}{
			{ggml.Q5_K, ggml.Q8_K, dotQ5_KQ8_KAVX2, dotQ5_KQ8_K},
			{ggml.Q4_0, ggml.Q8_0, dotQ4_0Q8_0AVX2, dotQ4_0Q8_0},
		} {
			w := make([]byte, rowSize(t, c.wt, n))
			a := make([]byte, rowSize(t, c.at, n))
			if err := Quantize(c.wt, randVec(r, n, trial), w); err != nil {
				t.Fatal(err)
			}
			if err := QuantizeRow(c.at, randVec(r, n, trial+1), a); err != nil {
				t.Fatal(err)
			}
			if got, want := c.asm(n, w, a), c.ref(n, w, a); !sameFloat(got, want) {
				t.Fatalf("%s n=%d: asm %g, go %g", c.wt, n, got, want)
			}
		}
	}
}

// TestQ5KQ40AssemblyInstalled checks that the kernel table hands out the
// assembly, so VecDot and the matmuls run what the tests above compare.
func TestQ5KQ40AssemblyInstalled(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA/F16C")
	}
	for _, c := range []struct {
		typ ggml.Type
		asm func(int, []byte, []byte) float32
	}{{ggml.Q5_K, dotQ5_KQ8_KAVX2}, {ggml.Q4_0, dotQ4_0Q8_0AVX2}} {
		if reflect.ValueOf(lookup(c.typ).dot).Pointer() != reflect.ValueOf(c.asm).Pointer() {
			t.Errorf("%s: kernel table's dot is not the assembly", c.typ)
		}
	}
}

// TestQ5KQ40AssemblyBounds checks that the wrappers panic on short input
// instead of letting the assembly read past a slice.
func TestQ5KQ40AssemblyBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	w5, a5 := q5KQ8KRow(r, 3, false)
	w4, a4 := q40Q80Row(r, 3, false)
	for name, f := range map[string]func(){
		"q5_K w": func() { dotQ5_KQ8_KAVX2(3*qkK, w5[:len(w5)-1], a5) },
		"q5_K a": func() { dotQ5_KQ8_KAVX2(3*qkK, w5, a5[:len(a5)-1]) },
		"q4_0 w": func() { dotQ4_0Q8_0AVX2(3*qk, w4[:len(w4)-1], a4) },
		"q4_0 a": func() { dotQ4_0Q8_0AVX2(3*qk, w4, a4[:len(a4)-1]) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s one byte short: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkQ5KQ40Dot compares the Go and assembly dots on one row of
// benchN quantized values; SetBytes counts the weight bytes.
func BenchmarkQ5KQ40Dot(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		wt, at   ggml.Type
		asm, ref func(int, []byte, []byte) float32
	}{
		{ggml.Q5_K, ggml.Q8_K, dotQ5_KQ8_KAVX2, dotQ5_KQ8_K},
		{ggml.Q4_0, ggml.Q8_0, dotQ4_0Q8_0AVX2, dotQ4_0Q8_0},
	} {
		w := make([]byte, rowSize(b, c.wt, benchN))
		a := make([]byte, rowSize(b, c.at, benchN))
		Quantize(c.wt, randVec(r, benchN, 0), w)
		QuantizeRow(c.at, randVec(r, benchN, 0), a)
		for _, impl := range []struct {
			name string
			dot  func(int, []byte, []byte) float32
		}{{"go", c.ref}, {"asm", c.asm}} {
			b.Run(c.wt.String()+"/"+impl.name, func(b *testing.B) {
				if impl.name == "asm" && !hasAVX2 {
					b.Skip("no AVX2/FMA/F16C")
				}
				b.SetBytes(int64(len(w)))
				for b.Loop() {
					impl.dot(benchN, w, a)
				}
				b.ReportMetric(float64(len(w))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
