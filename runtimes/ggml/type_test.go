package ggml

import (
	"errors"
	"testing"
)

func TestTypeTable(t *testing.T) {
	for _, tc := range []struct {
		typ        Type
		name       string
		block, siz int
	}{
		{F32, "f32", 1, 4}, {F16, "f16", 1, 2}, {BF16, "bf16", 1, 2},
		{Q4_0, "q4_0", 32, 18}, {Q4_1, "q4_1", 32, 20}, {Q5_0, "q5_0", 32, 22},
		{Q5_1, "q5_1", 32, 24}, {Q8_0, "q8_0", 32, 34}, {Q8_1, "q8_1", 32, 36},
		{Q2_K, "q2_K", 256, 84}, {Q3_K, "q3_K", 256, 110}, {Q4_K, "q4_K", 256, 144},
		{Q5_K, "q5_K", 256, 176}, {Q6_K, "q6_K", 256, 210}, {Q8_K, "q8_K", 256, 292},
		{IQ4_NL, "iq4_nl", 32, 18}, {IQ4_XS, "iq4_xs", 256, 136},
		{IQ2_XXS, "iq2_xxs", 256, 66}, {IQ2_XS, "iq2_xs", 256, 74}, {IQ2_S, "iq2_s", 256, 82},
		{IQ3_XXS, "iq3_xxs", 256, 98}, {IQ3_S, "iq3_s", 256, 110},
		{IQ1_S, "iq1_s", 256, 50}, {IQ1_M, "iq1_m", 256, 56},
		{TQ1_0, "tq1_0", 256, 54}, {TQ2_0, "tq2_0", 256, 66},
		{MXFP4, "mxfp4", 32, 17}, {NVFP4, "nvfp4", 64, 36},
	} {
		if got := tc.typ.String(); got != tc.name {
			t.Errorf("%d: name %q, want %q", tc.typ, got, tc.name)
		}
		if tc.typ.BlockSize() != tc.block || tc.typ.TypeSize() != tc.siz {
			t.Errorf("%s: block %d size %d, want %d %d", tc.name, tc.typ.BlockSize(), tc.typ.TypeSize(), tc.block, tc.siz)
		}
		back, err := ParseType(tc.name)
		if err != nil || back != tc.typ {
			t.Errorf("ParseType(%q) = %v, %v", tc.name, back, err)
		}
	}
}

func TestUnknownType(t *testing.T) {
	for _, id := range []Type{4, 5, 31, 36, 43, 1000} {
		if id.Known() {
			t.Errorf("%d should be unknown", id)
		}
		var ute *UnknownTypeError
		if err := id.Check(); !errors.As(err, &ute) || ute.ID != uint32(id) {
			t.Errorf("Check(%d) = %v", id, err)
		}
		if _, err := id.RowSize(256); err == nil {
			t.Errorf("RowSize on unknown type %d succeeded", id)
		}
	}
}

func TestRowSize(t *testing.T) {
	if n, err := Q8_0.RowSize(64); err != nil || n != 68 {
		t.Errorf("Q8_0.RowSize(64) = %d, %v", n, err)
	}
	if _, err := Q8_0.RowSize(172); err == nil {
		t.Error("Q8_0.RowSize(172) should fail: 172 is not a multiple of 32")
	}
}
