package tokenizer

import (
	"reflect"
	"testing"
	"unicode"
)

// TestUnicodeVersion pins the Go Unicode tables unicode151 was measured
// against. When Go moves to a newer Unicode version, codepoints unassigned in
// llama.cpp's 15.1 table may become letters or symbols here: redo the
// comparison of all codepoints against llama.cpp's src/unicode-data.cpp and
// update unicode151 (it may then have to list "undefined" overrides).
func TestUnicodeVersion(t *testing.T) {
	if unicode.Version != goUnicodeVersion {
		t.Fatalf("Go's Unicode tables are %s, the llama.cpp patch list was measured against %s",
			unicode.Version, goUnicodeVersion)
	}
}

func TestCptFlags(t *testing.T) {
	cases := []struct {
		c    uint32
		want uint16
	}{
		{'a', flagLetter},
		{'Z', flagLetter},
		{'7', flagNumber},
		{'_', flagPunctuation},
		{'$', flagSymbol},
		{'`', flagSymbol},
		{' ', flagSeparator | flagWhitespace},
		{'\n', flagControl | flagWhitespace},
		{0x1C, flagControl}, // not whitespace for llama.cpp
		{0x85, flagControl | flagWhitespace},
		{0xA0, flagSeparator | flagWhitespace},
		{0xB2, flagNumber}, // superscript two
		{0x301, flagMark},  // combining acute
		{0x378, flagUndefined},
		{0x200B, flagControl}, // zero width space is Cf, not whitespace
		{0x3000, flagSeparator | flagWhitespace},
		{0x2FFC, flagSymbol},  // new in Unicode 15.1
		{0x31EF, flagSymbol},  // new in Unicode 15.1
		{0x2EBF0, flagLetter}, // new in Unicode 15.1
		{0x2EE5D, flagLetter},
		{0x2EE5E, flagUndefined},
		{0xD800, flagControl}, // surrogate
		{0xE000, flagControl}, // private use
		{0x10FFFF, flagUndefined},
		{0x110000, flagUndefined},
		{0x1FFFFF, flagUndefined},
	}
	for _, c := range cases {
		if got := cptFlags(c.c); got != c.want {
			t.Errorf("U+%04X: flags %#x, want %#x", c.c, got, c.want)
		}
	}
}

func TestDecodeCodepoints(t *testing.T) {
	cases := []struct {
		in   string
		want []uint32
	}{
		{"a\u00e9\u20ac\U0001F600", []uint32{'a', 0xE9, 0x20AC, 0x1F600}},
		{"\xc0\x80", []uint32{0}},                    // overlong, accepted
		{"\xed\xa0\x80", []uint32{0xD800}},           // surrogate, accepted
		{"\xf7\xbf\xbf\xbf", []uint32{0x1FFFFF}},     // beyond Unicode, accepted
		{"\x80a", []uint32{0xFFFD, 'a'}},             // stray continuation
		{"\xe2\x82", []uint32{0xFFFD, 0xFFFD}},       // truncated: each byte replaced
		{"\xe2(\xac", []uint32{0xFFFD, '(', 0xFFFD}}, // bad continuation
		{"\xf8\x88\x80\x80\x80", []uint32{0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}},
	}
	for _, c := range cases {
		if got := decodeCodepoints(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %x, want %x", c.in, got, c.want)
		}
	}
	for _, c := range []uint32{0, 0x7F, 0x80, 0x7FF, 0x800, 0xD800, 0xFFFF, 0x10000, 0x10FFFF} {
		b, err := appendCodepoint(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeCodepoints(string(b)); len(got) != 1 || got[0] != c {
			t.Errorf("U+%04X: round trip gave %x", c, got)
		}
	}
	if _, err := appendCodepoint(nil, 0x110000); err == nil {
		t.Errorf("0x110000 encoded without error")
	}
}

func TestUTF8Len(t *testing.T) {
	for b, want := range map[byte]int{0x00: 1, 0x7F: 1, 0x80: 1, 0xBF: 1, 0xC0: 2, 0xDF: 2, 0xE0: 3, 0xEF: 3, 0xF0: 4, 0xFF: 4} {
		if got := utf8Len(b); got != want {
			t.Errorf("%#x: %d, want %d", b, got, want)
		}
	}
}
