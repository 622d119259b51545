package quant

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// x86Golden holds ggml's own results for x86Cases: llama.cpp 3f545bec's
// ggml built with CMake Release, GGML_NATIVE=ON (GCC 12, -march=native on
// an AVX-512 CPU with FMA/F16C/VNNI, plus -mno-avx512fp16 because the
// recording CPU had no AVX512-FP16: with it ggml_vec_dot_f16 accumulates
// in fp16), GGML_LLAMAFILE=ON, one ggml_mul_mat
// on the CPU backend with 2 threads, the weights in the CPU_REPACK buffer
// for the KernelX86AVX512 Q4_K cases and in the plain CPU buffer
// otherwise. The inputs are x86Case.inputs.
const x86Golden = "testdata/x86_matmul_golden.txt"

type x86Case struct {
	typ              ggml.Type
	rows, cols, toks int
	kernel           Kernel
}

// x86Cases cover every branch Kernel.plan takes for KernelX86AVX512:
// tinyBLAS and the vec_dot fallbacks (cols%16, rows%4, one row), the f32
// leftover loop (groups of 8 and the contracted tail), the Q4_K GEMV, the
// 4-row and 16-row GEMM groups and 16- and 8-column tiles, unrepacked
// Q4_K, Q6_K and Q8_0 for one and several rows.
var x86Cases = []x86Case{
	{ggml.F32, 12, 192, 1, KernelX86AVX512},
	{ggml.F32, 12, 215, 1, KernelX86AVX512},
	{ggml.F32, 12, 200, 3, KernelX86AVX512},
	{ggml.F32, 12, 256, 3, KernelX86AVX512},
	{ggml.F32, 10, 256, 3, KernelX86AVX512},
	{ggml.F32, 20, 64, 7, KernelX86AVX512},
	{ggml.F16, 12, 215, 1, KernelX86AVX512},
	{ggml.F16, 12, 256, 3, KernelX86AVX512},
	{ggml.F16, 10, 256, 3, KernelX86AVX512},
	{ggml.Q8_0, 8, 256, 1, KernelX86AVX512},
	{ggml.Q8_0, 9, 256, 5, KernelX86AVX512},
	{ggml.Q4_K, 16, 512, 1, KernelX86AVX512},
	{ggml.Q4_K, 24, 512, 7, KernelX86AVX512},
	{ggml.Q4_K, 24, 256, 21, KernelX86AVX512},
	{ggml.Q4_K, 12, 512, 3, KernelX86AVX512},
	{ggml.Q4_K, 16, 512, 5, KernelX86AVX512NoRepack},
	{ggml.Q6_K, 8, 512, 1, KernelX86AVX512},
	{ggml.Q6_K, 8, 512, 3, KernelX86AVX512},
}

func (c x86Case) key() string {
	return strings.Join([]string{c.typ.String(), strconv.Itoa(c.rows), strconv.Itoa(c.cols), strconv.Itoa(c.toks), c.kernel.String()}, " ")
}

// inputs builds the case's weights and activations from a splitmix64
// stream: values uniform in (−1, 1), one weight row in three scaled by 8 and
// one activation row in two by 1/16 so blocks of different magnitude meet;
// quantized weights go through Quantize. Activation row 1 starts with −m
// and holds +m 3/8 of the way in, m its largest magnitude: on that tie
// ggml_quantize_mat_q8_K_4x8 (the repacked GEMM's quantizer) picks the
// other sign than quantize_row_q8_K_ref, which must not change a result.
func (c x86Case) inputs() ([]byte, []float32) {
	s := uint64(c.rows)<<40 ^ uint64(c.cols)<<20 ^ uint64(c.toks)<<8 ^ uint64(c.typ)
	next := func() float32 {
		s += 0x9e3779b97f4a7c15
		z := s
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		return float32(int64(z>>40)-1<<23) / (1 << 23)
	}
	wf := make([]float32, c.rows*c.cols)
	for i := range wf {
		wf[i] = next()
		if i/c.cols%3 == 1 {
			wf[i] *= 8
		}
	}
	x := make([]float32, c.toks*c.cols)
	for i := range x {
		x[i] = next()
		if i/c.cols%2 == 1 {
			x[i] /= 16
		}
	}
	if c.toks > 1 {
		r := x[c.cols : 2*c.cols]
		r[0], r[c.cols*3/8] = -0.25, 0.25
	}
	w := make([]byte, c.rows*c.cols/c.typ.BlockSize()*c.typ.TypeSize())
	if err := Quantize(c.typ, wf, w); err != nil {
		panic(err)
	}
	return w, x
}

func readX86Golden(t *testing.T) map[string][]uint32 {
	t.Helper()
	f, err := os.Open(x86Golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	golden := map[string][]uint32{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		key, vals, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("%s: malformed line %.40q", x86Golden, line)
		}
		for _, h := range strings.Fields(vals) {
			v, err := strconv.ParseUint(h, 16, 32)
			if err != nil {
				t.Fatalf("%s: %s: %v", x86Golden, key, err)
			}
			golden[key] = append(golden[key], uint32(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return golden
}

// TestX86KernelMatchesGGML requires KernelX86AVX512 to reproduce ggml's
// compiled x86 kernels bit for bit, with 1 and 3 goroutines, and checks
// that the cases do tell the orders apart: the generic order must differ
// from ggml somewhere.
func TestX86KernelMatchesGGML(t *testing.T) {
	golden := readX86Golden(t)
	genericDiffers := 0
	for _, c := range x86Cases {
		want, ok := golden[c.key()]
		if !ok {
			t.Errorf("%s: not in %s", c.key(), x86Golden)
			continue
		}
		w, x := c.inputs()
		if len(want) != c.rows*c.toks {
			t.Fatalf("%s: %d golden values, want %d", c.key(), len(want), c.rows*c.toks)
		}
		got := make([]float32, c.rows*c.toks)
		for _, threads := range []int{1, 3} {
			if err := c.kernel.MatMul(got, w, c.typ, c.rows, c.cols, x, c.toks, threads); err != nil {
				t.Fatal(err)
			}
			for i, g := range got {
				if math.Float32bits(g) != want[i] {
					t.Errorf("%s, %d threads: output %d (token %d, row %d) = %g, ggml %g", c.key(), threads, i, i/c.rows, i%c.rows, g, math.Float32frombits(want[i]))
					break
				}
			}
		}
		if err := KernelGeneric.MatMul(got, w, c.typ, c.rows, c.cols, x, c.toks, 1); err != nil {
			t.Fatal(err)
		}
		for i, g := range got {
			if math.Float32bits(g) != want[i] {
				genericDiffers++
				break
			}
		}
	}
	if genericDiffers == 0 {
		t.Error("the generic order matches ggml's x86 kernels on every case; the cases cannot tell orders apart")
	}
}

// TestVecDotF32 checks the float-slice entry against dotF32Vec on the same
// values written as little-endian rows, bit for bit, for lengths around
// the 64-element steps and the 8- and 16-element leftovers.
func TestVecDotF32(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for n := 0; n < 200; n++ {
		x, y := make([]float32, n), make([]float32, n)
		xb, yb := make([]byte, 4*n), make([]byte, 4*n)
		for i := range x {
			x[i], y[i] = float32(r.NormFloat64()), float32(r.NormFloat64()*1e3)
			putF32(xb[4*i:], x[i])
			putF32(yb[4*i:], y[i])
		}
		if got, want := VecDotF32(x, y), dotF32Vec(n, xb, yb); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("n=%d: VecDotF32 %g, dotF32Vec %g", n, got, want)
		}
	}
}
