package reports

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromiumPath is where Debian's chromium package installs the browser
// (.ci/run installs it).
const chromiumPath = "/usr/bin/chromium"

// chromium runs the headless browser with a fresh profile and no network
// chatter, and returns its standard output.
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser check skipped: %s is not installed (apt-get install chromium; .ci/run does it)", chromiumPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, chromiumPath, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

func writeHTML(t *testing.T, d *Document) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileHTML)
	if err := os.WriteFile(path, render(t, FormatHTML, d, TextOptions{}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowserRendersReport loads the bisection's report.html in headless
// chromium: the DOM after loading has the charts, the heatmap and the
// first-divergence marker, and a screenshot is written (to
// $PARITY_SCREENSHOT_DIR when set, to look at, else to the test's
// temporary directory).
func TestBrowserRendersReport(t *testing.T) {
	page := writeHTML(t, NewBisection(fixtureBisection(), fixtureMeta))
	dom := string(chromium(t, "--dump-dom", "file://"+page))
	for _, want := range []string{`<svg id="chart-error"`, `<svg id="chart-std"`, `<svg id="heatmap"`,
		`<rect id="first-divergence" class="first-divergence"`, `<tr class="fail first" id="first-divergence-row">`, "<polyline"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered DOM lacks %q", want)
		}
	}
	if n := strings.Count(dom, "<svg"); n < 3+fixtureLayers+2 {
		t.Errorf("%d SVG elements, want the two charts, the heatmap and a sparkline per layer row", n)
	}
	dir := os.Getenv("PARITY_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "report.png")
	chromium(t, "--screenshot="+shot, "--window-size=1280,2000", "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 1280 || cfg.Height != 2000 {
		t.Errorf("screenshot %s: %v, %dx%d", shot, err, cfg.Width, cfg.Height)
	}
	t.Logf("screenshot: %s", shot)
}

// TestBrowserSortsTable clicks the NMSE header twice (descending) from a
// script appended to the page and reads the table back: the sorter puts
// the largest NMSE first and the pair without one (REFUSED) last.
func TestBrowserSortsTable(t *testing.T) {
	d := NewDiff(fixtureResult(true), fixtureDiffMeta)
	page := render(t, FormatHTML, d, TextOptions{})
	click := `<script>var th=document.querySelectorAll("#pairs th")[11];th.click();th.click();</script></body>`
	path := filepath.Join(t.TempDir(), FileHTML)
	if err := os.WriteFile(path, bytes.Replace(page, []byte("</body>"), []byte(click), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(chromium(t, "--dump-dom", "file://"+path))
	start := strings.Index(dom, `<table class="sortable" id="pairs">`)
	if start < 0 || !strings.Contains(dom[start:], "</tbody>") {
		t.Fatal("the pair table is missing from the DOM")
	}
	body := dom[start:]
	body = body[:strings.Index(body, "</tbody>")]
	rows := strings.Split(body, "<tr")[2:] // [0] before the header, [1] the header
	slot := func(row string) string {
		cells := strings.Split(row, "<td")
		return cells[4][strings.Index(cells[4], ">")+1 : strings.Index(cells[4], "</td>")]
	}
	if len(rows) != len(d.Result.Pairs) || slot(rows[0]) != "k_rope" || slot(rows[1]) != "q_rope" || slot(rows[len(rows)-1]) != "ffn_up" {
		t.Errorf("after sorting by NMSE, descending: %d rows, first %q, %q, last %q", len(rows), slot(rows[0]), slot(rows[1]), slot(rows[len(rows)-1]))
	}
	if !strings.Contains(dom, `aria-sort="descending">NMSE</th>`) {
		t.Error("the NMSE header is not marked descending")
	}
}

// TestBrowserHostileReport checks in the browser's own parse that the
// hostile strings added no element: one script (the table sorter), no
// image.
func TestBrowserHostileReport(t *testing.T) {
	dom := string(chromium(t, "--dump-dom", "file://"+writeHTML(t, hostileDocument())))
	if n := strings.Count(dom, "<script"); n != 1 {
		t.Errorf("%d script elements in the DOM, want 1", n)
	}
	if strings.Contains(dom, "<img") || strings.Contains(dom, "<b>") {
		t.Error("a hostile string became an element")
	}
	if !strings.Contains(dom, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile path is not in the page as text")
	}
}
