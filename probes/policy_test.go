package probes

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseSlots(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Slot
	}{
		{"q", []Slot{Q}},
		{"k, q", []Slot{Q, K}},
		{"attn_norm,q,ffn_*", []Slot{AttnNorm, Q, FFNNorm, FFNGate, FFNUp, FFNAct, FFNSwiGLU, FFNOut}},
		{"?_rope", []Slot{QRope, KRope}},
		{"qkv,output", []Slot{Q, K, V, Out}},
		{"ffn_silu_gate", []Slot{FFNAct}},
		{"logits,embed", []Slot{Embed, Logits}},
		{"q,q,q", []Slot{Q}},
	} {
		got, err := ParseSlots(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseSlots(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	all, err := ParseSlots("all")
	if err != nil || !slices.Equal(all, Slots()) {
		t.Errorf("ParseSlots(all) = %v, %v", all, err)
	}
	for _, in := range []string{"", " , ", "fnn_*", "qk", "[", "q,bogus"} {
		_, err := ParseSlots(in)
		if err == nil {
			t.Errorf("ParseSlots(%q) accepted", in)
			continue
		}
		// A typo's error lists the valid names.
		if strings.Contains(in, "fnn") && !strings.Contains(err.Error(), "ffn_swiglu") {
			t.Errorf("ParseSlots(%q) error does not list the slots: %v", in, err)
		}
	}
}

func TestParseInts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		text string
	}{
		{"", []int{}, ""},
		{"3", []int{3}, "3"},
		{"0-3,7", []int{0, 1, 2, 3, 7}, "0-3,7"},
		{" 9 , 2-3,3", []int{2, 3, 9}, "2-3,9"},
		{"5-5", []int{5}, "5"},
		{"1,2", []int{1, 2}, "1-2"},
	} {
		got, err := ParseInts(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseInts(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if s := FormatInts(got); s != tc.text {
			t.Errorf("FormatInts(%v) = %q, want %q", got, s, tc.text)
		}
	}
	for _, in := range []string{"-1", "3-1", "a", "1-", "1,,2", "0x10", "+1", "1 2", "0-99999999999", "16777216", "0-1048576"} {
		if got, err := ParseInts(in); err == nil {
			t.Errorf("ParseInts(%q) = %v, accepted", in, got)
		}
	}
	// FormatInts keeps order, and parseRuns reads it back as written.
	for _, l := range [][]int{{5, 6, 7, 2, 3, 9}, {3, 2, 1}, {0}} {
		back, err := parseRuns(FormatInts(l), 100)
		if err != nil || !slices.Equal(back, l) {
			t.Errorf("%v → %q → %v, %v", l, FormatInts(l), back, err)
		}
	}
	if _, err := parseRuns("0-9", 5); err == nil {
		t.Error("parseRuns exceeded its limit")
	}
}

func TestParsePositions(t *testing.T) {
	for in, want := range map[string]Positions{
		"all":   {},
		"":      {},
		"last":  {Last: true},
		"0,3-4": {List: []int{0, 3, 4}},
	} {
		got, err := ParsePositions(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParsePositions(%q) = %+v, %v", in, got, err)
		}
	}
	if _, err := ParsePositions("first"); err == nil {
		t.Error("ParsePositions(first) accepted")
	}
}

func TestPolicyJSON(t *testing.T) {
	for _, p := range []Policy{
		{},
		{Slots: []Slot{Q, FFNSwiGLU}, Layers: []int{0, 1, 2, 7}, Steps: []int{0}, Positions: Positions{Last: true}, Mode: ModeFull, Head: 8},
		{Positions: Positions{List: []int{2, 5}}, Head: 3},
	} {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back Policy
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, p) {
			t.Errorf("%s → %+v, %v; want %+v", b, back, err, p)
		}
	}
	b, _ := json.Marshal(Policy{Slots: []Slot{Q}, Layers: []int{0, 1, 2, 7}, Mode: ModeFull})
	if want := `{"slots":["q"],"layers":"0-2,7","positions":"all","mode":"full","head":0}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	for _, in := range []string{
		`{"slots":["nope"]}`,
		`{"slots":["q","q"]}`,
		`{"layers":"3,1"}`,
		`{"mode":"everything"}`,
		`{"head":-1}`,
		`{"positions":"sometimes"}`,
	} {
		var p Policy
		if err := json.Unmarshal([]byte(in), &p); err == nil {
			t.Errorf("%s accepted as %+v", in, p)
		}
	}
}
