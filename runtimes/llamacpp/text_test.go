package llamacpp

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cfloat formats v as C's printf does for format (%12.4f, %f): glibc
// writes nan, -nan, inf, -inf where Go writes NaN and +Inf.
func cfloat(format string, v float64) string {
	switch {
	case math.IsNaN(v):
		s := "nan"
		if math.Signbit(v) {
			s = "-nan"
		}
		return fmt.Sprintf(strings.Replace(strings.Replace(format, ".4f", "s", 1), "%f", "%s", 1), s)
	case math.IsInf(v, 0):
		s := "inf"
		if v < 0 {
			s = "-inf"
		}
		return fmt.Sprintf(strings.Replace(strings.Replace(format, ".4f", "s", 1), "%f", "%s", 1), s)
	}
	return fmt.Sprintf(format, v)
}

// printTensor writes one node as common_debug_cb_eval does (header, then
// the body of common_debug_print_tensor with n = 3), the value at flat
// index i being val(i). It returns the flat indices it printed.
func printTensor(b *bytes.Buffer, name, typ, op string, ne [4]int64, src1 bool, val func(int64) float64) []int64 {
	nes := func(ne [4]int64) string { return fmt.Sprintf("%d, %d, %d, %d", ne[0], ne[1], ne[2], ne[3]) }
	s1 := ""
	if src1 {
		s1 = fmt.Sprintf("leaf_6{%s}", nes([4]int64{ne[2], 1, 1, 1}))
	}
	fmt.Fprintf(b, "common_debug_cb_eval: %24s = (%s) %10s(src{%s}, %s}) = {%s}\n", name, typ, op, nes(ne), s1, nes(ne))
	if !bodyTypes[typ] {
		return nil
	}
	var sum float32
	n := ne[0] * ne[1] * ne[2] * ne[3]
	for i := range n {
		sum += float32(val(i))
	}
	var printed []int64
	for i3 := range ne[3] {
		b.WriteString("    [\n")
		for i2 := int64(0); i2 < ne[2]; i2++ {
			if i2 == 3 && ne[2] > 6 {
				b.WriteString("        ..., \n")
				i2 = ne[2] - 3
			}
			b.WriteString("        [\n")
			for i1 := int64(0); i1 < ne[1]; i1++ {
				if i1 == 3 && ne[1] > 6 {
					b.WriteString("            ..., \n")
					i1 = ne[1] - 3
				}
				b.WriteString("            [")
				for i0 := int64(0); i0 < ne[0]; i0++ {
					if i0 == 3 && ne[0] > 6 {
						b.WriteString("   ..., ")
						i0 = ne[0] - 3
					}
					flat := ((i3*ne[2]+i2)*ne[1]+i1)*ne[0] + i0
					printed = append(printed, flat)
					b.WriteString(cfloat("%12.4f", float64(float32(val(flat)))))
					if i0 < ne[0]-1 {
						b.WriteString(", ")
					}
				}
				b.WriteString("  ],\n")
			}
			b.WriteString("        ],\n")
		}
		b.WriteString("    ]\n")
		fmt.Fprintf(b, "    sum = %s\n", cfloat("%f", float64(sum)))
	}
	return printed
}

