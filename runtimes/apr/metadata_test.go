package apr

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestMetadataSpelling pins the serde order and spelling of every typed
// field, set and unset.
func TestMetadataSpelling(t *testing.T) {
	full := Metadata{
		ModelType: "qwen2", Name: new("n"), Description: new("d"), Author: new("a"),
		License: new("MIT"), DataSource: new("ds"), DataLicense: new("dl"),
		Version: new("1.0.0"), Source: new("hf://x"), OriginalFormat: new("gguf"), CreatedAt: new("t"),
		TotalSize: 1 << 40, ParamCount: 7,
		Quantization: &Quantization{QuantType: "int4", Bits: 4, BlockSize: new(32), Symmetric: true},
		Sharding:     &Sharding{ShardCount: 2, ShardIndex: 1, TotalSize: 9},
		ChatTemplate: new("{{x}}"), ChatFormat: new("chatml"),
		SpecialTokens: &SpecialTokens{EOSToken: new("</s>")},
		Architecture:  new("qwen2"), HFArchitecture: new("Qwen2ForCausalLM"), HFModelType: new("qwen2"),
		HiddenSize: new(896), NumLayers: new(24), NumHeads: new(14), NumKVHeads: new(2), VocabSize: new(151936),
		IntermediateSize: new(4864), MaxPositionEmbeddings: new(32768), RopeTheta: new(float32(1e6)),
		RopeType: new(uint32(2)), RMSNormEps: new(float32(1e-6)), HeadDim: new(64),
		NumExperts: new(8), NumExpertsPerTok: new(2), MoEIntermediateSize: new(512),
		Raw: map[string]json.RawMessage{"z": json.RawMessage(`1`), "a.b": json.RawMessage(` { "y" : [1.50, "<"], "x": null } `)},
	}
	for _, tc := range []struct {
		md   Metadata
		want string
	}{
		{Metadata{}, `{"model_type":"","license":null,"data_source":null,"data_license":null,"total_size":0,"param_count":0}`},
		{full, `{"model_type":"qwen2","name":"n","description":"d","author":"a","license":"MIT","data_source":"ds",` +
			`"data_license":"dl","version":"1.0.0","source":"hf://x","original_format":"gguf","created_at":"t",` +
			`"total_size":1099511627776,"param_count":7,` +
			`"quantization":{"quant_type":"int4","bits":4,"block_size":32,"symmetric":true},` +
			`"sharding":{"shard_count":2,"shard_index":1,"total_size":9,"pattern":null},` +
			`"chat_template":"{{x}}","chat_format":"chatml",` +
			`"special_tokens":{"bos_token":null,"eos_token":"</s>","unk_token":null,"pad_token":null,"im_start_token":null,"im_end_token":null},` +
			`"architecture":"qwen2","hf_architecture":"Qwen2ForCausalLM","hf_model_type":"qwen2",` +
			`"hidden_size":896,"num_layers":24,"num_heads":14,"num_kv_heads":2,"vocab_size":151936,` +
			`"intermediate_size":4864,"max_position_embeddings":32768,"rope_theta":1000000.0,"rope_type":2,` +
			`"rms_norm_eps":0.000001,"head_dim":64,"num_experts":8,"num_experts_per_tok":2,"moe_intermediate_size":512,` +
			`"a.b":{"x":null,"y":[1.50,"<"]},"z":1}`},
	} {
		got, err := tc.md.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("got\n%s\nwant\n%s", got, tc.want)
		}
		var back Metadata
		if err := back.UnmarshalJSON(got); err != nil {
			t.Fatal(err)
		}
		again, _ := back.MarshalJSON()
		if string(again) != string(got) {
			t.Errorf("re-encoding changed the bytes:\n%s", again)
		}
	}
}

