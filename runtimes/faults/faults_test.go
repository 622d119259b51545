package faults

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	f, err := Parse("rope-style@3")
	if err != nil || f != (Fault{RopeStyle, 3}) || f.String() != "rope-style@3" {
		t.Fatalf("Parse = %v, %v", f, err)
	}
	for _, bad := range []string{"rope-style", "nope@1", "gelu@x", "gelu@-1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
	if _, err := Parse("nope@1"); !strings.Contains(err.Error(), "rope-style") {
		t.Errorf("error does not list the known faults: %v", err)
	}
}

func TestEveryKindIsDescribed(t *testing.T) {
	for _, k := range Kinds() {
		if k.Describe() == "" {
			t.Errorf("%s has no description", k)
		}
		if k != SampleSize && !k.Expect().Valid() {
			t.Errorf("%s has no expected slot", k)
		}
	}
}

func TestSetAndApplies(t *testing.T) {
	s := Set{{GELU, 1}, {AttnScale, -1}}
	if !s.At(GELU, 1) || s.At(GELU, 0) || !s.At(AttnScale, 7) || s.At(RopeStyle, 1) {
		t.Error("Set.At misreports")
	}
	if Set(nil).At(GELU, 0) {
		t.Error("the zero Set must be clean")
	}
	if SkipQKVBias.Applies(false, false, 4, 2) || !SkipQKVBias.Applies(true, false, 4, 2) {
		t.Error("bias faults need biases")
	}
	if GQAMap.Applies(false, false, 4, 4) || GQAMap.Applies(false, false, 4, 1) || !GQAMap.Applies(false, false, 4, 2) {
		t.Error("GQA faults need grouped heads and several KV heads")
	}
	for _, k := range []Kind{CorruptRows, Transpose, CorruptEmbedRow} {
		if !k.File() || k.Applies(true, true, 4, 2) {
			t.Errorf("%s is a file fault: no engine applies it", k)
		}
	}
	if GELU.File() || !GELU.Applies(false, false, 4, 2) {
		t.Error("GELU is an engine fault")
	}
}
