//go:build !noasm

package quant

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// activationQuantizers pairs each assembly activation quantizer with its
// Go twin, the reference.
var activationQuantizers = []struct {
	typ       ggml.Type
	bs, size  int // values and bytes per block
	asm, goFn func([]float32, []byte)
}{
	{ggml.Q8_K, qkK, 292, fromFloatQ8_KAVX2, fromFloatQ8_K},
	{ggml.Q8_0, qk, 34, fromFloatQ8_0AVX2, fromFloatQ8_0},
}

// blockKinds names the shapes fillQuantBlock draws; a failure message says
// which shape the offending block had.
var blockKinds = []string{
	"wide", "huge", "tiny", "subnormal", "any exponent", "ties", "±amax",
	"signed zeros", "NaNs and zeros", "specials", "lone value", "±Inf", "fp16 ties",
}

// fillQuantBlock fills x (one block) with values of the given kind.
func fillQuantBlock(r *rand.Rand, x []float32, kind int) {
	sign := func(v float32) float32 {
		if r.IntN(2) == 0 {
			return -v
		}
		return v
	}
	exp := func(lo, hi int) float64 { return math.Ldexp(1, lo+r.IntN(hi-lo+1)) }
	for i := range x {
		x[i] = float32(r.NormFloat64() * math.Exp(2*r.NormFloat64()))
	}
	switch blockKinds[kind] {
	case "wide": // as drawn
	case "huge": // products near the top of the float32 range
		for i := range x {
			x[i] = sign(float32((0.5 + r.Float64()/2) * math.MaxFloat32))
		}
	case "tiny": // max below 127/MaxFloat32: iscale overflows to ∓Inf
		for i := range x {
			x[i] = sign(float32((1 + r.Float64()) * exp(-126, -123)))
		}
	case "subnormal":
		for i := range x {
			x[i] = sign(math.Float32frombits(r.Uint32N(0x800000)))
		}
	case "any exponent":
		for i := range x {
			x[i] = sign(float32((1 + r.Float64()) * exp(-149, 127)))
		}
	case "ties":
		// With |max| = 127·s for a power of two s, iscale (Q8_K) and id
		// (Q8_0) are ±1/s exactly, so (k+½)·s scales to exactly k+½: each
		// value is a tie, half of them with k even.
		s := float32(exp(-100, 100))
		for i := range x {
			x[i] = float32(r.IntN(254)-127) + 0.5
			x[i] *= s
		}
		x[r.IntN(len(x))] = sign(127 * s)
	case "±amax": // +a and -a both present: the first one sets max
		a := float32(math.Abs(r.NormFloat64())*4 + 30)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for k := 2 + r.IntN(3); k > 0; k-- {
			x[r.IntN(len(x))] = sign(a)
		}
	case "signed zeros":
		for i := range x {
			x[i] = sign(0)
		}
	case "NaNs and zeros": // Q8_K: amax stays 0; Q8_0: which NaN wins
		for i := range x {
			x[i] = sign(0)
			if r.IntN(2) == 0 {
				x[i] = math.Float32frombits(0x7f800001 | r.Uint32()&0x807fffff)
			}
		}
	case "specials":
		for i := range x {
			if r.IntN(8) == 0 {
				x[i] = math.Float32frombits(specialF32[r.IntN(len(specialF32))])
			}
		}
	case "lone value":
		for i := range x {
			x[i] = sign(0)
		}
		x[r.IntN(len(x))] = sign(math.Float32frombits(r.Uint32N(0x7f800000)))
	case "±Inf":
		for k := 1 + r.IntN(3); k > 0; k-- {
			x[r.IntN(len(x))] = sign(float32(math.Inf(1)))
		}
	case "fp16 ties":
		// amax = 127·h with h halfway between two fp16 values (normal or
		// subnormal), so d = amax/127 = h exactly and its fp16 rounding
		// is a tie.
		h := float32(2*(1024+r.IntN(1024))+1) * float32(exp(-36, 4))
		for i := range x {
			x[i] = float32(r.Float64()) * 127 * h
		}
		x[r.IntN(len(x))] = sign(127 * h)
	}
}