// TestMetadataNullsAndAliases: old writers' explicit nulls and realizar's
// alias keys read as the canonical fields.
func TestMetadataNullsAndAliases(t *testing.T) {
	var nulls []string
	for _, f := range metadataFields {
		if f.key != "model_type" && f.key != "total_size" && f.key != "param_count" {
			nulls = append(nulls, `"`+f.key+`":null`)
		}
	}
	for _, tc := range []struct {
		name, in string
		want     Metadata
	}{
		{"every optional null", `{"model_type":"m",` + strings.Join(nulls, ",") + `,"total_size":0,"param_count":0}`,
			Metadata{ModelType: "m"}},
		{"null model_type", `{"model_type":null}`, Metadata{}},
		{"aliases", `{"num_hidden_layers":24,"n_ctx":2048,"n_head":14,"norm_eps":1e-5,"d_model":896,"n_vocab":5,"n_kv_heads":2,"n_inner":64}`,
			Metadata{NumLayers: new(24), MaxPositionEmbeddings: new(2048), NumHeads: new(14), RMSNormEps: new(float32(1e-5)),
				HiddenSize: new(896), VocabSize: new(5), NumKVHeads: new(2), IntermediateSize: new(64)}},
		{"canonical null, alias set", `{"num_layers":null,"n_layers":3}`, Metadata{NumLayers: new(3)}},
		{"canonical wins over alias", `{"num_layers":4,"n_layers":3,"n_layer":"junk"}`, Metadata{NumLayers: new(4)}},
		{"first alias in aprender's order wins", `{"n_layer":5,"num_hidden_layers":6}`, Metadata{NumLayers: new(6)}},
		{"null alias skipped", `{"num_hidden_layers":null,"n_layers":7}`, Metadata{NumLayers: new(7)}},
		{"custom keys kept", `{"model.hidden_size":8,"tied_embeddings":true}`,
			Metadata{Raw: map[string]json.RawMessage{"model.hidden_size": json.RawMessage(`8`), "tied_embeddings": json.RawMessage(`true`)}}},
		{"duplicate key, last wins", `{"hidden_size":null,"hidden_size":8}`, Metadata{HiddenSize: new(8)}},
		{"integer for f32", `{"rope_theta":10000}`, Metadata{RopeTheta: new(float32(10000))}},
		{"unknown nested keys dropped", `{"quantization":{"quant_type":"q","bits":8,"extra":1}}`,
			Metadata{Quantization: &Quantization{QuantType: "q", Bits: 8}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Metadata
			if err := got.UnmarshalJSON([]byte(tc.in)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestMetadataErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`[]`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`{"a":1} x`, "not a JSON object"},
		{"{\"a\":\"\xff\"}", "UTF-8"},
		{`{"hidden_size":"896"}`, `"hidden_size": want an integer`},
		{`{"hidden_size":-1}`, `"hidden_size"`},
		{`{"hidden_size":1.0}`, `"hidden_size"`},
		{`{"hidden_size":1e3}`, `"hidden_size"`},
		{`{"total_size":18446744073709551616}`, `"total_size"`},
		{`{"rope_type":4294967296}`, `"rope_type"`},
		{`{"rope_theta":"1e6"}`, `"rope_theta": want a number`},
		{`{"rms_norm_eps":1e39}`, `"rms_norm_eps": number 1e39 out of f32 range`},
		{`{"model_type":3}`, `"model_type"`},
		{`{"name":true}`, `"name"`},
		{`{"quantization":[]}`, `"quantization"`},
		{`{"quantization":{"bits":300}}`, `"bits"`},
		{`{"sharding":{"shard_count":-2}}`, `"shard_count"`},
		{`{"special_tokens":{"bos_token":1}}`, `"bos_token"`},
		{`{"quantization":{"symmetric":"yes"}}`, `"symmetric"`},
		{`{"n_layers":"x"}`, `"n_layers" (alias of "num_layers")`},
	} {
		var m Metadata
		err := m.UnmarshalJSON([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "apr: ") {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestAppendF32(t *testing.T) {
	for _, tc := range []struct {
		f    float32
		want string
	}{
		{0, "0.0"}, {float32(math.Copysign(0, -1)), "-0.0"}, {1, "1.0"}, {-1.5, "-1.5"},
		{1e6, "1000000.0"}, {10000, "10000.0"}, {0.1, "0.1"}, {1.0 / 3, "0.33333334"},
		{1e-5, "0.00001"}, {1e-6, "0.000001"}, {1.5e-6, "0.0000015"}, {1e-7, "1e-7"}, {1.25e-7, "1.25e-7"},
		{1e12, "1000000000000.0"}, {1e13, "1e13"}, {1.5e13, "1.5e13"}, {123456789, "123456790.0"},
		{1234.5678, "1234.5677"}, {math.MaxFloat32, "3.4028235e38"}, {math.SmallestNonzeroFloat32, "1e-45"},
		{1.17549435e-38, "1.1754944e-38"},
	} {
		got, err := appendF32(nil, tc.f)
		if err != nil || string(got) != tc.want {
			t.Errorf("appendF32(%g) = %q, %v; want %q", tc.f, got, err, tc.want)
		}
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		if _, err := appendF32(nil, bad); err == nil {
			t.Errorf("appendF32(%v) succeeded", bad)
		}
	}
	// Whatever the notation, the text must read back as the same f32.
	g := lcg(7)
	for range 100000 {
		f := math.Float32frombits(uint32(g.next()))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			continue
		}
		s, _ := appendF32(nil, f)
		back, err := strconv.ParseFloat(string(s), 32)
		if err != nil || float32(back) != f {
			t.Fatalf("%g → %s → %g (%v)", f, s, back, err)
		}
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"":                  `""`,
		"plain":             `"plain"`,
		`q"b\s`:             `"q\"b\\s"`,
		"\b\f\n\r\t":        `"\b\f\n\r\t"`,
		"\x00\x1f\x7f":      `"\u0000\u001f` + "\x7f" + `"`,
		"<&>\u2028é𝄞":       "\"<&>\u2028é𝄞\"",
		"/slash":            `"/slash"`,
		"mixed \x01 and \"": `"mixed \u0001 and \""`,
	} {
		got, err := appendString(nil, in)
		if err != nil || string(got) != want {
			t.Errorf("appendString(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := appendString(nil, "\xc3"); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}

func TestCanonicalJSON(t *testing.T) {
	for in, want := range map[string]string{
		` { "b" : 1 , "a" : [ true , null , -0.50e+3 ] } `: `{"a":[true,null,-0.50e+3],"b":1}`,
		`"\u003c\u2028\/"`:        "\"<\u2028/\"",
		`{"k":1,"k":2}`:           `{"k":2}`,
		`{"z":{"y":{},"x":[]}}`:   `{"z":{"x":[],"y":{}}}`,
		`"\ud800"`:                "\"\ufffd\"",
		`12345678901234567890123`: `12345678901234567890123`,
	} {
		got, err := canonicalJSON([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("canonicalJSON(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{``, `{`, `1 2`, `[1,]`, `{"a":1}}`} {
		if got, err := canonicalJSON([]byte(bad)); err == nil {
			t.Errorf("canonicalJSON(%q) = %s, want error", bad, got)
		}
	}
}

func TestCustomKeys(t *testing.T) {
	var md Metadata
	if err := md.SetCustom("num_hidden_layers", 3); err == nil {
		t.Error("alias accepted as a custom key")
	}
	if err := md.SetCustom("vocab_size", 3); err == nil {
		t.Error("typed key accepted as a custom key")
	}
	if err := md.SetCustom("x", func() {}); err == nil {
		t.Error("unencodable value accepted")
	}
	if err := md.SetCustom("html", "<b>&"); err != nil || string(md.Raw["html"]) != `"<b>&"` {
		t.Errorf("SetCustom spelled %s, %v", md.Raw["html"], err)
	}
	var s string
	if ok, err := md.Custom("html", &s); !ok || err != nil || s != "<b>&" {
		t.Errorf("Custom = %v %v %q", ok, err, s)
	}
	var n int
	if ok, err := md.Custom("html", &n); !ok || err == nil {
		t.Errorf("Custom into the wrong type = %v, %v", ok, err)
	}
	if ok, _ := md.Custom("absent", &s); ok {
		t.Error("absent key reported present")
	}
	md.SetCustom("html", nil)
	if _, ok := md.Raw["html"]; ok {
		t.Error("SetCustom(nil) did not delete")
	}
}

func TestTokenizerKeys(t *testing.T) {
	var md Metadata
	if tok, err := md.Tokenizer(); tok != nil || err != nil {
		t.Errorf("no vocabulary: %v, %v", tok, err)
	}
	md.Raw = map[string]json.RawMessage{
		"tokenizer.vocabulary": json.RawMessage(`["a","b"]`),
		"tokenizer.model_type": json.RawMessage(`"bpe"`),
	}
	tok, err := md.Tokenizer()
	if err != nil || tok.Model != "bpe" || len(tok.Vocabulary) != 2 {
		t.Errorf("SafeTensors-style keys: %+v, %v", tok, err)
	}
	md.Raw["tokenizer.scores"] = json.RawMessage(`["x"]`)
	if _, err := md.Tokenizer(); err == nil {
		t.Error("bad scores accepted")
	}
	if err := md.SetTokenizer(&Tokenizer{Vocabulary: []string{"a"}, Scores: []float32{float32(math.Inf(-1))}}); err == nil {
		t.Error("infinite score accepted")
	}
	if err := md.SetTokenizer(&Tokenizer{}); err != nil || string(md.Raw["tokenizer.vocabulary"]) != "[]" || string(md.Raw["tokenizer.vocab_size"]) != "0" {
		t.Errorf("empty tokenizer: %v %v", md.Raw, err)
	}
	if err := md.SetTokenizer(nil); err != nil || len(md.Raw) != 0 {
		t.Errorf("SetTokenizer(nil) left %v", md.Raw)
	}
}
