package diff_test

import (
	"math"
	"path"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
)

// FuzzParseOverride: --threshold never panics; what it accepts is a finite
// budget ≥ 0 whose glob names at least one slot, that Thresholds applies to
// exactly the slots the glob matches, and whose String parses back to it.
func FuzzParseOverride(f *testing.F) {
	for _, s := range []string{"ffn_*=1e-3", "logits=0.01", " q = 0 ", "attn_*=", "=1", "[=1", "q=NaN", "q=-1", "q=1e400", "nope=1", "*=0x1p-3", "q=1=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := diff.ParseOverride(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "diff: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		if math.IsNaN(o.NMSE) || math.IsInf(o.NMSE, 0) || o.NMSE < 0 {
			t.Fatalf("%q: accepted budget %v", s, o.NMSE)
		}
		ths, err := diff.Thresholds(diff.ProfileQuant, []diff.Override{o})
		if err != nil {
			t.Fatalf("%q: Thresholds: %v", s, err)
		}
		matched := 0
		for _, th := range ths {
			if ok, _ := path.Match(o.Pattern, th.Slot.String()); ok {
				matched++
				if float64(th.NMSE) != o.NMSE {
					t.Fatalf("%q: %s has budget %v, want %v", s, th.Slot, th.NMSE, o.NMSE)
				}
			}
		}
		if matched == 0 {
			t.Fatalf("%q: accepted a glob that matches no slot", s)
		}
		again, err := diff.ParseOverride(o.String())
		if err != nil || again != o {
			t.Fatalf("%q → %q → %+v, %v", s, o.String(), again, err)
		}
	})
}
