package tokenizer

import (
	"container/heap"
	"strings"
)

// Byte-level BPE (tokenizer.ggml.model = "gpt2"), as llama.cpp's
// llm_tokenizer_bpe_session does it.
//
// The pre-tokenizer cuts the text into words (pretok.go). Each word's bytes
// are mapped to printable codepoints with GPT-2's byte-to-unicode table
// (byteRune), so "Ġ" stands for a space byte. The word is cut into one symbol
// per codepoint and every adjacent pair listed in tokenizer.ggml.merges is
// queued with its rank (its index in the list). The queue pops the lowest
// rank first and, among equal ranks, the leftmost pair; a pair whose symbols
// no longer spell the queued text is stale and skipped.
//
// Each final symbol is emitted as its token. A symbol that is not a token
// falls back to the tokens of its single bytes, and a byte with no token is
// dropped without a trace, exactly as llama.cpp does. With ignoreMerges
// (Llama 3 and a few others) a word that is already a token is emitted whole.

// byteRune is GPT-2's bytes_to_unicode: the printable bytes '!'..'~',
// '¡'..'¬' and '®'..'ÿ' stand for themselves; the other 68 bytes, in
// increasing order, get U+0100, U+0101, ...
var byteRune, runeByte = func() (fwd [256]rune, inv map[rune]byte) {
	printable := func(b int) bool {
		return (0x21 <= b && b <= 0x7E) || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
	}
	inv = make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if printable(b) {
			fwd[b] = rune(b)
		} else {
			fwd[b] = rune(256 + n)
			n++
		}
		inv[fwd[b]] = byte(b)
	}
	return fwd, inv
}()

// byteEncode maps every byte of s through byteRune.
func byteEncode(s string) string {
	var sb strings.Builder
	sb.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		sb.WriteRune(byteRune[s[i]])
	}
	return sb.String()
}

type mergePair struct{ left, right string }

// parseMerges builds the rank table as llama.cpp does: a merge splits at the
// first space after its first byte (a merge without one becomes the pair
// ("", "")), and the first occurrence of a pair keeps its rank.
func parseMerges(merges []string) map[mergePair]int {
	ranks := make(map[mergePair]int, len(merges))
	for i, m := range merges {
		var p mergePair
		if len(m) > 1 {
			if j := strings.IndexByte(m[1:], ' '); j >= 0 {
				p = mergePair{m[:j+1], m[j+2:]}
			}
		}
		if _, dup := ranks[p]; !dup {
			ranks[p] = i
		}
	}
	return ranks
}

type bpeSymbol struct {
	prev, next int
	start, n   int // byte range in the word
}

type bpeBigram struct {
	left, right int
	text        string
	rank        int
}

// bpeQueue is a min-heap on (rank, then left).
type bpeQueue []bpeBigram

func (q bpeQueue) Len() int { return len(q) }
func (q bpeQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].left < q[j].left
}
func (q bpeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bpeQueue) Push(x any)   { *q = append(*q, x.(bpeBigram)) }
func (q *bpeQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// encodeBPE appends the tokens of text to out.
func (t *Tokenizer) encodeBPE(text string, out []int32) ([]int32, error) {
	words, err := splitText(text, t.pre.steps)
	if err != nil {
		return out, err
	}
	var syms []bpeSymbol
	var q bpeQueue
	for _, w := range words {
		word := byteEncode(w)
		syms = syms[:0]
		q = q[:0]
		if _, whole := t.ids[word]; whole && t.pre.ignoreMerges {
			syms = append(syms, bpeSymbol{prev: -1, next: -1, n: len(word)})
		} else {
			for off := 0; off < len(word); {
				n := min(utf8Len(word[off]), len(word)-off)
				i := len(syms)
				next := i + 1
				if off+n == len(word) {
					next = -1
				}
				syms = append(syms, bpeSymbol{prev: i - 1, next: next, start: off, n: n})
				off += n
			}
		}
		symText := func(i int) string { return word[syms[i].start : syms[i].start+syms[i].n] }
		tryAdd := func(left, right int) {
			if left == -1 || right == -1 {
				return
			}
			rank, ok := t.ranks[mergePair{symText(left), symText(right)}]
			if !ok {
				return
			}
			heap.Push(&q, bpeBigram{left: left, right: right, text: word[syms[left].start : syms[right].start+syms[right].n], rank: rank})
		}
		for i := 1; i < len(syms); i++ {
			tryAdd(i-1, i)
		}
		for q.Len() > 0 {
			b := heap.Pop(&q).(bpeBigram)
			l, r := &syms[b.left], &syms[b.right]
			if l.n == 0 || r.n == 0 {
				continue
			}
			lt, rt := symText(b.left), symText(b.right)
			if len(lt)+len(rt) != len(b.text) || b.text[:len(lt)] != lt || b.text[len(lt):] != rt {
				continue
			}
			l.n += r.n
			r.n = 0
			l.next = r.next
			if r.next >= 0 {
				syms[r.next].prev = b.left
			}
			tryAdd(l.prev, b.left)
			tryAdd(b.left, l.next)
		}
		for i := range syms {
			if syms[i].n == 0 {
				continue
			}
			s := symText(i)
			if id, ok := t.ids[s]; ok {
				out = append(out, id)
				continue
			}
			for j := 0; j < len(s); j++ {
				if id, ok := t.ids[s[j:j+1]]; ok {
					out = append(out, id)
				}
			}
		}
	}
	return out, nil
}
