package llamacpp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNPYCorruption: every class of damage to an .npy file — magic,
// version, header length, dtype, order, shape, data size, and a cut at
// every byte (so at every section boundary: preamble, header length,
// header, data) — is an ErrDump naming the file, never a panic.
func TestNPYCorruption(t *testing.T) {
	good := npyImage("2, 3", []float32{0, 1, 2, 3, 4, 5})
	sub := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !strings.Contains(string(b), old) {
				t.Fatalf("%q not in the header", old)
			}
			return []byte(strings.Replace(string(b), old, new, 1))
		}
	}
	cases := map[string]func([]byte) []byte{
		"bad magic":            func(b []byte) []byte { b[1] = 'n'; return b },
		"version 0":            func(b []byte) []byte { b[6] = 0; return b },
		"version 4":            func(b []byte) []byte { b[6] = 4; return b },
		"header past EOF":      func(b []byte) []byte { b[8], b[9] = 0xff, 0xff; return b },
		"v2 header past EOF":   func(b []byte) []byte { return append([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"), b[10:]...) },
		"float64":              sub("'<f4'", "'<f8'"),
		"big-endian":           sub("'<f4'", "'>f4'"),
		"no dtype":             sub("'descr'", "'dtype'"),
		"Fortran order":        sub("False", "True "),
		"no shape":             sub("'shape'", "'shope'"),
		"negative dimension":   sub("(2, 3)", "(-2, 3)"),
		"non-numeric dim":      sub("(2, 3)", "(2, x)"),
		"wrapping shape":       sub("(2, 3)", "(4611686018427387904,)"),
		"more values than fit": sub("(2, 3)", "(2, 4)"),
		"fewer values":         sub("(2, 3)", "(1, 3)"),
		"a byte missing":       func(b []byte) []byte { return b[:len(b)-1] },
		"a byte extra":         func(b []byte) []byte { return append(b, 0) },
	}
	for n := range len(good) {
		cases[fmt.Sprintf("cut at %d", n)] = func(b []byte) []byte { return b[:n] }
	}
	dir := t.TempDir()
	for name, mut := range cases {
		path := filepath.Join(dir, "x.npy")
		if err := os.WriteFile(path, mut(append([]byte(nil), good...)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := ReadNPY(path)
		if !errors.Is(err, ErrDump) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want ErrDump naming the file", name, err)
		}
	}
	if _, _, err := ReadNPY(filepath.Join(dir, "none.npy")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestDumpIndexCorruption: damage to index.tsv or tokens.txt is an ErrDump
// naming the file (and the line, for the index), a missing file the os
// error; an .npy that disagrees with its index row fails Load.
func TestDumpIndexCorruption(t *testing.T) {
	const header = "seq\tstep\tname\top\ttype\tne0\tne1\tne2\tne3\tfile\tsum\tsum_abs\tmin\tmax\tn_nan\n"
	row := "0\t0\tembd\tGET_ROWS\tf32\t2\t3\t1\t1\tembd.npy\t1.5\t2.5\t-1\t1\t0\n"
	tokens := "prompt: 1 2 3\ngen step 1: 7 'x'\n"
	swap := func(old, new string) string { return strings.Replace(row, old, new, 1) }
	for _, c := range []struct{ name, index, tokens, msg string }{
		{"not an index", "seq,step,name\n" + row, tokens, "not a dump index"},
		{"14 columns", header + strings.Replace(row, "\t0\n", "\n", 1), tokens, "line 2: 14 columns"},
		{"16 columns", header + strings.Replace(row, "\n", "\t0\n", 1), tokens, "16 columns"},
		{"non-numeric seq", header + "x" + row[1:], tokens, "line 2"},
		{"non-numeric ne", header + swap("\t2\t3\t", "\ttwo\t3\t"), tokens, "line 2"},
		{"overflowing ne", header + swap("\t2\t3\t", "\t99999999999999999999\t3\t"), tokens, "out of range"},
		{"non-numeric sum", header + swap("1.5", "1.5.5"), tokens, "line 2"},
		{"negative step", header + swap("0\t0\tembd", "0\t-1\tembd"), tokens, "bad step -1"},
		{"path in file", header + swap("embd.npy", "../x.npy"), tokens, `"../x.npy"`},
		{"backslash in file", header + swap("embd.npy", `..\x.npy`), tokens, `..\\x.npy`},
		{"line over 1 MiB", header + swap("embd\t", strings.Repeat("e", 1<<20)+"\t"), tokens, "line 2"},
		{"no prompt line", header + row, "gen step 1: 7 'x'\n", "no prompt line"},
		{"bad prompt id", header + row, "prompt: 1 x 3\n", "tokens.txt"},
		{"prompt id past int32", header + row, "prompt: 1 2147483648\n", "out of range"},
		{"gen id past int32", header + row, "prompt: 1\ngen step 1: 2147483648 'x'\n", "out of range"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "index.tsv"), []byte(c.index), 0o644)
		os.WriteFile(filepath.Join(dir, "tokens.txt"), []byte(c.tokens), 0o644)
		_, err := ReadDump(dir)
		if !errors.Is(err, ErrDump) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want ErrDump mentioning %q", c.name, err, c.msg)
		}
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.tsv"), []byte(header+row), 0o644)
	if _, err := ReadDump(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing tokens.txt: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "tokens.txt"), []byte(tokens), 0o644)
	os.WriteFile(filepath.Join(dir, "embd.npy"), npyImage("3, 3", make([]float32, 9)), 0o644)
	d, err := ReadDump(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Load(&d.Entries[0]); !errors.Is(err, ErrDump) || !strings.Contains(err.Error(), "index says ne") {
		t.Errorf("npy of another shape: %v", err)
	}
	if _, err := ReadDump(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing index.tsv: %v", err)
	}
}
