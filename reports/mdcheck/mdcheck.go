// Package mdcheck checks markdown the way GitHub will read it: it renders
// with goldmark and its GitHub extensions (tables, strikethrough,
// autolinks, task lists) and compares every table in the source with the
// table that comes out. Only tests import it, so goldmark never reaches
// the parity binary.
package mdcheck

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

// Render returns the HTML of src. Raw HTML in src is passed through, as
// GitHub's renderer does before its sanitizer runs, so a test sees
// whatever markup the source would smuggle in.
func Render(src []byte) (string, error) {
	md := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	var b bytes.Buffer
	if err := md.Convert(src, &b); err != nil {
		return "", fmt.Errorf("mdcheck: %w", err)
	}
	return b.String(), nil
}

// Table is a rendered table: rows of cell texts (tags stripped, entities
// decoded), the header row first.
type Table [][]string

var (
	tableRE = regexp.MustCompile(`(?s)<table>(.*?)</table>`)
	rowRE   = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE  = regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`)
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	delimRE = regexp.MustCompile(`^\|(\s*:?-+:?\s*\|)+\s*$`)
)

// Tables renders src and returns its tables, after checking that each
// table written in src (a '|' header line followed by a delimiter row)
// renders as one table with every row written and, in every row, exactly
// the header's number of cells — so no cell content split a row or ended
// the table early.
func Tables(src []byte) ([]Table, error) {
	out, err := Render(src)
	if err != nil {
		return nil, err
	}
	var tables []Table
	for _, m := range tableRE.FindAllStringSubmatch(out, -1) {
		var t Table
		for _, r := range rowRE.FindAllStringSubmatch(m[1], -1) {
			var row []string
			for _, c := range cellRE.FindAllStringSubmatch(r[1], -1) {
				row = append(row, html.UnescapeString(tagRE.ReplaceAllString(c[1], "")))
			}
			t = append(t, row)
		}
		tables = append(tables, t)
	}
	written := sourceTables(string(src))
	if len(written) != len(tables) {
		return tables, fmt.Errorf("mdcheck: the source has %d tables, %d rendered", len(written), len(tables))
	}
	for i, w := range written {
		t := tables[i]
		if len(t) != len(w) {
			return tables, fmt.Errorf("mdcheck: table %d: %d rows written, %d rendered", i, len(w), len(t))
		}
		for j, n := range w {
			if n != w[0] {
				return tables, fmt.Errorf("mdcheck: table %d row %d has %d cells, the header %d", i, j, n, w[0])
			}
			if len(t[j]) != n {
				return tables, fmt.Errorf("mdcheck: table %d row %d: %d cells written, %d rendered", i, j, n, len(t[j]))
			}
		}
	}
	return tables, nil
}

// sourceTables returns, for each table in src, the cell count of each
// row (header first, delimiter row left out). Every line that starts
// with '|' must belong to a table.
func sourceTables(src string) [][]int {
	lines := strings.Split(src, "\n")
	var out [][]int
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "|") {
			continue
		}
		rows := []int{cells(lines[i])}
		if i+1 < len(lines) && delimRE.MatchString(lines[i+1]) {
			i += 2
			for ; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
				rows = append(rows, cells(lines[i]))
			}
		}
		out = append(out, rows)
	}
	return out
}

// cells counts a row's cells: the pipes between them, not escaped by a
// backslash, minus the leading and trailing ones.
func cells(line string) int {
	line = strings.TrimSpace(line)
	n, esc := 0, false
	for _, r := range line {
		switch {
		case esc:
			esc = false
		case r == '\\':
			esc = true
		case r == '|':
			n++
		}
	}
	return n - 1
}