func TestParseSynthetic(t *testing.T) {
	shapes := [][4]int64{{4, 1, 1, 1}, {6, 6, 6, 1}, {7, 1, 1, 1}, {256, 16, 1, 1}, {64, 4, 16, 1}, {10, 8, 9, 2},
		{3, 0, 1, 1}, {0, 2, 1, 1}, {5, 7, 1, 3}, {1, 1, 1, 0}}
	val := func(i int64) float64 { return math.Sin(float64(i)) * float64(i%7) * 3 }
	var b bytes.Buffer
	want := map[string][]int64{}
	for k, ne := range shapes {
		name := fmt.Sprintf("t%d-%d (view)", k, k)
		want[name] = printTensor(&b, name, "f32", "VIEW", ne, k%2 == 0, val)
	}
	printTensor(&b, "w-0", "q4_K", "MUL_MAT", [4]int64{256, 4, 1, 1}, true, val)
	printTensor(&b, "result_output", "f16", "MUL_MAT", [4]int64{320, 1, 1, 1}, true, val)
	txt, err := ParseText(&b)
	if err != nil {
		t.Fatal(err)
	}
	if txt.Truncated != "" || len(txt.Tensors) != len(shapes)+2 {
		t.Fatalf("truncated %q, %d tensors", txt.Truncated, len(txt.Tensors))
	}
	for k, x := range txt.Tensors[:len(shapes)] {
		if x.Ne != shapes[k] || x.Op != "VIEW" || x.Type != "f32" || !x.Complete || x.HasSum != (shapes[k][3] > 0) {
			t.Errorf("%s: header %+v", x.Name, x)
		}
		if wantSrc := 1 + (k+1)%2; len(x.Src) != wantSrc || x.Src[0].Name != "src" || x.Src[0].Ne != shapes[k] {
			t.Errorf("%s: sources %+v", x.Name, x.Src)
		}
		idx := make([]int64, len(x.Known))
		for i, kv := range x.Known {
			idx[i] = kv.Index
			v := float64(float32(val(kv.Index)))
			if math.Abs(float64(kv.Value)-v) > 5e-5+1e-6*math.Abs(v) {
				t.Errorf("%s: value at %d is %v, want %v", x.Name, kv.Index, kv.Value, v)
			}
		}
		if !slices.Equal(idx, want[x.Name]) {
			t.Errorf("%s: indices %v, want %v", x.Name, idx, want[x.Name])
		}
	}
	if q := txt.Tensors[len(shapes)]; q.HasSum || len(q.Known) != 0 || q.Type != "q4_K" || !q.Complete {
		t.Errorf("quantized tensor: %+v", q)
	}
}

func TestParseSpecialValues(t *testing.T) {
	special := []float64{math.NaN(), math.Copysign(math.NaN(), -1), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1e6}
	var b bytes.Buffer
	printTensor(&b, "result_output", "f32", "MUL_MAT", [4]int64{6, 1, 1, 1}, true, func(i int64) float64 { return special[i] })
	txt, err := ParseText(&b)
	if err != nil {
		t.Fatal(err)
	}
	x := txt.Tensors[0]
	for i, kv := range x.Known {
		w := float32(special[i])
		if kv.Value != w && !(math.IsNaN(float64(w)) && math.IsNaN(float64(kv.Value))) {
			t.Errorf("value %d = %v, want %v", i, kv.Value, w)
		}
	}
	if !math.IsNaN(x.Sum) {
		t.Errorf("sum %v, want NaN", x.Sum)
	}
}

// Every prefix of real output, cut at a line end or inside a line, parses
// to the complete tensors before the cut and says it is truncated.
func TestParseTruncated(t *testing.T) {
	full := readShared(t, "tiny-qwen2-bpe-f32.txt")
	whole, err := ParseText(bytes.NewReader(full))
	if err != nil || whole.Truncated != "" {
		t.Fatalf("whole file: %v, truncated %q", err, whole.Truncated)
	}
	// The text is complete from the newline after result_output's sum on.
	last := bytes.LastIndex(full, []byte("    sum = "))
	complete := last + bytes.IndexByte(full[last:], '\n') + 1
	lines := bytes.SplitAfter(full, []byte("\n"))
	end := 0
	for i, l := range lines {
		end += len(l)
		for _, cut := range []int{end, end - len(l)/2} {
			txt, err := ParseText(bytes.NewReader(full[:cut]))
			if errors.Is(err, ErrNoTensors) && i == 0 {
				continue
			}
			if err != nil {
				t.Fatalf("cut at byte %d (line %d): %v", cut, i+1, err)
			}
			if (txt.Truncated == "") != (cut >= complete) {
				t.Fatalf("cut at byte %d (line %d): truncated %q", cut, i+1, txt.Truncated)
			}
			n := len(txt.Tensors)
			if n > 0 && !equalTensor(txt.Tensors[n-1], whole.Tensors[n-1]) {
				t.Fatalf("cut at byte %d (line %d): last tensor %q differs from the whole file's", cut, i+1, txt.Tensors[n-1].Name)
			}
		}
	}
}

func equalTensor(a, b Tensor) bool {
	return a.Name == b.Name && a.Op == b.Op && a.Ne == b.Ne && slices.Equal(a.Known, b.Known) && a.Sum == b.Sum
}

