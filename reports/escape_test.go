package reports

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/reports/mdcheck"
)

// Strings a hostile model file or trace could carry.
const (
	hScript = `<script>alert(1)</script>`
	hImg    = `"><img src=x onerror=alert(1)>`
	hPipe   = "a|b"
	hTick   = "`rm -rf /`"
	hMD     = `**bold** [x](javascript:alert(1)) ![y](http://x/y.png) &lt; $x$ ~~s~~ #`
	hTerm   = "\x1b]0;pwned\x07\x1b[31mred\u202eevil"
)

// hostileDocument is the fixed bisection with hostile strings wherever a
// file's text reaches a report: model paths, hashes and architecture,
// engine names and options, notes, reasons, fixes, alignment notes, the
// attribution note, the reference, and the command line.
func hostileDocument() *Document {
	bs := fixtureBisection()
	r := bs.Result
	r.A.Model.Path = "models/" + hScript + hPipe + ".gguf"
	r.B.Model.Path = hImg + hTick
	r.A.Model.Arch, r.A.Model.SHA256 = hPipe+hTick, hImg
	r.B.Engine = "gguf" + hPipe + hScript
	r.A.EngineOptions = map[string]string{"x" + hScript: hImg + hPipe}
	r.A.File = hImg
	r.Notes = append(r.Notes, hScript+hPipe+hTick+hTerm, hMD)
	p := &r.Pairs[r.First.Index]
	p.Reason = hImg + hPipe + hTick + hTerm
	q := &r.Pairs[r.First.Index+1]
	q.Note = hPipe + hTick + "<b>" + hMD
	r.Pairs[3].Metrics.Positions = hPipe + hScript
	r.Decode = &diff.Decode{Steps: []diff.DecodeStep{{Logits: &diff.LogitMetrics{Top1A: 1, Top1B: 2}}},
		FirstFlip: &diff.DecodeFlip{A: 1, B: 2, TextA: hScript + hPipe, TextB: hImg + hTick + hTerm}}
	bs.Attribution.Note = hScript + hPipe
	bs.Reference.Engine, bs.Reference.Statement, bs.Reference.Note = hPipe+hTick, hImg+hMD, hScript+hTerm
	d := NewBisection(bs, Meta{Tool: hScript, Command: []string{"parity", "bisect", "--a", hScript, "--prompt", hTick + "'" + hPipe + "\n```\n" + hImg}})
	d.Traces = []string{hPipe + hTick}
	return d
}

func TestHostileStringsText(t *testing.T) {
	out := string(render(t, FormatText, hostileDocument(), TextOptions{Verbose: true}))
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("a control character or bidi override reached the terminal:\n%q", out)
	}
	if !strings.Contains(out, `\x1b]0;pwned\x07\x1b[31mred\u202eevil`) {
		t.Errorf("control characters are not shown as escapes")
	}
}

var (
	// Every raw '<' in goldmark's output starts a tag (text has &lt;), so
	// listing the tags lists all markup the markdown produced.
	tagRE       = regexp.MustCompile(`<(/?)([a-zA-Z0-9!-]*)([^>]*)>`)
	safeAttrs   = regexp.MustCompile(`^(\s+(style="text-align:(left|right|center)"|class="language-sh"))*\s*$`)
	codeBlockRE = regexp.MustCompile(`(?s)<pre><code class="language-sh">(.*?)</code></pre>`)
	// The tags the markdown renderer writes itself (and <details>,
	// <summary>, <sub>, which Markdown writes as raw HTML).
	markdownTags = map[string]bool{"h3": true, "h4": true, "p": true, "strong": true, "code": true, "pre": true, "blockquote": true,
		"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "ul": true, "li": true,
		"details": true, "summary": true, "sub": true}
)

// unexpectedMarkup returns the first tag in out that markdown of ours
// does not produce, or that carries an attribute other than alignment.
func unexpectedMarkup(out string) string {
	for _, m := range tagRE.FindAllStringSubmatch(out, -1) {
		if !markdownTags[strings.ToLower(m[2])] || (m[1] == "" && !safeAttrs.MatchString(m[3])) {
			return m[0]
		}
	}
	return ""
}

func TestHostileStringsMarkdown(t *testing.T) {
	d := hostileDocument()
	src := render(t, FormatMarkdown, d, TextOptions{})
	tables, err := mdcheck.Tables(src)
	if err != nil {
		t.Fatalf("a hostile string broke a table: %v\n%s", err, src)
	}
	out, err := mdcheck.Render(src)
	if err != nil {
		t.Fatal(err)
	}
	// GitHub passes the rendered HTML through its sanitizer; here nothing
	// is sanitized, so any markup that survived would show.
	if m := unexpectedMarkup(out); m != "" {
		t.Errorf("markup survived the markdown: %q in\n%s", m, out)
	}
	if strings.Contains(out, "<strong>bold</strong>") {
		t.Error("a model string was interpreted as markdown emphasis")
	}
	models := tables[len(tables)-1]
	if got := models[1][3]; got != d.Result.A.Model.Path {
		t.Errorf("A's model cell reads %q, want %q", got, d.Result.A.Model.Path)
	}
	if got := models[2][3]; got != d.Result.B.Model.Path {
		t.Errorf("B's model cell reads %q, want %q", got, d.Result.B.Model.Path)
	}
	if got := models[1][5]; got != hPipe+hTick {
		t.Errorf("A's arch cell reads %q", got)
	}
	m := codeBlockRE.FindStringSubmatch(out)
	if m == nil || html.UnescapeString(m[1]) != d.Reproduce+"\n" {
		t.Errorf("the reproduce command did not survive its code block: %q, want %q", m, d.Reproduce)
	}
}

func TestHostileStringsHTML(t *testing.T) {
	out := string(render(t, FormatHTML, hostileDocument(), TextOptions{}))
	if n := strings.Count(strings.ToLower(out), "<script"); n != 1 {
		t.Errorf("%d <script> elements, want only the sort script", n)
	}
	for _, bad := range []string{"<img", "<b>", "onerror=alert(1)>"} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML report contains %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML report lacks the escaped %q", want)
		}
	}
}

func TestHostileStringsJSON(t *testing.T) {
	d := hostileDocument()
	out := render(t, FormatJSON, d, TextOptions{})
	if i := strings.IndexAny(string(out), "<>"); i >= 0 {
		t.Errorf("JSON has a raw %q at offset %d", out[i], i)
	}
	var back Document
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Result.A.Model.Path != d.Result.A.Model.Path || back.Result.Notes[1] != d.Result.Notes[1] || back.Command[5] != d.Command[5] {
		t.Error("hostile strings did not round-trip through JSON unchanged")
	}
}
