package runtimes

import (
	"errors"
	"testing"
)

func TestCheckRequest(t *testing.T) {
	const vocab, ctx = 100, 8
	eos := []int32{2}
	for _, c := range []struct {
		name string
		req  Request
		want error // nil: accepted; errAny: some other error
	}{
		{"ok", Request{Prompt: []int32{1, 99}, Decode: 6}, nil},
		{"empty prompt", Request{}, ErrEmptyPrompt},
		{"negative id", Request{Prompt: []int32{1, -1}}, ErrTokenID},
		{"id = vocab", Request{Prompt: []int32{100}}, ErrTokenID},
		{"forced id", Request{Prompt: []int32{1}, Decode: 2, Force: []int32{5, 100, 1000}}, ErrTokenID},
		{"unused forced id", Request{Prompt: []int32{1}, Decode: 1, Force: []int32{5, 100}}, nil},
		{"too few forced", Request{Prompt: []int32{1}, Decode: 3, Force: []int32{5}}, errAny},
		{"negative decode", Request{Prompt: []int32{1}, Decode: -1}, errAny},
		{"prompt past context", Request{Prompt: make([]int32, 9)}, ErrContext},
		{"prompt fills context", Request{Prompt: make([]int32, 8)}, nil},
		{"decode past context", Request{Prompt: make([]int32, 4), Decode: 5}, ErrContext},
		{"decode past context, forced", Request{Prompt: make([]int32, 4), Decode: 5, Force: make([]int32, 5), StopAt: eos}, ErrContext},
		{"decode may stop at EOS", Request{Prompt: make([]int32, 4), Decode: 5, StopAt: eos}, nil},
	} {
		err := CheckRequest(c.req, vocab, ctx)
		switch {
		case c.want == nil && err != nil, c.want == errAny && err == nil,
			c.want != nil && c.want != errAny && !errors.Is(err, c.want):
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := CheckRequest(Request{Prompt: make([]int32, 5000)}, vocab, 0); err != nil {
		t.Errorf("unknown context: %v", err)
	}
}

var errAny = errors.New("any error")
