package llamacpp

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layerwise/parity/probes"
)

// writeNPY writes a little-endian float32 .npy (format 1.0) of the shape.
func writeNPY(t *testing.T, path string, shape []int, data []float32) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s,), }", strings.Join(dims, ", "))
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), byte(len(hdr)>>8))
	b = append(b, hdr...)
	for _, v := range data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// testDump writes a dump of a 3-token prompt and one decode step holding
// three nodes: attn_norm-0 of both steps and a last-layer l_out-1 that
// holds only the prompt's last row.
func testDump(t *testing.T) *Dump {
	t.Helper()
	dir := t.TempDir()
	index := "seq\tstep\tname\top\ttype\tne0\tne1\tne2\tne3\tfile\tsum\tsum_abs\tmin\tmax\tn_nan\n"
	for i, n := range []struct {
		step     int
		name, op string
		rows     int
		data     []float32
	}{
		{0, "attn_norm-0", "MUL", 3, []float32{0, 1, 2, 3, 4, 5}},
		{0, "l_out-1", "ADD", 1, []float32{10, 11}},
		{1, "attn_norm-0", "MUL", 1, []float32{20, 21}},
	} {
		file := fmt.Sprintf("s%03d-%05d-%s.npy", n.step, i, n.name)
		writeNPY(t, filepath.Join(dir, file), []int{n.rows, 2}, n.data)
		index += fmt.Sprintf("%d\t%d\t%s\t%s\tf32\t2\t%d\t1\t1\t%s\t0\t0\t0\t0\t0\n", i, n.step, n.name, n.op, n.rows, file)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.tsv"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens.txt"), []byte("prompt: 1 2 3\ngen step 1: 7 'x'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := ReadDump(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func rec(step, layer int, slot probes.Slot, perToken int, positions []int, full []float32) probes.Record {
	return probes.Record{Step: step, Layer: layer, Slot: slot, PerToken: perToken, Positions: positions, Full: full}
}

func TestPairs(t *testing.T) {
	d := testDump(t)
	if first, n := d.Positions(0); first != 0 || n != 3 {
		t.Errorf("Positions(0) = %d, %d; want 0, 3", first, n)
	}
	if first, n := d.Positions(1); first != 3 || n != 1 {
		t.Errorf("Positions(1) = %d, %d; want 3, 1", first, n)
	}
	x := []float32{9, 9, 9, 9, 9, 9}
	records := []probes.Record{
		rec(0, 0, probes.AttnNorm, 2, []int{0, 1, 2}, x),   // every row
		rec(0, 0, probes.AttnNorm, 2, []int{2}, x[:2]),     // a subset (Positions.Last)
		rec(0, 1, probes.Out, 2, []int{2}, x[:2]),          // short node: its one row is position 2
		rec(1, 0, probes.AttnNorm, 2, []int{3}, x[:2]),     // the decode step
		rec(0, 0, probes.FFNAct, 2, []int{0, 1, 2}, x),     // llama.cpp has no node: skipped
		rec(0, 1, probes.Out, 2, []int{0, 1, 2}, x),        // error: the node holds only position 2
		rec(0, -1, probes.Logits, 2, []int{0, 1, 2}, x),    // error: no result_output in the dump
		rec(0, 0, probes.AttnNorm, 4, []int{0}, x[:4]),     // error: 6 values are not rows of 4
		rec(0, 0, probes.AttnNorm, 2, []int{0, 1, 2}, nil), // error: not a full record
	}
	pairs, err := d.Pairs(records, "llama")
	want := [][]float32{{0, 1, 2, 3, 4, 5}, {4, 5}, {10, 11}, {20, 21}}
	if len(pairs) != len(want) {
		t.Fatalf("%d pairs, want %d (err %v)", len(pairs), len(want), err)
	}
	for i, p := range pairs {
		if !slices.Equal(p.Ref, want[i]) || len(p.Ref) != len(p.Record.Full) {
			t.Errorf("pair %d (%v): ref %v, want %v", i, p.Record.Key(), p.Ref, want[i])
		}
	}
	if err == nil {
		t.Fatal("no error for the four records that cannot be paired")
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 4 {
		t.Errorf("%d errors, want 4:\n%v", n, err)
	}
	for _, s := range []string{"not 0", "result_output", "not rows of 4", "not a full record"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not mention %q:\n%v", s, err)
		}
	}
}
