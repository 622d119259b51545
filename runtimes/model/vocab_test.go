package model

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/tokenizer"
)

// tokShared returns the shared data directory (../shared next to the
// directory holding go.mod), skipping the test when it is absent.
func tokShared(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared")
			if _, err := os.Stat(filepath.Join(shared, "models")); err != nil {
				t.Skip("shared data not available")
			}
			return shared
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory")
		}
		dir = parent
	}
}

// openTokenizer reads the vocabulary of a shared model file.
func openTokenizer(t testing.TB, path string) *tokenizer.Tokenizer {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := VocabFromGGUF(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tk, err := tokenizer.New(v)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tk
}

// vectorFile is one of llama.cpp's tokenizer test-vector pairs.
type vectorFile struct {
	model, inp, out string
}

// vectorFiles lists the shared vector files, relative to ../shared/models.
// llama-2-tiny-random carries the same vocabulary as ggml-vocab-llama-spm.
var vectorFiles = []vectorFile{
	{"vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-llama-spm.gguf.inp", "vocab/ggml-vocab-llama-spm.gguf.out"},
	{"llama-2-tiny-random.gguf", "vocab/ggml-vocab-llama-spm.gguf.inp", "vocab/ggml-vocab-llama-spm.gguf.out"},
	{"vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-gpt-2.gguf.inp", "vocab/ggml-vocab-gpt-2.gguf.out"},
	{"stories260K.gguf", "vocab/stories260K-spm.inp", "vocab/stories260K-spm.out"},
	{"derived/tiny-qwen2-bpe-f32.gguf", "vocab/tiny-qwen2-bpe.inp", "vocab/tiny-qwen2-bpe.out"},
}

// readVectors reads inputs and expected ids as llama.cpp's
// tests/test-tokenizer-0.cpp does: inputs are separated by
// "\n__ggml_vocab_test__\n" (the file ends with one, which opens no further
// input), and the .out file has one line of space-separated ids per input.
func readVectors(t testing.TB, inp, out string) ([]string, [][]int32) {
	t.Helper()
	raw, err := os.ReadFile(inp)
	if err != nil {
		t.Fatal(err)
	}
	const sep = "\n__ggml_vocab_test__\n"
	var inputs []string
	for s := string(raw); s != ""; {
		i := strings.Index(s, sep)
		if i < 0 {
			inputs = append(inputs, s)
			break
		}
		inputs = append(inputs, s[:i])
		s = s[i+len(sep):]
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids [][]int32
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line []int32
		for _, w := range strings.Fields(sc.Text()) {
			n, err := strconv.ParseInt(w, 10, 32)
			if err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			line = append(line, int32(n))
		}
		ids = append(ids, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(inputs) != len(ids) {
		t.Fatalf("%s has %d inputs, %s %d lines", inp, len(inputs), out, len(ids))
	}
	return inputs, ids
}

func sameIDs(a, b []int32) bool { return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b)) }

// TestVocabVectors runs llama.cpp's tokenizer test vectors: add_special and
// parse_special off, every input must give exactly llama.cpp's ids.
func TestVocabVectors(t *testing.T) {
	models := filepath.Join(tokShared(t), "models")
	for _, vf := range vectorFiles {
		t.Run(vf.model, func(t *testing.T) {
			tk := openTokenizer(t, filepath.Join(models, vf.model))
			inputs, want := readVectors(t, filepath.Join(models, vf.inp), filepath.Join(models, vf.out))
			pass := 0
			for i, in := range inputs {
				got, err := tk.Encode(in, false, false)
				if err != nil || !sameIDs(got, want[i]) {
					t.Errorf("input %d %q:\n got %v (%v)\nwant %v", i, in, got, err, want[i])
					continue
				}
				pass++
			}
			t.Logf("%d/%d vectors", pass, len(inputs))
		})
	}
}

// TestVocabRoundTrip checks Decode(Encode(s)) == s over the vector inputs.
// The exceptions are llama.cpp's own: vocabularies with clean_spaces (GPT-2)
// drop the space before ?!., and in some contractions, so inputs containing
// those patterns come back changed; the test asserts they do change rather
// than skipping them.
func TestVocabRoundTrip(t *testing.T) {
	models := filepath.Join(tokShared(t), "models")
	cleaned := regexp.MustCompile(` [?!.,]| '[sm]| '(re|ve)| ' `)
	for _, vf := range vectorFiles {
		t.Run(vf.model, func(t *testing.T) {
			tk := openTokenizer(t, filepath.Join(models, vf.model))
			inputs, _ := readVectors(t, filepath.Join(models, vf.inp), filepath.Join(models, vf.out))
			clean := strings.Contains(vf.model, "gpt-2")
			var changed []int
			for i, in := range inputs {
				ids, err := tk.Encode(in, false, false)
				if err != nil {
					t.Fatal(err)
				}
				got, err := tk.Decode(ids)
				if err != nil {
					t.Fatal(err)
				}
				expectChange := clean && cleaned.MatchString(in)
				switch {
				case expectChange && got == in:
					t.Errorf("input %d %q: expected clean_spaces to change it", i, in)
				case expectChange:
					changed = append(changed, i)
				case got != in:
					t.Errorf("input %d %q: round trip gave %q", i, in, got)
				}
			}
			if len(changed) > 0 {
				t.Logf("changed by clean_spaces, as in llama.cpp: inputs %v", changed)
			}
		})
	}
}

// modelFile finds a shared model by base name, in models/ or models/derived/.
func modelFile(t testing.TB, models, name string) string {
	t.Helper()
	for _, p := range []string{filepath.Join(models, name+".gguf"), filepath.Join(models, "derived", name+".gguf")} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("no model file for %q", name)
	return ""
}

// TestVocabGolden reproduces the prompt tokens of models/golden/*.json
// (add_special on, parse_special off) and their greedy text.
func TestVocabGolden(t *testing.T) {
	models := filepath.Join(tokShared(t), "models")
	files, err := filepath.Glob(filepath.Join(models, "golden", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var g struct {
				Prompt       string  `json:"prompt"`
				PromptTokens []int32 `json:"prompt_tokens"`
				GreedyTokens []int32 `json:"greedy_tokens"`
				GreedyText   *string `json:"greedy_text"`
			}
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			tk := openTokenizer(t, modelFile(t, models, name))
			got, err := tk.Encode(g.Prompt, true, false)
			if err != nil || !sameIDs(got, g.PromptTokens) {
				t.Errorf("Encode(%q) = %v (%v), want %v", g.Prompt, got, err, g.PromptTokens)
			}
			if g.GreedyText != nil {
				text, err := tk.Decode(g.GreedyTokens)
				if err != nil || text != *g.GreedyText {
					t.Errorf("Decode(greedy) = %q (%v), want %q", text, err, *g.GreedyText)
				}
			}
		})
	}
}