// TestActivationQuantizerAssemblyMatchesGo compares the assembly Q8_K and
// Q8_0 quantizers with their Go twins byte for byte, NaN payloads
// included, on rows of 0..12 blocks mixing every block kind, with a tail of
// extra values both must ignore and guard bytes both must leave alone.
func TestActivationQuantizerAssemblyMatchesGo(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA/F16C")
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, q := range activationQuantizers {
		for iter := 0; iter < 600; iter++ {
			nb := iter % 13
			tail := 0
			if iter%5 == 4 {
				tail = 1 + r.IntN(q.bs-1)
			}
			src := make([]float32, nb*q.bs+tail)
			kinds := make([]int, nb)
			for b := range kinds {
				kinds[b] = (iter + 7*b) % len(blockKinds)
				fillQuantBlock(r, src[b*q.bs:(b+1)*q.bs], kinds[b])
			}
			got := make([]byte, nb*q.size+9)
			for i := range got {
				got[i] = byte(r.Uint32())
			}
			want := bytes.Clone(got)
			q.asm(src, got)
			q.goFn(src, want)
			if bytes.Equal(got, want) {
				continue
			}
			for b := 0; b*q.size < len(got); b++ {
				end := min((b+1)*q.size, len(got))
				if g, w := got[b*q.size:end], want[b*q.size:end]; !bytes.Equal(g, w) {
					if b == nb {
						t.Fatalf("%s, %d blocks: wrote past the end: % x, want % x", q.typ, nb, g, w)
					}
					i := 0
					for g[i] == w[i] {
						i++
					}
					t.Fatalf("%s, iter %d, block %d (%s): byte %d is %#02x, Go %#02x\nblock % x\nGo    % x",
						q.typ, iter, b, blockKinds[kinds[b]], i, g[i], w[i], g, w)
				}
			}
		}
	}
}

// TestActivationQuantizerFirstOfTies pins the one Q8_K rule a random test
// could miss by chance: when +a and -a are both of largest magnitude, the
// first decides the sign of d (and of every quant).
func TestActivationQuantizerFirstOfTies(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA/F16C")
	}
	for _, first := range []float32{3, -3} {
		for _, pos := range []int{0, 7, 8, 100, 252} {
			x := make([]float32, qkK)
			for i := range x {
				x[i] = float32(i%5) - 2
			}
			x[pos], x[pos+1+(pos%3)] = first, -first
			got, want := make([]byte, 292), make([]byte, 292)
			fromFloatQ8_KAVX2(x, got)
			fromFloatQ8_K(x, want)
			if !bytes.Equal(got, want) {
				t.Errorf("max %g at %d: % x\nGo % x", first, pos, got, want)
			}
			if d := f32(got[0:]); (d < 0) != (first > 0) {
				t.Errorf("max %g at %d: d = %g, want the sign of -max", first, pos, d)
			}
		}
	}
}

// TestActivationQuantizerShortDst checks that the wrappers bounds-check
// before the assembly writes: a destination one byte short panics and
// stays untouched.
func TestActivationQuantizerShortDst(t *testing.T) {
	for _, q := range activationQuantizers {
		src := make([]float32, 3*q.bs)
		for i := range src {
			src[i] = float32(i) + 1
		}
		dst := make([]byte, 3*q.size-1)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic for a short destination", q.typ)
				}
			}()
			q.asm(src, dst)
		}()
		if !bytes.Equal(dst, make([]byte, len(dst))) {
			t.Errorf("%s: short destination was written", q.typ)
		}
	}
}

// TestActivationQuantizerDispatch checks that QuantizeRow runs the
// assembly on a CPU that has it.
func TestActivationQuantizerDispatch(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA/F16C")
	}
	ptr := func(f any) uintptr { return reflect.ValueOf(f).Pointer() }
	for _, q := range activationQuantizers {
		if ptr(lookup(q.typ).fromFloat) != ptr(q.asm) {
			t.Errorf("%s activation quantizer is not the assembly twin", q.typ)
		}
	}
}

// BenchmarkActivationQuantizer reports MB/s of float32 input for the Go
// and assembly Q8_K and Q8_0 quantizers on a 4096-value row.
func BenchmarkActivationQuantizer(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := randVec(r, benchN, 0)
	for _, q := range activationQuantizers {
		dst := make([]byte, benchN/q.bs*q.size)
		for _, impl := range []struct {
			name string
			fn   func([]float32, []byte)
		}{{"go", q.goFn}, {"asm", q.asm}} {
			b.Run(q.typ.String()+"/"+impl.name, func(b *testing.B) {
				if impl.name == "asm" && !hasAVX2 {
					b.Skip("no AVX2/FMA/F16C")
				}
				b.SetBytes(4 * benchN)
				for b.Loop() {
					impl.fn(x, dst)
				}
			})
		}
	}
}
