package tokenizer

// Pre-tokenizers: how byte-level BPE cuts text into words before merging.
//
// llama.cpp selects a list of regexes by tokenizer.ggml.pre and applies them
// in order, each one refining the segments the previous one produced: inside
// every segment, each match becomes a segment and so does each gap between
// matches (unicode_regex_split). Segments are counted in codepoints of the
// leniently decoded text (decodeCodepoints).
//
// The regexes llama.cpp hand-codes in unicode.cpp (GPT-2's, Llama 3's, Qwen2's,
// Qwen3.5's) are ported here line by line, because their results differ from
// what a real regex engine gives (e.g. `\s+(?!\S)` at the end of a segment).
// The remaining ones llama.cpp runs through std::regex over a "collapsed"
// string in which every non-ASCII codepoint is replaced by one byte standing
// for its category (so \p{N} matches ASCII digits plus non-ASCII, non-whitespace
// codepoints whose category is N). The few of those the supported
// pre-tokenizers use are plain character classes, implemented as runSplit.

// A splitStep refines segments: segs holds segment lengths in codepoints,
// summing to len(cpts); the result does the same with finer segments.
type splitStep func(cpts []uint32, segs []int) []int

// preTokenizer is what a tokenizer.ggml.pre name selects in llama.cpp.
type preTokenizer struct {
	steps []splitStep
	// cleanSpaces is llama.cpp's clean_spaces: detokenize removes the space
	// before ?!., and in some contractions.
	cleanSpaces bool
	// ignoreMerges: a word that is already a token is emitted whole.
	ignoreMerges bool
	// addBOS is the add_bos default before tokenizer.ggml.add_bos_token is read.
	addBOS bool
	// noBOS: llama.cpp clears the default BOS id (chatglm).
	noBOS bool
}

var (
	stepGPT2   splitStep = splitGPT2
	stepLlama3 splitStep = func(c []uint32, s []int) []int { return splitLlama3(c, s, 3, false) }
	stepQwen2  splitStep = func(c []uint32, s []int) []int { return splitLlama3(c, s, 1, false) }
	stepQwen35 splitStep = func(c []uint32, s []int) []int { return splitLlama3(c, s, 1, true) }
	// stepPunct is "[\p{P}\$\+<=>\^~\|]+".
	stepPunct splitStep = func(c []uint32, s []int) []int { return runSplit(c, s, isPunctRunCpt, false) }
	// stepNumbers is "\p{N}+"; stepNumber is "\p{N}".
	stepNumbers splitStep = func(c []uint32, s []int) []int { return runSplit(c, s, isNumberCpt, false) }
	stepNumber  splitStep = func(c []uint32, s []int) []int { return runSplit(c, s, isNumberCpt, true) }
	// stepDigits3 is "[0-9][0-9][0-9]".
	stepDigits3 splitStep = splitDigits3
)

