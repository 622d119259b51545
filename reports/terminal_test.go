package reports

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewTableKeepsHeaderText(t *testing.T) {
	var b bytes.Buffer
	tab := NewTable(&b, []string{"n_embd", "bytes"}, 1)
	tab.Append("x", "12")
	tab.Append("long name", "3")
	if err := tab.Render(); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "n_embd") || strings.Contains(out, "N EMBD") {
		t.Errorf("header was reformatted:\n%s", out)
	}
	if !strings.Contains(out, "│    12 │") || !strings.Contains(out, "│     3 │") {
		t.Errorf("numeric column not right-aligned:\n%s", out)
	}
}

func TestColorMode(t *testing.T) {
	var b bytes.Buffer
	for s, want := range map[string]bool{"always": true, "never": false, "auto": false} {
		m, err := ParseColorMode(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Enabled(&b); got != want { // a buffer is never a terminal
			t.Errorf("%s: Enabled = %v", s, got)
		}
	}
	if _, err := ParseColorMode("sometimes"); err == nil {
		t.Error("ParseColorMode accepted nonsense")
	}
	if got := NewPainter(false).Bad("FAIL"); got != "FAIL" {
		t.Errorf("disabled painter changed the text: %q", got)
	}
	if got := NewPainter(true).Bad("FAIL"); !strings.Contains(got, "\x1b[31m") {
		t.Errorf("enabled painter did not color: %q", got)
	}
}