func readShared(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "llamacpp", "eval-callback", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseShared(t *testing.T) {
	for _, name := range []string{"tiny-qwen2-bpe-f32.txt", "tiny-qwen2-bpe-Q4_K_M.txt"} {
		raw := readShared(t, name)
		txt, err := ParseText(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if txt.Truncated != "" {
			t.Errorf("%s: %s", name, txt.Truncated)
		}
		if n := bytes.Count(raw, []byte("\ncommon_debug_cb_eval:")) + 1; len(txt.Tensors) != n {
			t.Errorf("%s: %d tensors, %d headers", name, len(txt.Tensors), n)
		}
		for _, x := range txt.Tensors {
			var want int64 = 1
			for _, n := range x.Ne[:3] {
				want *= min(n, 6)
			}
			want *= x.Ne[3]
			if !x.HasSum || int64(len(x.Known)) != want {
				t.Errorf("%s: %s: %d printed values, want %d", name, x.Name, len(x.Known), want)
			}
		}
		if m := MapNodes("qwen2", textNodes(txt)); len(m.Unmapped) != 0 {
			t.Errorf("%s: unmapped nodes %v", name, m.Unmapped)
		}
	}
}

func textNodes(txt *Text) []Node {
	out := make([]Node, len(txt.Tensors))
	for i, x := range txt.Tensors {
		out[i] = Node{Name: x.Name, Op: x.Op, Ne: x.Ne, Src0: x.Src[0].Name}
	}
	return out
}

func TestParseMalformed(t *testing.T) {
	head := "common_debug_cb_eval:                     embd = (f32)   GET_ROWS(token_embd.weight{8, 3, 1, 1}, inp_tokens{2, 1, 1, 1}}) = {4, 2, 1, 1}\n"
	row := "            [      0.2473,      -0.5378,      -0.2998,       0.1398  ],\n"
	cases := map[string]string{
		"row with too few values": head + "    [\n        [\n            [      0.2473  ],\n",
		"value not a number":      head + "    [\n        [\n" + strings.Replace(row, "0.2473", "0.2x73", 1),
		"missing close":           head + "    [\n        [\n" + row + row + "    sum = 1.0\n",
		"bad shape":               strings.Replace(head, "= {4, 2, 1, 1}", "= {4, -2, 1, 1}", 1),
		"huge shape":              strings.Replace(head, "= {4, 2, 1, 1}", "= {4000000, 4000000, 4000000, 1}", 1),
		"no op":                   strings.Replace(head, "GET_ROWS(", "(", 1),
		"bad sum":                 head + "    [\n        [\n" + row + row + "        ],\n    ]\n    sum = one\n",
	}
	for name, text := range cases {
		_, err := ParseText(strings.NewReader(text + "more text\n"))
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Line < 1 {
			t.Errorf("%s: error %v, want a FormatError with a line", name, err)
		}
	}
	for _, garbage := range []string{"", "hello\nworld\n", "\x00\xff\x93NUMPY"} {
		if _, err := ParseText(strings.NewReader(garbage)); !errors.Is(err, ErrNoTensors) {
			t.Errorf("%q: error %v, want ErrNoTensors", garbage, err)
		}
	}
}

// llama-debug lists its tokens after the tensors; a piece may contain
// spaces, parentheses and newlines.
func TestParseDebugTokens(t *testing.T) {
	var b bytes.Buffer
	printTensor(&b, "result_output", "f32", "MUL_MAT", [4]int64{8, 1, 1, 1}, true, func(i int64) float64 { return float64(i) })
	b.WriteString("\nModel add_bos: true\nInput prompt: \"Hi (x)\"\nToken ids (4):\n<s>(1) Hi(403)  ((9) \n(13) \n\n")
	txt, err := ParseText(&b)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{1, 403, 9, 13}; !slices.Equal(txt.Tokens, want) {
		t.Errorf("tokens %v, want %v", txt.Tokens, want)
	}
}

func FuzzParseText(f *testing.F) {
	raw := readShared(f, "tiny-qwen2-bpe-Q4_K_M.txt")
	f.Add(raw[:4096])
	f.Add(raw[len(raw)-2048:])
	var b bytes.Buffer
	printTensor(&b, "x-0", "f32", "ADD", [4]int64{7, 8, 7, 2}, true, func(i int64) float64 { return float64(i) })
	b.WriteString("Token ids (2):\na(1) b(2) \n")
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		txt, err := ParseText(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, x := range txt.Tensors {
			n := x.Ne[0] * x.Ne[1] * x.Ne[2] * x.Ne[3]
			for i, kv := range x.Known {
				if kv.Index < 0 || kv.Index >= n || i > 0 && kv.Index <= x.Known[i-1].Index {
					t.Fatalf("%s: known index %d of %d out of order or range", x.Name, kv.Index, n)
				}
			}
			if len(x.Known) > len(data) {
				t.Fatalf("%d values from %d bytes", len(x.Known), len(data))
			}
		}
	})
}
