package runtimes

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseTokens: --tokens never panics; what it accepts is a non-empty
// list of non-negative int32 ids that prints back, comma-separated, to the
// same list.
func FuzzParseTokens(f *testing.F) {
	for _, s := range []string{"1,403,407", " 1 2  3 ", "", ",", "1,x", "-1", "2147483647", "2147483648", "+5", "0x10", "1,,2", "１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ParseTokens(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "runtimes: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		if len(ids) == 0 {
			t.Fatalf("%q: accepted no ids", s)
		}
		parts := make([]string, len(ids))
		for i, id := range ids {
			if id < 0 {
				t.Fatalf("%q: negative id %d", s, id)
			}
			parts[i] = strconv.Itoa(int(id))
		}
		again, err := ParseTokens(strings.Join(parts, ","))
		if err != nil || !slices.Equal(again, ids) {
			t.Fatalf("%q → %v → %v, %v", s, ids, again, err)
		}
	})
}