var (
	aboutRe = regexp.MustCompile(`model=(\S+) .*prompt="([^"]*)"`)
	genRe   = regexp.MustCompile(`^gen step \d+: (\d+) '(.*)'$`)
)

// TestVocabLlamacppRuns reproduces the prompt ids of every recorded llama.cpp
// run in ../shared/llamacpp (ABOUT.txt names model and prompt, tokens.txt
// holds the ids) and the pieces it printed for the generated tokens.
func TestVocabLlamacppRuns(t *testing.T) {
	shared := tokShared(t)
	abouts, err := filepath.Glob(filepath.Join(shared, "llamacpp", "*", "ABOUT.txt"))
	if err != nil || len(abouts) == 0 {
		t.Fatalf("no recorded runs: %v", err)
	}
	for _, about := range abouts {
		dir := filepath.Dir(about)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(about)
			if err != nil {
				t.Fatal(err)
			}
			m := aboutRe.FindStringSubmatch(string(raw))
			if m == nil {
				t.Fatalf("cannot parse %s", about)
			}
			tk := openTokenizer(t, modelFile(t, filepath.Join(shared, "models"), strings.TrimSuffix(m[1], ".gguf")))
			tokens, err := os.ReadFile(filepath.Join(dir, "tokens.txt"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(tokens)), "\n")
			var want []int32
			for _, w := range strings.Fields(strings.TrimPrefix(lines[0], "prompt:")) {
				n, err := strconv.ParseInt(w, 10, 32)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, int32(n))
			}
			if got, err := tk.Encode(m[2], true, false); err != nil || !sameIDs(got, want) {
				t.Errorf("Encode(%q) = %v (%v), want %v", m[2], got, err, want)
			}
			for _, line := range lines[1:] {
				g := genRe.FindStringSubmatch(line)
				if g == nil {
					t.Fatalf("cannot parse %q", line)
				}
				id, _ := strconv.ParseInt(g[1], 10, 32)
				// Pieces that are not valid UTF-8 on their own were printed
				// with replacement characters.
				if p := tk.Piece(int32(id)); utf8.ValidString(p) && p != g[2] {
					t.Errorf("Piece(%d) = %q, llama.cpp printed %q", id, p, g[2])
				}
			}
		})
	}
}

