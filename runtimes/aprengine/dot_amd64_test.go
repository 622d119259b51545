//go:build !noasm

package aprengine

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/layerwise/parity/runtimes/fp32"
)

// isaKernels lists the assembly kernel sets this CPU can run with their
// row count.
func isaKernels() map[string]struct {
	rows    int
	kernels []blockKernel
} {
	m := map[string]struct {
		rows    int
		kernels []blockKernel
	}{}
	if cpu.X86.HasAVX512F {
		m["avx512"] = struct {
			rows    int
			kernels []blockKernel
		}{4, avx512Kernels[:]}
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		m["avx2"] = struct {
			rows    int
			kernels []blockKernel
		}{2, avx2Kernels[:]}
	}
	return m
}

// TestDotBlockAssemblyMatchesGo runs every assembly kernel on random
// blocks (random strides, group counts 0..5, starting lanes that are not
// zero) and checks each output lane against accumulate, bit for bit, on
// plain data and on data holding zeros, subnormals, huge values,
// infinities and NaNs.
func TestDotBlockAssemblyMatchesGo(t *testing.T) {
	sets := isaKernels()
	if len(sets) == 0 {
		t.Skip("no AVX2+FMA or AVX-512")
	}
	r := rand.New(rand.NewPCG(5, 6))
	val := func(iter int) float32 {
		if iter%3 == 0 && r.IntN(8) == 0 {
			return special[r.IntN(len(special))]
		}
		return float32(r.NormFloat64() * math.Exp(3*r.NormFloat64()))
	}
	for name, set := range sets {
		for nt := 1; nt <= len(set.kernels); nt++ {
			for iter := 0; iter < 200; iter++ {
				n16 := iter % 6
				wStride, xStride := 16*n16+r.IntN(5), 16*n16+r.IntN(5)
				w := make([]float32, set.rows*wStride+16)
				x := make([]float32, nt*xStride+16)
				for i := range w {
					w[i] = val(iter)
				}
				for i := range x {
					x[i] = val(iter)
				}
				acc := make([]lanes, set.rows*nt)
				for i := range acc {
					for j := range acc[i] {
						acc[i][j] = val(iter + 1)
					}
				}
				want := append([]lanes(nil), acc...)
				for tk := 0; tk < nt; tk++ {
					for row := 0; row < set.rows; row++ {
						accumulate(&want[tk*set.rows+row], w[row*wStride:row*wStride+16*n16], x[tk*xStride:])
					}
				}
				if n16 > 0 {
					set.kernels[nt-1](&w[0], wStride, &x[0], xStride, n16, &acc[0])
				}
				for i := range acc {
					for j := range acc[i] {
						if !sameBits(acc[i][j], want[i][j]) {
							t.Fatalf("%s %d tokens, %d groups: output %d lane %d = %g (%#x), Go %g (%#x)", name, nt, n16, i, j,
								acc[i][j], math.Float32bits(acc[i][j]), want[i][j], math.Float32bits(want[i][j]))
						}
					}
				}
			}
		}
	}
}

// TestFMA32MatchesHardware feeds fp32.FMA's hardest cases and a million
// random triples through the one-token kernel (each lane one hardware
// FMA: lane j of output 0 becomes fma(w[j], x[j], acc[j])) and compares.
func TestFMA32MatchesHardware(t *testing.T) {
	sets := isaKernels()
	if len(sets) == 0 {
		t.Skip("no AVX2+FMA or AVX-512")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for name, set := range sets {
		for iter := 0; iter < 1<<16; iter++ {
			w := make([]float32, 16*set.rows)
			x := make([]float32, 16)
			acc := make([]lanes, set.rows)
			for j := 0; j < 16; j++ {
				a, b, c := fmaCase(r, iter*16+j)
				w[j], x[j], acc[0][j] = a, b, c
			}
			want := make([]float32, 16)
			for j := range want {
				want[j] = fp32.FMA(w[j], x[j], acc[0][j])
			}
			set.kernels[0](&w[0], 16, &x[0], 16, 1, &acc[0])
			for j, g := range acc[0][:] {
				if !sameBits(g, want[j]) {
					t.Fatalf("%s: fma(%g, %g, c) = %g (%#x) in hardware, fp32.FMA %g (%#x)", name, w[j], x[j], g, math.Float32bits(g), want[j], math.Float32bits(want[j]))
				}
			}
		}
	}
}

// BenchmarkDotKernels times the assembly block kernels on rows of 512
// (one column chunk; GFLOP/s: a multiply and an add per weight and token).
func BenchmarkDotKernels(b *testing.B) {
	const n = colChunk
	r := rand.New(rand.NewPCG(1, 2))
	for name, set := range isaKernels() {
		for nt := 1; nt <= len(set.kernels); nt++ {
			b.Run(fmt.Sprintf("%s-%dx%d", name, set.rows, nt), func(b *testing.B) {
				w := make([]float32, set.rows*n)
				x := make([]float32, nt*n)
				for i := range w {
					w[i] = float32(r.NormFloat64())
				}
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				acc := make([]lanes, set.rows*nt)
				for b.Loop() {
					set.kernels[nt-1](&w[0], n, &x[0], n, n/16, &acc[0])
				}
				b.ReportMetric(2*float64(set.rows*nt*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestGeneratedAssemblyIsCurrent regenerates dot_amd64.s and compares:
// an edit to gen_dot.go without `go generate` fails here.
func TestGeneratedAssemblyIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	out := filepath.Join(t.TempDir(), "dot.s")
	cmd := exec.Command("go", "run", "gen_dot.go", "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot run the generator here: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("dot_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("dot_amd64.s is not what gen_dot.go generates: run go generate in runtimes/aprengine")
	}
}
