package ggufengine

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/layerwise/parity/runtimes/llamacpp"
	"github.com/layerwise/parity/runtimes/model"
)

// TestMatMulsMatchLlamaCppBitForBit feeds every matmul of the forward pass
// the input llama.cpp recorded in the exact-mode dumps (attn_norm for
// q/k/v, kqv_out for o_proj, ffn_norm for gate/up, ffn_swiglu for down,
// result_norm for the LM head) and requires llama.cpp's recorded MUL_MAT
// output bit for bit, at every layer and step: the prompt step runs the
// batched kernels (llamafile's tinyBLAS, the repacked Q4_K GEMM), the decode
// steps the single-row ones (ggml_vec_dot_*, the Q4_K GEMV). With 1 and 3
// threads, since the order must not depend on the split.
func TestMatMulsMatchLlamaCppBitForBit(t *testing.T) {
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
			for _, threads := range []int{1, 3} {
				e, err := New(w, Options{Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				checkMatMuls(&opsCase{t, d}, e)
			}
		})
	}
}

func checkMatMuls(oc *opsCase, e *Engine) {
	for step := 0; step < oc.d.Steps(); step++ {
		check := func(w matrix, in, out, inOp string) {
			if _, ok := oc.d.Find(step, out, []string{"MUL_MAT"}); !ok {
				return // qwen2/qwen3 name no attn_out node
			}
			x := oc.load(step, in, inOp)
			ref := oc.load(step, out, "MUL_MAT")
			T := len(x) / w.cols
			got := make([]float32, T*w.rows)
			if err := e.matmul(got, w, x, T); err != nil {
				oc.t.Fatal(err)
			}
			oc.same(fmt.Sprintf("step %d %s (%s %d×%d, %d rows, %d threads)", step, out, w.typ, w.rows, w.cols, T, e.opts.Threads), ref, got)
		}
		for l := range e.layers {
			lw := &e.layers[l]
			name := func(base string) string { return fmt.Sprintf("%s-%d", base, l) }
			check(lw.wq, name("attn_norm"), name("Qcur"), "MUL")
			check(lw.wk, name("attn_norm"), name("Kcur"), "MUL")
			check(lw.wv, name("attn_norm"), name("Vcur"), "MUL")
			check(lw.wo, name("kqv_out"), name("attn_out"), "CONT")
			check(lw.wGate, name("ffn_norm"), name("ffn_gate"), "MUL")
			check(lw.wUp, name("ffn_norm"), name("ffn_up"), "MUL")
			check(lw.wDown, name("ffn_swiglu"), name("ffn_out"), "SWIGLU")
		}
		check(e.lmHead, "result_norm", "result_output", "MUL")
	}
}
