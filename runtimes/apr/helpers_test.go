package apr

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"testing"
)

// spec is one tensor to write in a test model.
type spec struct {
	name  string
	dt    DType
	shape []int64
	data  []byte
}

// lcg gives reproducible pseudo-random values without math/rand's
// version-dependent streams.
type lcg uint64

func (g *lcg) next() uint64 {
	*g = *g*6364136223846793005 + 1442695040888963407
	return uint64(*g >> 11)
}

func (g *lcg) floats(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(int64(g.next()%20001)-10000) / 4096
	}
	return out
}

func (g *lcg) bytes(n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(g.next())
	}
	return out
}

func halfBytes(vs []float32, conv func(float32) uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint16(b, conv(v))
	}
	return b
}

// sampleTensors covers every writable dtype, a Q4_K row that needs padding
// (300 = 256 + 44), an APR-Q4 block straddling rows, and a 3-D shape.
func sampleTensors() []spec {
	g := lcg(1)
	bf16 := func(f float32) uint16 { return uint16(math.Float32bits(f) >> 16) }
	return []spec{
		{"model.embed_tokens.weight", F32, []int64{5, 8}, f32Bytes(g.floats(40)...)},
		{"model.norm.weight", F16, []int64{8}, halfBytes(g.floats(8), f32ToF16)},
		{"lm_head.weight", BF16, []int64{5, 8}, halfBytes(g.floats(40), bf16)},
		{"blk.0.attn_q.weight", Q4_K, []int64{2, 300}, g.bytes(2 * 2 * 144)},
		{"blk.0.ffn_down.weight", Q6_K, []int64{1, 256}, g.bytes(210)},
		{"model.layers.0.mlp.up_proj.weight", APRQ4, []int64{3, 40}, QuantizeAPRQ4(g.floats(120))},
		{"model.layers.0.mlp.gate_proj.weight", APRQ8, []int64{5, 7}, QuantizeAPRQ8(g.floats(35))},
		{"experts", F32, []int64{2, 3, 4}, f32Bytes(g.floats(24)...)},
	}
}

// sampleMetadata sets typed fields of every kind plus a tokenizer whose
// strings need every JSON escaping rule.
func sampleMetadata(t testing.TB) Metadata {
	md := Metadata{
		ModelType:             "qwen2",
		License:               new("apache-2.0"),
		OriginalFormat:        new("gguf"),
		ParamCount:            1234,
		Quantization:          &Quantization{QuantType: "q4_k", Bits: 4, Symmetric: false},
		SpecialTokens:         &SpecialTokens{BOSToken: new("<|endoftext|>"), IMEndToken: new("<|im_end|>")},
		Architecture:          new("qwen2"),
		HiddenSize:            new(8),
		NumLayers:             new(1),
		NumHeads:              new(2),
		NumKVHeads:            new(1),
		VocabSize:             new(5),
		IntermediateSize:      new(16),
		MaxPositionEmbeddings: new(32768),
		RopeTheta:             new(float32(1e6)),
		RopeType:              new(uint32(2)),
		RMSNormEps:            new(float32(1e-6)),
	}
	tok := &Tokenizer{
		Model:       "gpt2",
		Vocabulary:  []string{"<|endoftext|>", "a\"b\\c", "\n\t\x01", "é€𝄞", "<&>\u2028"},
		Merges:      []string{"a b", "ab c"},
		Scores:      []float32{0, -1.5, -1e-7, 3.25, -1000},
		TokenType:   []int32{3, 1, 1, 1, 6},
		BOSTokenID:  new(0),
		EOSTokenID:  new(0),
		AddBOSToken: new(false),
	}
	if err := md.SetTokenizer(tok); err != nil {
		t.Fatal(err)
	}
	if err := md.SetCustom("tied_embeddings", true); err != nil {
		t.Fatal(err)
	}
	if err := md.SetCustom("tensor_shapes", map[string][]int{"lm_head.weight": {5, 8}, "experts": {2, 3, 4}}); err != nil {
		t.Fatal(err)
	}
	return md
}

func writeModel(t testing.TB, md Metadata, ts []spec) []byte {
	t.Helper()
	w := NewWriter(md)
	for _, s := range ts {
		w.AddTensor(s.name, s.dt, s.shape, s.data)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawEntry is an index entry written verbatim, right or wrong.
type rawEntry struct {
	name      string
	dt        byte
	dims      []uint64
	off, size uint64
}

// rawOpts selects how rawFile lays a file out.
type rawOpts struct {
	unpadded bool   // realizar's writer: index not padded
	noCRC    bool   // header CRC 0 and no footer
	magic    string // default "APR\x00"
	flags    Flags
}

// rawFile assembles a file from explicit parts, bypassing every check the
// Writer makes, so tests can build what no writer should.
func rawFile(md string, entries []rawEntry, data []byte, o rawOpts) []byte {
	var index []byte
	for _, e := range entries {
		index = binary.LittleEndian.AppendUint16(index, uint16(len(e.name)))
		index = append(index, e.name...)
		index = append(index, e.dt, byte(len(e.dims)))
		for _, d := range e.dims {
			index = binary.LittleEndian.AppendUint64(index, d)
		}
		index = binary.LittleEndian.AppendUint64(index, e.off)
		index = binary.LittleEndian.AppendUint64(index, e.size)
	}
	h := Header{Major: 2, Flags: o.flags, TensorCount: uint32(len(entries)),
		MetadataOffset: HeaderSize, MetadataSize: uint32(len(md))}
	copy(h.Magic[:], "APR\x00")
	if o.magic != "" {
		copy(h.Magic[:], o.magic)
	}
	h.IndexOffset = uint64(align64(HeaderSize + int64(len(md))))
	indexLen := int64(len(index))
	if !o.unpadded {
		indexLen = align64(indexLen)
	}
	h.DataOffset = h.IndexOffset + uint64(indexLen)
	b := make([]byte, h.DataOffset)
	copy(b[HeaderSize:], md)
	copy(b[h.IndexOffset:], index)
	b = append(b, data...)
	if !o.noCRC {
		h.Checksum = h.ComputeChecksum()
		b = binary.LittleEndian.AppendUint32(b, 0) // footer, set below
	}
	hb := h.Bytes()
	copy(b, hb[:])
	return fixCRC(b)
}

// fixCRC recomputes the header and footer CRCs of a checksummed file after
// a test has edited it, so that the edit, not a CRC, is what Parse sees.
func fixCRC(b []byte) []byte {
	if len(b) < HeaderSize+footerSize || binary.LittleEndian.Uint32(b[40:]) == 0 {
		return b
	}
	h := decodeHeader(b)
	h.Checksum = 0
	h.Checksum = h.ComputeChecksum()
	hb := h.Bytes()
	copy(b, hb[:])
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}
