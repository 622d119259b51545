package diff

import (
	"errors"
	"testing"
)

func TestVerdictOrderAndErr(t *testing.T) {
	if got := Pass.Worse(Warn).Worse(Fail).Worse(Pass); got != Fail {
		t.Fatalf("worst of PASS,WARN,FAIL = %v", got)
	}
	if Fail.Worse(Refused) != Refused {
		t.Fatal("REFUSED must outrank FAIL")
	}
	for v, want := range map[Verdict]error{Pass: nil, Warn: nil, Fail: ErrDivergence, Refused: ErrRefused} {
		if err := v.Err(); !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("%v.Err() = %v, want %v", v, err, want)
		}
	}
}
