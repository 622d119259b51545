package llamacpp

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// npyImage returns a format-1.0 .npy file of the shape and values, as the
// dumper writes them (header padded to 64 bytes).
func npyImage(shape string, data []float32) []byte {
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }"
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), byte(len(hdr)>>8))
	b = append(b, hdr...)
	for _, v := range data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// FuzzDecodeNPY feeds arbitrary bytes to the .npy reader: it must never
// panic, and what it accepts must be consistent: as many values as the
// shape's product, four bytes of the file for each.
func FuzzDecodeNPY(f *testing.F) {
	f.Add(npyImage("2, 3", []float32{0, 1, 2, 3, 4, 5}))
	f.Add(npyImage("4,", []float32{1, float32(math.NaN()), float32(math.Inf(-1)), -0}))
	f.Add(npyImage("", []float32{7}))
	f.Add(npyImage("0, 5", nil))
	v2 := npyImage("1,", []float32{1})
	v2 = append([]byte("\x93NUMPY\x02\x00"), append([]byte{v2[8], v2[9], 0, 0}, v2[10:]...)...)
	f.Add(v2)
	if files, _ := filepath.Glob(filepath.Join(sharedDir(f), "llamacpp", "stories260K-exact", "*.npy")); len(files) > 0 {
		if b, err := os.ReadFile(files[0]); err == nil && len(b) < 1<<16 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		data, shape, err := decodeNPY(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		n := int64(1)
		for _, d := range shape {
			if d < 0 {
				t.Fatalf("negative dimension in %v", shape)
			}
			n *= d
		}
		if int64(len(data)) != n || 4*len(data) > len(b) {
			t.Fatalf("%d values for shape %v from a %d-byte file", len(data), shape, len(b))
		}
	})
}

// FuzzReadDump feeds arbitrary index.tsv and tokens.txt contents to
// ReadDump: it must never panic, and an accepted dump has a prompt, steps
// ≥ 0 and entry file names that stay inside the dump directory.
func FuzzReadDump(f *testing.F) {
	const header = "seq\tstep\tname\top\ttype\tne0\tne1\tne2\tne3\tfile\tsum\tsum_abs\tmin\tmax\tn_nan\n"
	f.Add(header+"0\t0\tembd\tGET_ROWS\tf32\t64\t5\t1\t1\ts000-00000-embd.npy\t-3.35\t74.6\t-0.85\t1.08\t0\n",
		"prompt: 1 403 407\ngen step 1: 432 ','\n")
	f.Add(header+"1\t1\tl_out-0\tADD\tf32\t2\t1\t1\t1\tx.npy\tnan\tinf\t-inf\t1e300\t3\n", "prompt: 5\n")
	dir := filepath.Join(sharedDir(f), "llamacpp", "stories260K-exact")
	if idx, err := os.ReadFile(filepath.Join(dir, "index.tsv")); err == nil {
		tok, _ := os.ReadFile(filepath.Join(dir, "tokens.txt"))
		f.Add(string(idx[:min(len(idx), 4096)]), string(tok))
	}
	work := f.TempDir()
	f.Fuzz(func(t *testing.T, index, tokens string) {
		if err := os.WriteFile(filepath.Join(work, "index.tsv"), []byte(index), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, "tokens.txt"), []byte(tokens), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := ReadDump(work)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "llamacpp: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		if len(d.Prompt) == 0 {
			t.Fatal("accepted a dump without prompt tokens")
		}
		for _, e := range d.Entries {
			if e.Step < 0 || strings.ContainsAny(e.File, `/\`) {
				t.Fatalf("accepted entry %+v", e)
			}
		}
	})
}
