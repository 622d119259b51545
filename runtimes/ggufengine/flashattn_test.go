package ggufengine

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// flashGolden holds ggml's own flash attention results for flashCases:
// llama.cpp 3f545bec's ggml built with CMake Release, GGML_NATIVE=ON (GCC
// 12, -march=native on an AVX-512 CPU, plus -mno-avx512fp16 because the
// recording CPU had none), one ggml_flash_attn_ext node (GGML_PREC_F32, as
// build_attn_mha sets) computed by ggml_graph_compute_with_ctx with 2
// threads. Q is a permuted [hd, n_head, T] f32 tensor, K and V permuted
// [hd, n_head_kv, n_kv] f16 views, and the mask an [n_kv, T] f16 causal
// mask, as llama.cpp builds them. Per case the file holds the SHA-256 of
// all outputs and the last query row in full, so that a mismatch shows
// values without the file holding every output.
const flashGolden = "testdata/flashattn_golden.txt"

type flashCase struct {
	hd, T, pos0, nHead, nHeadKV, nKV int
	qMag                             float32
}

// flashCases reach every kernel and branch: the one-chunk kernel for
// prompts and decode with head dims below, at and past 64 (the f16 dot's
// and ggml_vec_mad_f16's leftovers), GQA and MQA, 64+ rows with a head
// dim that is not a multiple of 16 (still one-chunk); the tiled kernel
// with one and several query tiles, a partial KV tile, a prompt that does
// not start at 0 and n_kv 512; the split-KV kernel with chunk boundaries
// inside and at the end of the visible cells and 256- and 512-cell
// chunks.
var flashCases = []flashCase{
	{8, 5, 0, 8, 4, 256, 4},
	{64, 5, 0, 4, 2, 256, 2},
	{64, 1, 7, 4, 2, 256, 2},
	{8, 1, 5, 8, 4, 256, 4},
	{72, 3, 2, 2, 2, 256, 2},
	{40, 6, 0, 4, 1, 256, 2},
	{8, 70, 0, 8, 4, 256, 4},
	{64, 64, 0, 4, 2, 256, 2},
	{32, 100, 10, 2, 1, 256, 2},
	{64, 130, 0, 2, 2, 256, 2},
	{16, 300, 0, 2, 1, 512, 3},
	{64, 1, 300, 4, 2, 512, 2},
	{8, 1, 600, 8, 4, 768, 4},
	{72, 1, 511, 2, 1, 512, 2},
	{64, 1, 700, 2, 2, 1024, 2},
}

func (c flashCase) key() string {
	return fmt.Sprintf("%d %d %d %d %d %d %g", c.hd, c.T, c.pos0, c.nHead, c.nHeadKV, c.nKV, c.qMag)
}

// inputs draws the case's Q ([T][n_head][hd], uniform in ±qMag), then K
// and V ([n_kv][n_head_kv][hd], uniform in ±2 and ±3, rounded to f16)
// from a splitmix64 stream seeded by the case. Cells past pos0+T are
// masked for every query; they are drawn all the same, as ggml reads
// them.
func (c flashCase) inputs() (q, k, v []float32) {
	s := uint64(c.hd)<<48 ^ uint64(c.T)<<32 ^ uint64(c.pos0)<<16 ^ uint64(c.nHead)<<8 ^ uint64(c.nHeadKV)<<4 ^ uint64(c.nKV)<<20
	next := func() float32 {
		s += 0x9e3779b97f4a7c15
		z := s
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		return float32(int64(z>>40)-1<<23) / (1 << 23)
	}
	q = make([]float32, c.T*c.nHead*c.hd)
	for i := range q {
		q[i] = next() * c.qMag
	}
	k = make([]float32, c.nKV*c.nHeadKV*c.hd)
	v = make([]float32, len(k))
	for i := range k {
		k[i] = f16Round(next() * 2)
	}
	for i := range v {
		v[i] = f16Round(next() * 3)
	}
	return q, k, v
}

