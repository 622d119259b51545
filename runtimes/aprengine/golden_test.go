package aprengine_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/layerwise/parity/runtimes"
)

// TestGreedyMatchesGolden generates greedily from stories260K (f32) with
// the engine's own argmax at every step (no teacher forcing) and wants
// llama.cpp's 32 greedy tokens. The golden was recorded with llama.cpp's
// default f16 KV cache, but its smallest top1−top2 margin (0.13) is far
// above that cache's effect on an f32 model's logits (≈3e-2 at most).
func TestGreedyMatchesGolden(t *testing.T) {
	var g struct {
		Prompt       string  `json:"prompt"`
		PromptTokens []int32 `json:"prompt_tokens"`
		Greedy       []int32 `json:"greedy_tokens"`
	}
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "models", "golden", "stories260K.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Greedy) != 32 {
		t.Fatalf("golden has %d greedy tokens, want 32", len(g.Greedy))
	}
	rt, err := runtimes.Open(modelPath(t, "stories260K.gguf"), "apr", runtimes.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if rt.Engine() != "apr" {
		t.Errorf("engine %q, want apr", rt.Engine())
	}
	tok, err := rt.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tok.Encode(g.Prompt, true, false)
	if err != nil || !slices.Equal(ids, g.PromptTokens) {
		t.Fatalf("prompt tokens %v (%v), golden %v", ids, err, g.PromptTokens)
	}
	res, err := rt.Run(context.Background(), runtimes.Request{Prompt: ids, Decode: len(g.Greedy) - 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Next, g.Greedy) {
		t.Errorf("greedy tokens\n got  %v\n want %v", res.Next, g.Greedy)
	}
}
