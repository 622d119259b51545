package selftest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/llamacpp"
)

// TestEvalCallbackTextAgainstGGUFEngine parses stock llama-eval-callback
// output (llama.cpp defaults: flash attention, f16 KV cache, prompt
// "Hello world! The quick") and checks every printed element against the
// GGUF engine's full tensors of the same tokens, the engine in the same
// default mode (--kv-type f16 --flash-attn). The diff judges the printed
// values at print precision (%.4f) plus the budget's spread, and every
// printed element of every slot must equal ours to the printed 4 decimals.
func TestEvalCallbackTextAgainstGGUFEngine(t *testing.T) {
	for _, name := range []string{"tiny-qwen2-bpe-f32", "tiny-qwen2-bpe-Q4_K_M"} {
		f, err := os.Open(filepath.Join(shared, "llamacpp", "eval-callback", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		text, err := llamacpp.ParseText(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		rt, err := runtimes.Open(sharedModel(t, name+".gguf"), "gguf", runtimes.Options{Threads: 2, KVType: ggml.F16, FlashAttn: true})
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close()
		tok, _ := rt.Tokenizer()
		prompt, err := tok.Encode("Hello world! The quick", true, true)
		if err != nil {
			t.Fatal(err)
		}
		info := rt.Model()
		rec, _ := probes.NewRecorder(probes.Policy{})
		if _, err := text.Capture(rec, info.Arch, info.Dims, len(prompt)); err != nil {
			t.Fatal(err)
		}
		h := probes.Header{Runtime: "llama.cpp", Engine: "llamacpp-text", Model: info}
		h.SetTokens(prompt, len(prompt))
		ref, err := rec.Trace(h)
		if err != nil {
			t.Fatal(err)
		}
		ours := trace(t, rt, prompt, 0, nil)
		r, err := diff.Diff(ref, ours, diff.Options{Profile: diff.ProfileQuant})
		if err != nil {
			t.Fatal(err)
		}
		known, within := 0, 0
		bySlot := map[string][2]int{}
		ix := ours.Index()
		for _, rr := range ref.Records {
			o := ix[rr.Key()]
			if o == nil || !rr.Partial {
				continue
			}
			for _, k := range rr.Known {
				// Map the flat index over the text record's positions to ours.
				row, col := int(k.Index)/rr.PerToken, int(k.Index)%rr.PerToken
				pos := rr.Positions[row]
				i := slicesIndex(o.Positions, pos)
				if i < 0 {
					continue
				}
				known++
				c := bySlot[rr.Key().String()]
				c[1]++
				if d := float64(o.Full[i*o.PerToken+col] - k.Value); d <= 5e-5+1e-7 && d >= -5e-5-1e-7 {
					within++
					c[0]++
				}
				bySlot[rr.Key().String()] = c
			}
		}
		// The engine reproduces the default mode's arithmetic, flash
		// attention included, so every printed element must agree.
		for s, c := range bySlot {
			if c[0] != c[1] {
				t.Errorf("%s %s: %d of %d printed elements agree to 4 decimals", name, s, c[0], c[1])
			}
		}
		if r.Verdict != diff.Pass || known == 0 {
			t.Errorf("%s: %s %+v, first %+v, %d printed elements", name, r.Verdict, r.Counts, r.First, known)
		}
		t.Logf("%s: %d partial records in %d slots, %s; %d of %d printed elements equal ours to the printed 4 decimals",
			name, len(ref.Records), len(bySlot), r.Verdict, within, known)
	}
}

func slicesIndex(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