type flashWant struct {
	sum  string
	last []uint32
}

func readFlashGolden(t *testing.T) map[string]flashWant {
	t.Helper()
	f, err := os.Open(flashGolden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	golden := map[string]flashWant{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		key, rest, ok := strings.Cut(line, ": ")
		fields := strings.Fields(rest)
		if !ok || len(fields) < 2 {
			t.Fatalf("%s: malformed line %.40q", flashGolden, line)
		}
		w := flashWant{sum: fields[0]}
		for _, h := range fields[1:] {
			u, err := strconv.ParseUint(h, 16, 32)
			if err != nil {
				t.Fatalf("%s: %s: %v", flashGolden, key, err)
			}
			w.last = append(w.last, uint32(u))
		}
		golden[key] = w
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return golden
}

// TestFlashAttendMatchesGGML requires flashAttend to reproduce ggml's
// compiled flash attention bit for bit on every case.
func TestFlashAttendMatchesGGML(t *testing.T) {
	golden := readFlashGolden(t)
	for _, c := range flashCases {
		want, ok := golden[c.key()]
		if !ok {
			t.Errorf("%s: not in %s", c.key(), flashGolden)
			continue
		}
		q, k, v := c.inputs()
		qIn := append([]float32(nil), q...)
		dst := make([]float32, len(q))
		flashAttend(dst, q, k, v, c.T, c.pos0, c.nHead, c.nHeadKV, c.hd, c.nKV, 1/float32(math.Sqrt(float64(c.hd))), false, nil)
		for i := range q {
			if math.Float32bits(q[i]) != math.Float32bits(qIn[i]) {
				t.Fatalf("%s: flashAttend changed q[%d]", c.key(), i)
			}
		}
		row := c.nHead * c.hd
		if len(want.last) != row {
			t.Fatalf("%s: golden last row has %d values, want %d", c.key(), len(want.last), row)
		}
		last := dst[len(dst)-row:]
		for i, g := range last {
			if math.Float32bits(g) != want.last[i] {
				t.Errorf("%s: last row, head %d, element %d = %.9g, ggml %.9g", c.key(), i/c.hd, i%c.hd, g, math.Float32frombits(want.last[i]))
				break
			}
		}
		h := sha256.New()
		for _, x := range dst {
			_ = binary.Write(h, binary.LittleEndian, math.Float32bits(x))
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want.sum {
			t.Errorf("%s: SHA-256 of the outputs %s, ggml %s", c.key(), got, want.sum)
		}
	}
}

// TestFlashAttendKernelChoiceShows checks that the cases tell the kernels'
// arithmetic apart: running every case through the one-chunk loop alone
// must disagree with ggml on the cases the tiled and split-KV kernels
// take, so that passing TestFlashAttendMatchesGGML means those kernels
// were reproduced and not merely approximated.
func TestFlashAttendKernelChoiceShows(t *testing.T) {
	golden := readFlashGolden(t)
	for _, c := range flashCases {
		tiled, split := c.T >= flashTile && c.hd%16 == 0, c.T == 1 && c.nKV >= 512
		if !tiled && !split {
			continue
		}
		q, k, v := c.inputs()
		// One query row at a time with n_kv 256 is always one-chunk.
		dst := make([]float32, len(q))
		qd := c.nHead * c.hd
		for r := 0; r < c.T; r++ {
			flashAttend(dst[r*qd:(r+1)*qd], q[r*qd:(r+1)*qd], k, v, 1, c.pos0+r, c.nHead, c.nHeadKV, c.hd, 256, 1/float32(math.Sqrt(float64(c.hd))), false, nil)
		}
		want := golden[c.key()]
		same := true
		for i, g := range dst[len(dst)-qd:] {
			same = same && math.Float32bits(g) == want.last[i]
		}
		if same {
			t.Errorf("%s: the one-chunk kernel alone reproduces ggml's last row; the case does not exercise the %s kernel", c.key(), map[bool]string{true: "tiled", false: "split-KV"}[tiled])
		}
	}
}
