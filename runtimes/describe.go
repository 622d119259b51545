package runtimes

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/model"
)

// Format is a model file container.
type Format string

const (
	FormatGGUF Format = "gguf"
	FormatAPR  Format = "apr"
)

// DetectFormat reads the first bytes of path and names its container.
func DetectFormat(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return "", fmt.Errorf("runtimes: %s: too short to be a model file: %w", path, err)
	}
	switch {
	case bytes.Equal(magic[:], []byte("GGUF")):
		return FormatGGUF, nil
	case bytes.Equal(magic[:3], []byte("APR")):
		return FormatAPR, nil
	}
	return "", fmt.Errorf("runtimes: %s: unknown file format (magic %q); parity reads GGUF and APR", path, magic[:])
}

// Field is one line of a model description: a key and its rendered value.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TensorRow describes one tensor of a model file.
type TensorRow struct {
	Name   string  `json:"name"`
	DType  string  `json:"dtype"`
	Shape  []int64 `json:"shape"` // as stored: ne0 first for GGUF, row-major for APR
	Bytes  int64   `json:"bytes"`
	Offset int64   `json:"offset"` // absolute offset in the file
}

// Description is what parity inspect shows about a model file.
type Description struct {
	Path     string        `json:"path"`
	Format   Format        `json:"format"`
	Version  string        `json:"version"`
	Size     int64         `json:"size"`
	Summary  []Field       `json:"summary"`            // architecture, dims, rope, tokenizer …
	Config   *model.Config `json:"config,omitempty"`   // the same dimensions, typed, when the architecture is supported
	KV       []Field       `json:"kv,omitempty"`       // every metadata key, in file order (when asked)
	Tensors  []TensorRow   `json:"tensors"`            // in file order
	Problems []string      `json:"problems,omitempty"` // what would stop an engine from running it
}

// Describe opens a model file of either format and describes it. With
// allKV, every metadata key is listed as well (long arrays abbreviated).
func Describe(path string, allKV bool) (*Description, error) {
	format, err := DetectFormat(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatGGUF:
		f, err := gguf.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return describeGGUF(path, f, allKV), nil
	case FormatAPR:
		return describeAPRFile(path, allKV)
	}
	return nil, fmt.Errorf("runtimes: %s: reading %s files is not implemented yet", path, format)
}

func describeGGUF(path string, f *gguf.File, allKV bool) *Description {
	d := &Description{Path: path, Format: FormatGGUF, Version: strconv.Itoa(int(f.Version)), Size: f.Size()}
	add := func(k, v string) { d.Summary = append(d.Summary, Field{k, v}) }
	add("architecture", orNone(f.Architecture()))
	if name, ok := f.GetString("general.name"); ok {
		add("name", name)
	}
	if ft, ok := f.GetUint("general.file_type"); ok {
		add("file type", fileTypeName(ft))
	}
	cfg, err := model.ConfigFromGGUF(f)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
	} else {
		d.Config = cfg
		describeConfig(cfg, add)
		if err := cfg.Validate(); err != nil {
			d.Problems = append(d.Problems, err.Error())
		}
	}
	tm, _ := f.GetString("tokenizer.ggml.model")
	add("tokenizer", orNone(tm))
	if pre, ok := f.GetString("tokenizer.ggml.pre"); ok {
		add("tokenizer pre", pre)
	}
	if v, ok := f.Lookup("tokenizer.ggml.tokens"); ok {
		add("tokenizer vocab", strconv.Itoa(v.Len()))
	}
	for _, k := range []string{"bos_token_id", "eos_token_id"} {
		if v, ok := f.GetUint("tokenizer.ggml." + k); ok {
			add(strings.TrimSuffix(k, "_token_id"), strconv.FormatUint(v, 10))
		}
	}
	add("alignment", strconv.FormatInt(f.Alignment, 10))
	var total int64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		total += t.Size
		d.Tensors = append(d.Tensors, TensorRow{Name: t.Name, DType: t.Type.String(), Shape: t.Dims,
			Bytes: t.Size, Offset: f.DataOffset + t.Offset})
	}
	add("tensors", fmt.Sprintf("%d (%s)", len(f.Tensors), dtypeCensus(d.Tensors)))
	add("tensor bytes", strconv.FormatInt(total, 10))
	if allKV {
		for _, kv := range f.KVs {
			d.KV = append(d.KV, Field{kv.Key, kv.Value.String()})
		}
	}
	return d
}

func describeConfig(c *model.Config, add func(k, v string)) {
	itoa := strconv.Itoa
	add("n_embd", itoa(c.NEmbd))
	add("n_layer", itoa(c.NLayer))
	add("n_head", itoa(c.NHead))
	add("n_head_kv", itoa(c.NHeadKV))
	add("head_dim", itoa(c.HeadDim))
	add("n_ff", itoa(c.NFF))
	add("n_vocab", itoa(c.NVocab))
	if c.NCtx > 0 {
		add("n_ctx_train", itoa(c.NCtx))
	}
	add("rope", fmt.Sprintf("%s, base %g, scale %g, dims %d", c.Arch.Rope, c.RopeBase, c.RopeScale, c.RopeDim))
	add("rms_eps", fmt.Sprintf("%g", c.RMSEps))
	add("tied embeddings", strconv.FormatBool(c.TiedEmbeddings))
	if c.NExpert > 0 {
		add("experts", fmt.Sprintf("%d (%d used)", c.NExpert, c.NExpertUsed))
	}
}

// dtypeCensus renders "F32×11, Q8_0×37", most frequent first.
func dtypeCensus(ts []TensorRow) string {
	n := map[string]int{}
	for _, t := range ts {
		n[t.DType]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if n[keys[i]] != n[keys[j]] {
			return n[keys[i]] > n[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) == 0 {
		return "none"
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, n[k])
	}
	return strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// fileTypeNames are llama.cpp's llama_ftype values (llama.h).
var fileTypeNames = map[uint64]string{
	0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1", 7: "MOSTLY_Q8_0",
	8: "MOSTLY_Q5_0", 9: "MOSTLY_Q5_1", 10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S", 12: "MOSTLY_Q3_K_M",
	13: "MOSTLY_Q3_K_L", 14: "MOSTLY_Q4_K_S", 15: "MOSTLY_Q4_K_M", 16: "MOSTLY_Q5_K_S",
	17: "MOSTLY_Q5_K_M", 18: "MOSTLY_Q6_K", 19: "MOSTLY_IQ2_XXS", 20: "MOSTLY_IQ2_XS",
	21: "MOSTLY_Q2_K_S", 22: "MOSTLY_IQ3_XS", 23: "MOSTLY_IQ3_XXS", 24: "MOSTLY_IQ1_S",
	25: "MOSTLY_IQ4_NL", 26: "MOSTLY_IQ3_S", 27: "MOSTLY_IQ3_M", 28: "MOSTLY_IQ2_S",
	29: "MOSTLY_IQ2_M", 30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M", 32: "MOSTLY_BF16",
	36: "MOSTLY_TQ1_0", 37: "MOSTLY_TQ2_0", 38: "MOSTLY_MXFP4_MOE", 39: "MOSTLY_NVFP4",
	40: "MOSTLY_Q1_0", 41: "MOSTLY_Q2_0", 1024: "GUESSED",
}

func fileTypeName(ft uint64) string {
	if s, ok := fileTypeNames[ft]; ok {
		return fmt.Sprintf("%s (%d)", s, ft)
	}
	return fmt.Sprintf("unknown (%d)", ft)
}