// preTokenizers maps every tokenizer.ggml.pre value this package supports to
// llama.cpp's settings for it (llama_vocab::impl::load and llm_tokenizer_bpe).
// Names llama.cpp knows but whose regexes are not ported here are absent;
// New rejects them.
var preTokenizers = func() map[string]preTokenizer {
	m := map[string]preTokenizer{}
	add := func(p preTokenizer, names ...string) {
		for _, n := range names {
			m[n] = p
		}
	}
	deflt := []splitStep{stepPunct, stepGPT2, stepNumbers, stepDigits3}
	add(preTokenizer{steps: deflt, cleanSpaces: true}, "", "default")
	gpt2 := []splitStep{stepGPT2}
	add(preTokenizer{steps: gpt2, cleanSpaces: true},
		"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
		"mellum", "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "exaone4")
	add(preTokenizer{steps: gpt2}, "trillion", "granite-docling")
	llama3 := []splitStep{stepLlama3}
	add(preTokenizer{steps: llama3, cleanSpaces: true, ignoreMerges: true, addBOS: true},
		"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano")
	add(preTokenizer{steps: llama3, cleanSpaces: true}, "dbrx", "smaug-bpe")
	add(preTokenizer{steps: llama3, cleanSpaces: true, noBOS: true}, "glm4", "chatglm-bpe")
	qwen2 := []splitStep{stepQwen2}
	add(preTokenizer{steps: qwen2}, "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2")
	add(preTokenizer{steps: qwen2, cleanSpaces: true}, "megrez", "stablelm2")
	add(preTokenizer{steps: []splitStep{stepQwen35}}, "qwen35")
	starcoder := []splitStep{stepNumber, stepGPT2}
	add(preTokenizer{steps: starcoder, cleanSpaces: true},
		"starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2")
	add(preTokenizer{steps: starcoder}, "command-r", "smollm")
	add(preTokenizer{steps: []splitStep{stepPunct, stepGPT2, stepDigits3}, cleanSpaces: true}, "falcon")
	return m
}()

// splitText runs steps over text and returns the words as UTF-8 strings
// re-encoded from the codepoints, as llama.cpp does: a byte that was not valid
// UTF-8 comes back as U+FFFD.
func splitText(text string, steps []splitStep) ([]string, error) {
	cpts := decodeCodepoints(text)
	segs := []int{len(cpts)}
	for _, step := range steps {
		segs = step(cpts, segs)
	}
	words := make([]string, 0, len(segs))
	var buf []byte
	start := 0
	for _, n := range segs {
		buf = buf[:0]
		for _, c := range cpts[start : start+n] {
			var err error
			if buf, err = appendCodepoint(buf, c); err != nil {
				return nil, err
			}
		}
		words = append(words, string(buf))
		start += n
	}
	return words, nil
}

// segment gives the hand-coded splitters llama.cpp's view of one segment:
// positions outside it read as codepoint outOfRange with flags 0.
type segment struct {
	cpts     []uint32
	ini, end int
	prevEnd  int
	out      []int
}

const outOfRange = 0xFFFFFFFF

func (s *segment) cpt(pos int) uint32 {
	if s.ini <= pos && pos < s.end {
		return s.cpts[pos]
	}
	return outOfRange
}

func (s *segment) flags(pos int) uint16 {
	if s.ini <= pos && pos < s.end {
		return cptFlags(s.cpts[pos])
	}
	return 0
}

// add closes the current word at end and returns its length.
func (s *segment) add(end int) int {
	n := end - s.prevEnd
	if n > 0 {
		s.out = append(s.out, n)
	}
	s.prevEnd = end
	return n
}

// forSegments runs split once per segment, accumulating the new lengths.
func forSegments(cpts []uint32, segs []int, split func(s *segment)) []int {
	s := &segment{cpts: cpts, out: make([]int, 0, len(segs))}
	start := 0
	for _, n := range segs {
		s.ini, s.end, s.prevEnd = start, start+n, start
		split(s)
		start += n
	}
	return s.out
}

const (
	wsLetterNumber = flagWhitespace | flagLetter | flagNumber
)

// splitGPT2 is unicode_regex_split_custom_gpt2, llama.cpp's reading of
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
func splitGPT2(cpts []uint32, segs []int) []int {
	return forSegments(cpts, segs, func(s *segment) {
		for pos := s.ini; pos < s.end; {
			c := s.cpt(pos)
			f := s.flags(pos)
			if c == '\'' && pos+1 < s.end {
				next := s.cpt(pos + 1)
				if next == 's' || next == 't' || next == 'm' || next == 'd' {
					pos += s.add(pos + 2)
					continue
				}
				if pos+2 < s.end {
					nn := s.cpt(pos + 2)
					if (next == 'r' && nn == 'e') || (next == 'v' && nn == 'e') || (next == 'l' && nn == 'l') {
						pos += s.add(pos + 3)
						continue
					}
				}
			}
			f2 := f
			if c == ' ' {
				f2 = s.flags(pos + 1)
			}
			space := 0
			if c == ' ' {
				space = 1
			}
			if f2&flagLetter != 0 || f2&flagNumber != 0 {
				class := f2 & (flagLetter | flagNumber)
				pos += space
				for f2&class != 0 {
					pos++
					f2 = s.flags(pos)
				}
				s.add(pos)
				continue
			}
			if f2&wsLetterNumber == 0 && f2 != 0 {
				pos += space
				for f2&wsLetterNumber == 0 && f2 != 0 {
					pos++
					f2 = s.flags(pos)
				}
				s.add(pos)
				continue
			}
			nws := 0
			for s.flags(pos+nws)&flagWhitespace != 0 {
				nws++
			}
			if nws > 1 && s.cpt(pos+nws) != outOfRange {
				pos += nws - 1
				s.add(pos)
				continue
			}
			if nws > 0 {
				pos += nws
				s.add(pos)
				continue
			}
			pos++
			s.add(pos)
		}
	})
}

// splitLlama3 is unicode_regex_split_custom_llama3 (maxDigits 3),
// unicode_regex_split_custom_qwen2 (maxDigits 1) and
// unicode_regex_split_custom_qwen35 (maxDigits 1, marks), llama.cpp's reading of
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// where marks widens \p{L} to [\p{L}\p{M}] in the letter run and in the
// excluded set of the punctuation run.
//
// The contraction check lowercases with llama.cpp's simple lowercase map; the
// only codepoints it maps onto s, t, r, e, v, m, l or d are the ASCII capitals
// (U+0130 and U+212A map to i and k), so ASCII folding is exact.
func splitLlama3(cpts []uint32, segs []int, maxDigits int, marks bool) []int {
	word := flagLetter
	if marks {
		word |= flagMark
	}
	notPunct := flagWhitespace | flagNumber | word
	return forSegments(cpts, segs, func(s *segment) {
		for pos := s.ini; pos < s.end; {
			c := s.cpt(pos)
			f := s.flags(pos)
			if c == '\'' && pos+1 < s.end {
				next := asciiLower(s.cpt(pos + 1))
				if next == 's' || next == 't' || next == 'm' || next == 'd' {
					pos += s.add(pos + 2)
					continue
				}
				if pos+2 < s.end {
					nn := asciiLower(s.cpt(pos + 2))
					if (next == 'r' && nn == 'e') || (next == 'v' && nn == 'e') || (next == 'l' && nn == 'l') {
						pos += s.add(pos + 3)
						continue
					}
				}
			}
			if !(c == '\r' || c == '\n' || f&flagNumber != 0) {
				if f&word != 0 || s.flags(pos+1)&word != 0 {
					pos++
					for s.flags(pos)&word != 0 {
						pos++
					}
					s.add(pos)
					continue
				}
			}
			if f&flagNumber != 0 {
				ini := pos
				for s.flags(pos)&flagNumber != 0 {
					pos++
					if pos-ini >= maxDigits {
						s.add(pos)
						ini = pos
					}
				}
				s.add(pos)
				continue
			}
			f2 := f
			if c == ' ' {
				f2 = s.flags(pos + 1)
			}
			// llama.cpp tests f, not f2, for "inside the segment" here.
			if f2&notPunct == 0 && f != 0 {
				if c == ' ' {
					pos++
				}
				for f2&notPunct == 0 && f2 != 0 {
					pos++
					f2 = s.flags(pos)
				}
				for c2 := s.cpt(pos); c2 == '\r' || c2 == '\n'; c2 = s.cpt(pos) {
					pos++
				}
				s.add(pos)
				continue
			}
			nws, lastRN := 0, 0
			for s.flags(pos+nws)&flagWhitespace != 0 {
				if c2 := s.cpt(pos + nws); c2 == '\r' || c2 == '\n' {
					lastRN = pos + nws + 1
				}
				nws++
			}
			if lastRN > 0 {
				pos = lastRN
				s.add(pos)
				continue
			}
			if nws > 1 && s.cpt(pos+nws) != outOfRange {
				pos += nws - 1
				s.add(pos)
				continue
			}
			if nws > 0 {
				pos += nws
				s.add(pos)
				continue
			}
			pos++
			s.add(pos)
		}
	})
}

func asciiLower(c uint32) uint32 {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// runSplit applies a regex that is one character class, repeated (class+)
// or not (single): each maximal run of class codepoints, or each single one,
// becomes a segment, and so does each gap.
func runSplit(cpts []uint32, segs []int, class func(uint32) bool, single bool) []int {
	return forSegments(cpts, segs, func(s *segment) {
		for pos := s.ini; pos < s.end; {
			if !class(s.cpts[pos]) {
				pos++
				continue
			}
			s.add(pos)
			pos++
			for !single && pos < s.end && class(s.cpts[pos]) {
				pos++
			}
			s.add(pos)
		}
		s.add(s.end)
	})
}

// splitDigits3 is "[0-9][0-9][0-9]": leftmost non-overlapping runs of three
// ASCII digits.
func splitDigits3(cpts []uint32, segs []int) []int {
	digit := func(c uint32) bool { return '0' <= c && c <= '9' }
	return forSegments(cpts, segs, func(s *segment) {
		for pos := s.ini; pos < s.end; {
			if pos+3 <= s.end && digit(s.cpts[pos]) && digit(s.cpts[pos+1]) && digit(s.cpts[pos+2]) {
				s.add(pos)
				pos += 3
				s.add(pos)
				continue
			}
			pos++
		}
		s.add(s.end)
	})
}

// collapsedCategory reports whether c falls in the \p{...} class of the given
// category as llama.cpp's std::regex fallback sees it: non-ASCII codepoints
// are collapsed to one byte per category, whitespace first.
func collapsedCategory(c uint32, category uint16) bool {
	f := cptFlags(c)
	return f&flagWhitespace == 0 && f&categoryMask == category
}

// isNumberCpt is \p{N} in the collapsed form: ASCII 0-9, or non-ASCII N.
func isNumberCpt(c uint32) bool {
	if c < 128 {
		return '0' <= c && c <= '9'
	}
	return collapsedCategory(c, flagNumber)
}

// isPunctRunCpt is [\p{P}\$\+<=>\^~\|]: ASCII punctuation and these symbols
// (every printable ASCII non-alphanumeric except the backtick), or non-ASCII P.
func isPunctRunCpt(c uint32) bool {
	if c < 128 {
		b := byte(c)
		return b > ' ' && b < 0x7F && b != '`' &&
			!('0' <= b && b <= '9') && !('a' <= b && b <= 'z') && !('A' <= b && b <= 'Z')
	}
	return collapsedCategory(c, flagPunctuation)
}
