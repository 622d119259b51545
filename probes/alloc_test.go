package probes

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// allocated returns the bytes f allocates: MemStats.TotalAlloc's growth,
// which counts every allocation however short-lived.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// hostileTrace is a crafted trace file and what the reader may allocate
// for it beyond the common allowance: the lists a valid policy names
// (8 bytes per element, at most MaxList per list), which it must expand.
type hostileTrace struct {
	file  []byte
	extra uint64
}

// hostileTraces returns trace files of about 1 KiB whose zstd frame,
// header or first record claims far more than their bytes hold: counts,
// lists, ranges, sizes and windows at the reader's limits and beyond.
// Whitespace makes long lines that compress to almost nothing.
func hostileTraces(t testing.TB) map[string]hostileTrace {
	lines := goodLines(t)
	hdr, rec := lines[0], lines[1:]
	sub := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("%q not in %s", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	pad := func(s string, n int) string { return strings.Replace(s, "{", "{"+strings.Repeat(" ", n), 1) }
	file := func(extra uint64, ls ...string) hostileTrace {
		return hostileTrace{compress(t, []byte(strings.Join(ls, ""))), extra}
	}
	withHeader := func(h string) []string { return append([]string{h}, rec...) }
	records := fmt.Sprintf(`"records":%d`, len(rec))
	out := map[string]hostileTrace{}
	for _, n := range []string{"1099511627776", "4611686018427387904", "9223372036854775807", "-1"} {
		out["records "+n] = file(0, withHeader(sub(hdr, records, `"records":`+n))...)
		out["records "+n+", 1 MiB header"] = file(0, withHeader(pad(sub(hdr, records, `"records":`+n), 1<<20))...)
	}
	list := uint64(8 * MaxList)
	for _, field := range []string{"layers", "steps"} {
		out["policy "+field+" past MaxList"] = file(0, withHeader(sub(hdr, `"policy":{`, `"policy":{"`+field+`":"0-16777215",`))...)
		out["policy "+field+" at MaxList"] = file(list, withHeader(sub(hdr, `"policy":{`, `"policy":{"`+field+`":"0-1048575",`))...)
	}
	out["policy positions at MaxList"] = file(list, withHeader(sub(hdr, `"positions":"all"`, `"positions":"0-1048575"`))...)
	out["policy head"] = file(0, withHeader(sub(hdr, `"head":2`, `"head":9223372036854775807`))...)
	out["tokens 2^24"] = file(0, withHeader(sub(hdr, `"prompt_len":3`, `"prompt_len":16777216`))...)
	out["record positions"] = file(0, hdr, sub(rec[0], `"positions":"0-2"`, `"positions":"0-16777215"`))
	out["record per_token"] = file(0, hdr, sub(rec[0], `"per_token":8`, `"per_token":268435456`))
	out["record count"] = file(0, hdr, sub(rec[0], `"count":24`, `"count":9223372036854775807`))
	out["record step"] = file(0, hdr, sub(rec[0], `"step":0`, `"step":9223372036854775807`))
	out["1 MiB record line"] = file(0, hdr, pad(rec[0], 1<<20))
	out["8 MiB header line"] = file(0, withHeader(pad(hdr, 8<<20))...)
	out["8 MiB of blank lines"] = file(0, hdr, strings.Repeat("\n", 8<<20))
	small, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<16))
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	out["8 MiB line, 64 KiB window"] = hostileTrace{small.EncodeAll([]byte(pad(hdr, 8<<20)), nil), 0}
	out["sidecar size"] = file(0, withHeader(sub(hdr, `"records":`, `"tensors":{"file":"x.gguf","size":9223372036854775807,"sha256":"`+strings.Repeat("0", 64)+`"},"records":`))...)

	// zstd frames whose headers claim a 2 TiB window, or 2^63 bytes of
	// content in one segment (RFC 8878 §3.1.1.1).
	frame := func(descriptor byte, fields ...byte) []byte {
		b := binary.LittleEndian.AppendUint32(nil, 0xFD2FB528)
		b = append(append(b, descriptor), fields...)
		return append(b, 0x01, 0x00, 0x00) // one empty raw block, the last
	}
	out["zstd window 2 TiB"] = hostileTrace{frame(0x00, 0xF8), 0}
	out["zstd window 16 MiB"] = hostileTrace{frame(0x00, 0x70), 0}
	out["zstd window 32 MiB"] = hostileTrace{frame(0x00, 0x78), 0}
	out["zstd content 2^63"] = hostileTrace{frame(0xE0, 0, 0, 0, 0, 0, 0, 0, 0x80), 0}
	return out
}

// TestHostileTraceAllocation reads crafted trace files of about 1 KiB and
// bounds what the reader allocates for each by eight times its
// decompression budget (1 MiB + 1024 bytes per file byte) plus 1 MiB, and
// a valid policy's lists. Each must also be refused, except the policies
// at MaxList, which are valid.
func TestHostileTraceAllocation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x"+TraceSuffix)
	for name, h := range hostileTraces(t) {
		if err := os.WriteFile(path, h.file, 0o644); err != nil {
			t.Fatal(err)
		}
		var err error
		got := allocated(func() { _, err = ReadFile(path) })
		t.Logf("%-36s %5d bytes: allocated %9d (%v)", name, len(h.file), got, err)
		if len(h.file) > 2<<10 {
			t.Errorf("%s: the crafted file is %d bytes, not a small one", name, len(h.file))
		}
		if limit := 8*(minDecompressed+maxRatio*uint64(len(h.file))) + 1<<20 + h.extra; got > limit {
			t.Errorf("%s: reading a %d-byte file allocated %d bytes, more than %d", name, len(h.file), got, limit)
		}
		if (err == nil) != (h.extra > 0) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