// vocabGGUF builds an in-memory vocabulary-only GGUF file.
func vocabGGUF(t testing.TB, kvs ...gguf.KV) *gguf.File {
	t.Helper()
	w := gguf.NewWriter(3)
	for _, kv := range kvs {
		w.AddKV(kv.Key, kv.Value)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func kv(key string, v gguf.Value) gguf.KV { return gguf.KV{Key: key, Value: v} }

func TestVocabFromGGUFDefaults(t *testing.T) {
	spm := kv(keyTokModel, gguf.String("llama"))
	two := kv(keyTokTokens, gguf.StringArray([]string{"<unk>", "<s>"}))

	v, err := VocabFromGGUF(vocabGGUF(t, spm, two))
	if err != nil {
		t.Fatal(err)
	}
	// SentencePiece defaults; EOS 2 lies outside two tokens and is dropped.
	if v.BOS != 1 || v.EOS != tokenizer.NoToken || v.UNK != 0 || v.PAD != tokenizer.NoToken ||
		!v.AddBOS || v.AddEOS || !v.AddSpacePrefix || v.Scores != nil || v.Types != nil {
		t.Errorf("SPM defaults: %+v", v)
	}

	v, err = VocabFromGGUF(vocabGGUF(t, spm, two,
		kv("tokenizer.ggml.bos_token_id", gguf.Uint32(0)),
		kv("tokenizer.ggml.padding_token_id", gguf.Uint32(0xFFFFFFFF)),
		kv("tokenizer.ggml.fim_pre_token_id", gguf.Uint32(0)),
		kv("tokenizer.ggml.prefix_token_id", gguf.Uint32(1)),
		kv("tokenizer.ggml.eot_token_id", gguf.Uint32(7)),
		kv(keyTokAddBOS, gguf.Bool(false)),
		kv(keyTokAddSpace, gguf.Bool(false)),
		kv(keyTokScores, gguf.Int32Array([]int32{-1, 2})),
		kv(keyTokTypes, gguf.Int32Array([]int32{2, 3}))))
	if err != nil {
		t.Fatal(err)
	}
	// An out-of-range id keeps the default; the deprecated prefix key wins.
	if v.BOS != 0 || v.PAD != tokenizer.NoToken || v.AddBOS || v.AddSpacePrefix ||
		!reflect.DeepEqual(v.SpecialIDs, map[string]int32{"fim_pre": 1}) ||
		!reflect.DeepEqual(v.Scores, []float32{-1, 2}) || !reflect.DeepEqual(v.Types, []int32{2, 3}) {
		t.Errorf("SPM with keys: %+v", v)
	}

	bpe := func(pre string) *tokenizer.Vocab {
		t.Helper()
		toks := make([]string, 20)
		for i := range toks {
			toks[i] = string(rune('a' + i))
		}
		v, err := VocabFromGGUF(vocabGGUF(t, kv(keyTokModel, gguf.String("gpt2")), kv(keyTokPre, gguf.String(pre)),
			kv(keyTokTokens, gguf.StringArray(toks)), kv(keyTokMerges, gguf.StringArray([]string{"a b"}))))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := bpe("qwen2"); v.BOS != 11 || v.EOS != 11 || v.UNK != tokenizer.NoToken || v.AddBOS || v.AddSpacePrefix ||
		!reflect.DeepEqual(v.Merges, []string{"a b"}) {
		t.Errorf("BPE qwen2 defaults: %+v", v)
	}
	if v := bpe("llama-bpe"); !v.AddBOS {
		t.Errorf("llama-bpe: AddBOS default false")
	}
	if v := bpe("chatglm-bpe"); v.BOS != tokenizer.NoToken {
		t.Errorf("chatglm-bpe: BOS %d", v.BOS)
	}
}

func TestVocabFromGGUFErrors(t *testing.T) {
	spm := kv(keyTokModel, gguf.String("llama"))
	toks := kv(keyTokTokens, gguf.StringArray([]string{"a", "b"}))
	cases := []struct {
		name string
		kvs  []gguf.KV
		is   error
	}{
		{"no model", []gguf.KV{toks}, nil},
		{"model not a string", []gguf.KV{kv(keyTokModel, gguf.Uint32(1)), toks}, nil},
		{"unknown model", []gguf.KV{kv(keyTokModel, gguf.String("t5")), toks}, tokenizer.ErrUnsupported},
		{"unknown pre", []gguf.KV{kv(keyTokModel, gguf.String("gpt2")), kv(keyTokPre, gguf.String("deepseek-llm")), toks}, tokenizer.ErrUnsupported},
		{"no tokens", []gguf.KV{spm}, nil},
		{"tokens not strings", []gguf.KV{spm, kv(keyTokTokens, gguf.Int32Array([]int32{1}))}, nil},
		{"BPE without merges", []gguf.KV{kv(keyTokModel, gguf.String("gpt2")), toks}, nil},
		{"short scores", []gguf.KV{spm, toks, kv(keyTokScores, gguf.Float32Array([]float32{0}))}, nil},
		{"float64 scores", []gguf.KV{spm, toks, kv(keyTokScores, gguf.Float64Array([]float64{0, 0}))}, nil},
		{"short types", []gguf.KV{spm, toks, kv(keyTokTypes, gguf.Int32Array([]int32{1}))}, nil},
		{"uint8 types", []gguf.KV{spm, toks, kv(keyTokTypes, gguf.Uint8Array([]uint8{1, 1}))}, nil},
		{"int32 bos", []gguf.KV{spm, toks, kv("tokenizer.ggml.bos_token_id", gguf.Int32(1))}, nil},
		{"uint8 add_bos", []gguf.KV{spm, toks, kv(keyTokAddBOS, gguf.Uint8(1))}, nil},
	}
	for _, c := range cases {
		_, err := VocabFromGGUF(vocabGGUF(t, c.kvs...))
		if err == nil || (c.is != nil && !errors.Is(err, c.is)) || !strings.HasPrefix(err.Error(), "model: ") {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
}

// FuzzVocabEncode runs the shared vocabularies over arbitrary text, seeded
// with the test vectors: Encode never fails (these vocabularies have every
// byte), and Decode(Encode(s)) == s for valid UTF-8 where llama.cpp
// round-trips: SentencePiece when s holds no "▁", Qwen2 BPE always.
func FuzzVocabEncode(f *testing.F) {
	models := filepath.Join(tokShared(f), "models")
	inputs, _ := readVectors(f, filepath.Join(models, vectorFiles[0].inp), filepath.Join(models, vectorFiles[0].out))
	for _, s := range inputs {
		f.Add(s)
	}
	spm := openTokenizer(f, filepath.Join(models, "vocab/ggml-vocab-llama-spm.gguf"))
	tiny := openTokenizer(f, filepath.Join(models, "stories260K.gguf"))
	gpt2 := openTokenizer(f, filepath.Join(models, "vocab/ggml-vocab-gpt-2.gguf"))
	qwen := openTokenizer(f, filepath.Join(models, "derived/tiny-qwen2-bpe-f32.gguf"))
	f.Fuzz(func(t *testing.T, s string) {
		valid := utf8.ValidString(s)
		for _, tk := range []*tokenizer.Tokenizer{spm, tiny} {
			ids, err := tk.Encode(s, false, false)
			if err != nil {
				t.Fatalf("Encode(%q): %v", s, err)
			}
			if got, _ := tk.Decode(ids); valid && !strings.Contains(s, "\u2581") && got != s {
				t.Fatalf("SPM round trip %q -> %q", s, got)
			}
		}
		for _, tk := range []*tokenizer.Tokenizer{gpt2, qwen} {
			ids, err := tk.Encode(s, false, false)
			if err != nil {
				if valid {
					t.Fatalf("Encode(%q): %v", s, err)
				}
				continue
			}
			if got, _ := tk.Decode(ids); valid && tk == qwen && got != s {
				t.Fatalf("BPE round trip %q -> %q", s, got)
			}
		}
	})
}

// BenchmarkVocabEncode tokenizes the concatenated test-vector inputs (about
// 1.9 KB of mixed scripts, emoji and whitespace runs) with each shared
// vocabulary.
func BenchmarkVocabEncode(b *testing.B) {
	models := filepath.Join(tokShared(b), "models")
	for _, vf := range vectorFiles {
		b.Run(vf.model, func(b *testing.B) {
			tk := openTokenizer(b, filepath.Join(models, vf.model))
			inputs, _ := readVectors(b, filepath.Join(models, vf.inp), filepath.Join(models, vf.out))
			text := strings.Join(inputs, "\n")
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if _, err := tk.Encode(text, true, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
