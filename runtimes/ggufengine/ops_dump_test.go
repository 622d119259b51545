package ggufengine

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/layerwise/parity/runtimes/llamacpp"
	"github.com/layerwise/parity/runtimes/model"
)

// dumpDir is ../shared/llamacpp relative to the repository root.
var dumpDir = filepath.Join("..", "..", "..", "shared", "llamacpp")

// opsCase walks one exact-mode dump: it loads recorded tensors and checks
// that an engine operation fed llama.cpp's own inputs returns llama.cpp's
// own outputs bit for bit.
type opsCase struct {
	t *testing.T
	d *llamacpp.Dump
}

func (oc *opsCase) load(step int, name, op string) []float32 {
	oc.t.Helper()
	e, ok := oc.d.Find(step, name, []string{op})
	if !ok {
		oc.t.Fatalf("step %d: no %s %s in the dump", step, name, op)
	}
	x, err := oc.d.Load(e)
	if err != nil {
		oc.t.Fatal(err)
	}
	return x
}

// same fails unless got and ref are bitwise identical.
func (oc *opsCase) same(what string, ref, got []float32) {
	oc.t.Helper()
	if len(ref) != len(got) {
		oc.t.Errorf("%s: %d values, llama.cpp has %d", what, len(got), len(ref))
		return
	}
	n, first := 0, -1
	for i := range ref {
		if math.Float32bits(ref[i]) != math.Float32bits(got[i]) {
			if n == 0 {
				first = i
			}
			n++
		}
	}
	if n > 0 {
		oc.t.Errorf("%s: %d of %d values differ from llama.cpp; first at %d: %.9g, llama.cpp %.9g", what, n, len(ref), first, got[first], ref[first])
	}
}

func dumpModel(t *testing.T, dir string) string {
	t.Helper()
	about, err := os.ReadFile(filepath.Join(dir, "ABOUT.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`model=(\S+)`).FindSubmatch(about)
	if m == nil {
		t.Fatalf("%s: no model= in ABOUT.txt", dir)
	}
	models := filepath.Join(dumpDir, "..", "models")
	for _, p := range []string{filepath.Join(models, string(m[1])), filepath.Join(models, "derived", string(m[1]))} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s: model %s not found under %s", dir, m[1], models)
	return ""
}

// TestOpsMatchLlamaCppBitForBit feeds every operation of the forward pass
// except the matmuls the inputs llama.cpp recorded in the exact-mode dumps
// and requires llama.cpp's recorded outputs exactly: RMSNorm·weight, the
// q/k/v biases, qwen3's per-head q/k norms, RoPE, the whole attention
// (Q·K, softmax, ·V), SwiGLU and the residual add, at every layer and step.
// The matmuls are runtimes/quant's business and are not checked here.
func TestOpsMatchLlamaCppBitForBit(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(dumpDir, "*-exact"))
	if len(dirs) == 0 {
		t.Fatalf("no exact dumps under %s", dumpDir)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			d, err := llamacpp.ReadDump(dir)
			if err != nil {
				t.Fatal(err)
			}
			w, err := model.OpenGGUF(dumpModel(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			e, err := New(w, Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			checkOps(&opsCase{t, d}, e)
		})
	}
}

func checkOps(oc *opsCase, e *Engine) {
	c := e.cfg
	hd := c.HeadDim
	scale := 1 / float32(math.Sqrt(float64(float32(hd))))
	kc := make([][]float32, c.NLayer) // per layer: K and V as llama.cpp cached them
	vc := make([][]float32, c.NLayer)
	pos0 := 0
	for step := 0; step < oc.d.Steps(); step++ {
		x := oc.load(step, "embd", "GET_ROWS")
		T := len(x) / c.NEmbd
		for l := range e.layers {
			lw := &e.layers[l]
			name := func(base string) string { return fmt.Sprintf("%s-%d", base, l) }
			where := func(what string) string { return fmt.Sprintf("step %d layer %d %s", step, l, what) }
			if l > 0 {
				x = oc.load(step, fmt.Sprintf("l_out-%d", l-1), "ADD")
			}
			got := make([]float32, len(x))
			rmsNormMul(got, x, lw.attnNorm, c.NEmbd, c.RMSEps)
			oc.same(where("attn_norm"), oc.load(step, name("attn_norm"), "MUL"), got)

			for _, p := range []struct {
				base       string
				bias, norm []float32
			}{{"Qcur", lw.qBias, lw.qNorm}, {"Kcur", lw.kBias, lw.kNorm}} {
				in := oc.load(step, name(p.base), "MUL_MAT")
				if p.bias != nil {
					in = append([]float32(nil), in...)
					addBias(in, p.bias)
					oc.same(where(p.base+" bias"), oc.load(step, name(p.base), "ADD"), in)
				}
				if p.norm != nil {
					in = append([]float32(nil), in...)
					rmsNormMul(in, in, p.norm, hd, c.RMSEps)
					oc.same(where(p.base+"_normed"), oc.load(step, name(p.base+"_normed"), "MUL"), in)
				}
				rope := make([]float32, hd)
				r := append([]float32(nil), in...)
				heads := len(r) / (T * hd)
				for tt := 0; tt < T; tt++ {
					ropeCache(rope, pos0+tt, ropeThetaScale(c.RopeBase, c.RopeDim), c.RopeScale)
					for h := 0; h < heads; h++ {
						o := (tt*heads + h) * hd
						ropeHead(r[o:o+hd], rope, c.RopeDim, c.Arch.Rope == model.RopeNeox)
					}
				}
				oc.same(where(p.base+" rope"), oc.load(step, name(p.base), "ROPE"), r)
			}
			if lw.vBias != nil {
				v := append([]float32(nil), oc.load(step, name("Vcur"), "MUL_MAT")...)
				addBias(v, lw.vBias)
				oc.same(where("Vcur bias"), oc.load(step, name("Vcur"), "ADD"), v)
			}

			// Attention over llama.cpp's own Q, K cache and V cache.
			kc[l] = append(kc[l], oc.load(step, name("Kcur")+" (view)", "VIEW")...)
			vc[l] = append(vc[l], oc.load(step, name("Vcur")+" (reshaped)", "RESHAPE")...)
			ctx := make([]float32, T*c.QDim())
			attend(ctx, oc.load(step, name("Qcur"), "ROPE"), kc[l], vc[l], T, pos0, c.NHead, c.NHeadKV, hd, scale, false, false, nil)
			oc.same(where("attention"), oc.load(step, name("kqv_out"), "CONT"), ctx)

			ffnInp := oc.load(step, name("ffn_inp"), "ADD")
			rmsNormMul(got, ffnInp, lw.ffnNorm, c.NEmbd, c.RMSEps)
			oc.same(where("ffn_norm"), oc.load(step, name("ffn_norm"), "MUL"), got)

			g := append([]float32(nil), oc.load(step, name("ffn_gate"), "MUL_MAT")...)
			siluRows(g, c.NFF)
			for i, u := range oc.load(step, name("ffn_up"), "MUL_MAT") {
				g[i] *= u
			}
			oc.same(where("swiglu"), oc.load(step, name("ffn_swiglu"), "SWIGLU"), g)

			for i, v := range oc.load(step, name("ffn_out"), "MUL_MAT") {
				got[i] = ffnInp[i] + v
			}
			oc.same(where("residual"), oc.load(step, name("l_out"), "ADD"), got)
		}
		pos0 += T
	}
}
