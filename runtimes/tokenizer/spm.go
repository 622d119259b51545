package tokenizer

import (
	"container/heap"
	"fmt"
)

// SentencePiece (tokenizer.ggml.model = "llama"), as llama.cpp's
// llm_tokenizer_spm_session does it: not SentencePiece's own lattice search
// but a greedy bigram merge.
//
// The text (already prefixed with a space where llama.cpp adds one, and with
// every ' ' replaced by U+2581 "▁") is cut into symbols of one UTF-8 sequence
// each, the length read from the lead byte alone (utf8Len), so invalid bytes
// are symbols of their own. Every adjacent pair whose concatenation is a token
// is queued with that token's score. The queue pops the highest score first
// and, among equal scores, the leftmost pair. A popped pair whose symbols
// have changed since it was queued is stale and skipped. Merging a pair
// queues the new symbol with its left and right neighbours.
//
// Each final symbol is emitted as its token; a symbol that is not a token
// (only single, unmerged characters can be: a merge always forms a token) is
// emitted byte by byte through the byte tokens <0xXX>, or the one-byte token
// of that byte if the vocab has no <0xXX>. SentencePiece's unknown token is
// never produced. llama.cpp keeps a map from merged text back to its two
// halves for this fallback; it is never consulted for a single character,
// since no two adjacent symbols concatenate to one character, so it is not
// reproduced here.

type spmSymbol struct {
	prev, next int
	start, n   int // byte range in the text
}

type spmBigram struct {
	left, right int
	score       float32
	size        int
}

// spmQueue is a max-heap on (score, then smaller left).
type spmQueue []spmBigram

func (q spmQueue) Len() int { return len(q) }
func (q spmQueue) Less(i, j int) bool {
	if q[i].score != q[j].score {
		return q[i].score > q[j].score
	}
	return q[i].left < q[j].left
}
func (q spmQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *spmQueue) Push(x any)   { *q = append(*q, x.(spmBigram)) }
func (q *spmQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// encodeSPM appends the tokens of text to out.
func (t *Tokenizer) encodeSPM(text string, out []int32) ([]int32, error) {
	syms := make([]spmSymbol, 0, len(text))
	for off := 0; off < len(text); {
		n := min(utf8Len(text[off]), len(text)-off)
		i := len(syms)
		next := i + 1
		if off+n == len(text) {
			next = -1
		}
		syms = append(syms, spmSymbol{prev: i - 1, next: next, start: off, n: n})
		off += n
	}
	var q spmQueue
	tryAdd := func(left, right int) {
		if left == -1 || right == -1 {
			return
		}
		l, r := syms[left], syms[right]
		piece := text[l.start : r.start+r.n]
		id, ok := t.ids[piece]
		if !ok {
			return
		}
		heap.Push(&q, spmBigram{left: left, right: right, score: t.scores[id], size: len(piece)})
	}
	for i := 1; i < len(syms); i++ {
		tryAdd(i-1, i)
	}
	for q.Len() > 0 {
		b := heap.Pop(&q).(spmBigram)
		l, r := &syms[b.left], &syms[b.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
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
	for i := 0; i != -1 && len(syms) > 0; i = syms[i].next {
		s := syms[i]
		piece := text[s.start : s.start+s.n]
		if id, ok := t.ids[piece]; ok {
			out = append(out, id)
			continue
		}
		for j := 0; j < len(piece); j++ {
			id, err := t.spmByteToken(piece[j])
			if err != nil {
				return out, err
			}
			out = append(out, id)
		}
	}
	return out, nil
}

// spmByteTokens precomputes llama_vocab::byte_to_token for SentencePiece:
// the token <0xXX>, else the byte as a one-character token, else -1 (where
// llama.cpp throws). For 0x00 the fallback is the empty C string, which no
// token can be.
func spmByteTokens(ids map[string]int32) (t [256]int32) {
	for b := range t {
		t[b] = -1
		if id, ok := ids[fmt.Sprintf("<0x%02X>", b)]; ok {
			t[b] = id
		} else if id, ok := ids[string([]byte{byte(b)})]; ok && b != 0 {
			t[b] = id
		}
	}
	return t
}

func (t *Tokenizer) spmByteToken(b byte) (int32, error) {
	if id := t.byteTokens[b]; id >= 0 {
		return id, nil
	}
	return 0, fmt.Errorf("tokenizer: no byte token for 0x%02X: %w", b, ErrNoByteToken)
}
