package tokenizer

import (
	"errors"
	"unicode"
)

// Codepoint classification as llama.cpp's unicode.cpp does it.
//
// llama.cpp does not ask a regex engine what \p{L} or \s mean: it carries a
// table generated from UnicodeData.txt (src/unicode-data.cpp, Unicode 15.1,
// generated in October 2024) and hand-codes the pre-tokenizer regexes over it.
// Every general category maps to exactly one flag below; codepoints the table
// leaves unassigned (Cn) and every value at or above 0x110000 are "undefined".
// A pre-tokenizer that asked Go's regexp for \p{L} would agree almost
// everywhere and differ exactly where it matters for parity, so this file
// rebuilds llama.cpp's flags from Go's unicode package and patches the
// difference.
//
// The difference was measured by comparing all 0x110000 codepoints of Go 1.26's
// unicode tables (Unicode 15.0.0) against llama.cpp's table at commit 3f545bec:
// exactly three ranges differ, all of them assigned in Unicode 15.1 and
// therefore "undefined" in Go. They are listed in unicode151. If Go's Unicode
// version changes, TestUnicodeVersion fails and the comparison must be redone.
const (
	flagUndefined   uint16 = 0x0001
	flagNumber      uint16 = 0x0002 // \p{N}
	flagLetter      uint16 = 0x0004 // \p{L}
	flagSeparator   uint16 = 0x0008 // \p{Z}
	flagMark        uint16 = 0x0010 // \p{M}
	flagPunctuation uint16 = 0x0020 // \p{P}
	flagSymbol      uint16 = 0x0040 // \p{S}
	flagControl     uint16 = 0x0080 // \p{C}: Cc, Cf, Co, Cs
	flagWhitespace  uint16 = 0x0100 // \s as llama.cpp defines it (see whitespace)

	// categoryMask selects the general-category flag of a flags value.
	categoryMask uint16 = 0x00FF
)

// goUnicodeVersion is the Unicode version of the Go tables the unicode151
// patch was measured against.
const goUnicodeVersion = "15.0.0"

// unicode151 lists the codepoints whose category in llama.cpp's table
// (Unicode 15.1) differs from Go's Unicode 15.0 tables, where they are
// unassigned.
var unicode151 = []struct {
	lo, hi uint32
	flag   uint16
}{
	{0x2FFC, 0x2FFF, flagSymbol},   // ideographic description characters
	{0x31EF, 0x31EF, flagSymbol},   // CJK stroke HXG
	{0x2EBF0, 0x2EE5D, flagLetter}, // CJK Unified Ideographs Extension I
}

// whitespace is llama.cpp's whitespace set: the Unicode White_Space property,
// 25 codepoints. Note that it contains U+0085 and U+00A0 but not the ASCII
// information separators U+001C..U+001F that C's isspace and Python's
// str.isspace accept.
var whitespace = [...]uint32{
	0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680,
	0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
	0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
}

// latinFlags caches cptFlags for codepoints below 256, the hot path.
var latinFlags = func() (t [256]uint16) {
	for c := range t {
		t[c] = computeFlags(uint32(c))
	}
	return t
}()

// cptFlags returns llama.cpp's unicode_cpt_flags_from_cpt for c.
func cptFlags(c uint32) uint16 {
	if c < 256 {
		return latinFlags[c]
	}
	return computeFlags(c)
}

func computeFlags(c uint32) uint16 {
	if c >= 0x110000 {
		return flagUndefined
	}
	f := category(c)
	for _, w := range whitespace {
		if w == c {
			f |= flagWhitespace
			break
		}
	}
	return f
}

func category(c uint32) uint16 {
	for _, p := range unicode151 {
		if p.lo <= c && c <= p.hi {
			return p.flag
		}
	}
	r := rune(c)
	switch {
	case unicode.Is(unicode.L, r):
		return flagLetter
	case unicode.Is(unicode.N, r):
		return flagNumber
	case unicode.Is(unicode.P, r):
		return flagPunctuation
	case unicode.Is(unicode.S, r):
		return flagSymbol
	case unicode.Is(unicode.M, r):
		return flagMark
	case unicode.Is(unicode.Z, r):
		return flagSeparator
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r),
		unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r):
		return flagControl
	}
	return flagUndefined
}

// replacementChar is what llama.cpp substitutes for each byte it cannot decode.
const replacementChar = 0xFFFD

// utf8Len is llama.cpp's unicode_len_utf8: the sequence length announced by a
// lead byte, judged by its high nibble alone. Continuation bytes count as 1 and
// 0xF8..0xFF as 4; nothing checks that the following bytes fit.
func utf8Len(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// decodeCodepoints is llama.cpp's unicode_cpts_from_utf8. It is more lenient
// than Go's utf8 package: overlong forms, surrogates and 4-byte sequences up
// to 0x1FFFFF decode to their arithmetic value. A byte that does not start a
// well-formed sequence becomes U+FFFD and decoding resumes at the next byte.
func decodeCodepoints(s string) []uint32 {
	out := make([]uint32, 0, len(s))
	for i := 0; i < len(s); {
		c, n := decodeOne(s, i)
		out = append(out, c)
		i += n
	}
	return out
}

func isCont(b byte) bool { return b&0xC0 == 0x80 }

func decodeOne(s string, i int) (uint32, int) {
	b := s[i]
	switch {
	case b&0x80 == 0:
		return uint32(b), 1
	case b&0x40 == 0:
		// A stray continuation byte.
	case b&0x20 == 0:
		if i+1 < len(s) && isCont(s[i+1]) {
			return uint32(b&0x1F)<<6 | uint32(s[i+1]&0x3F), 2
		}
	case b&0x10 == 0:
		if i+2 < len(s) && isCont(s[i+1]) && isCont(s[i+2]) {
			return uint32(b&0x0F)<<12 | uint32(s[i+1]&0x3F)<<6 | uint32(s[i+2]&0x3F), 3
		}
	case b&0x08 == 0:
		if i+3 < len(s) && isCont(s[i+1]) && isCont(s[i+2]) && isCont(s[i+3]) {
			return uint32(b&0x07)<<18 | uint32(s[i+1]&0x3F)<<12 | uint32(s[i+2]&0x3F)<<6 | uint32(s[i+3]&0x3F), 4
		}
	}
	return replacementChar, 1
}

// errCodepoint is returned where llama.cpp's unicode_cpt_to_utf8 throws: a
// 4-byte sequence decoded to a value above U+10FFFF. llama.cpp lets that
// exception escape llama_tokenize; we report it.
var errCodepoint = errors.New("tokenizer: text decodes to a codepoint above U+10FFFF")

// appendCodepoint is llama.cpp's unicode_cpt_to_utf8: plain arithmetic
// encoding, surrogates included.
func appendCodepoint(b []byte, c uint32) ([]byte, error) {
	switch {
	case c <= 0x7F:
		return append(b, byte(c)), nil
	case c <= 0x7FF:
		return append(b, 0xC0|byte(c>>6), 0x80|byte(c&0x3F)), nil
	case c <= 0xFFFF:
		return append(b, 0xE0|byte(c>>12), 0x80|byte(c>>6&0x3F), 0x80|byte(c&0x3F)), nil
	case c <= 0x10FFFF:
		return append(b, 0xF0|byte(c>>18), 0x80|byte(c>>12&0x3F), 0x80|byte(c>>6&0x3F), 0x80|byte(c&0x3F)), nil
	}
	return b, errCodepoint
}
