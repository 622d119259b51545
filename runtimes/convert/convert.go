package convert

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/runtimes/quant"
)

// Quantize selects how tensors whose ggml type APR cannot hold are written.
type Quantize string

// The --quantize modes of `apr import` that a conversion can use.
const (
	F32   Quantize = "f32"    // plain f32 (the default, no --quantize)
	F16   Quantize = "f16"    // IEEE half, every converted tensor
	Q4K   Quantize = "q4k"    // ggml Q4_K, rows zero-padded to 256
	APRQ8 Quantize = "apr-q8" // APR-Q8: one f32 scale per tensor
	APRQ4 Quantize = "apr-q4" // APR-Q4: f16 scale per 32 elements
)

// Modes lists the Quantize values, default first.
var Modes = []Quantize{F32, F16, Q4K, APRQ8, APRQ4}

// ParseQuantize parses a mode name; "" is F32.
func ParseQuantize(s string) (Quantize, error) {
	if s == "" {
		return F32, nil
	}
	if q := Quantize(strings.ToLower(s)); slices.Contains(Modes, q) {
		return q, nil
	}
	names := make([]string, len(Modes))
	for i, m := range Modes {
		names[i] = string(m)
	}
	return "", fmt.Errorf("convert: unknown quantize mode %q (want %s)", s, strings.Join(names, ", "))
}

// Options controls a conversion.
type Options struct {
	// Quantize is how tensors that cannot be copied are re-encoded after
	// dequantization; "" means F32. Tensors APR holds unchanged are always
	// copied, whatever the mode.
	Quantize Quantize
}

// TensorPlan says what happens to one tensor.
type TensorPlan struct {
	Name       string    // name in the APR file
	Source     string    // name in the GGUF file
	SourceType ggml.Type // type in the GGUF file
	DType      apr.DType // type in the APR file
	Shape      []int64   // APR shape (2-D reversed: [rows, cols])
	// Verbatim is set when the payload is the GGUF bytes unchanged;
	// otherwise the tensor is dequantized and re-encoded as DType.
	Verbatim bool
}

// Plan decides the name, shape and type of every tensor the APR file will
// hold, in GGUF order, with the synthesised lm_head.weight last for tied
// embeddings. It reads no tensor data. It fails for a model the engines
// could not run (model.ViewGGUF), for GGUF hyperparameters APR metadata
// cannot express (RoPE scaling, a partial rotary dimension), and for a
// tensor type runtimes/quant cannot dequantize.
func Plan(src *gguf.File, opts Options) ([]TensorPlan, error) {
	plans, _, err := plan(src, opts)
	return plans, err
}

// plan is Plan, also returning the validated configuration.
func plan(src *gguf.File, opts Options) ([]TensorPlan, *model.Config, error) {
	q, err := ParseQuantize(string(opts.Quantize))
	if err != nil {
		return nil, nil, err
	}
	w, err := model.ViewGGUF(src, "convert")
	if err != nil {
		return nil, nil, err
	}
	cfg := w.Config
	if cfg.RopeScale != 1 || cfg.RopeDim != cfg.HeadDim {
		return nil, nil, fmt.Errorf("convert: rope scale %g over %d of %d head dimensions has no APR metadata key; realizar would run the file unscaled",
			cfg.RopeScale, cfg.RopeDim, cfg.HeadDim)
	}
	hf := cfg.Arch.Name == "qwen2" || cfg.Arch.Name == "qwen3"
	var plans []TensorPlan
	for i := range src.Tensors {
		ti := &src.Tensors[i]
		name := ti.Name
		if hf {
			name, _ = model.GGUFToHF(name)
		}
		p, err := planTensor(ti, name, q)
		if err != nil {
			return nil, nil, err
		}
		plans = append(plans, p)
	}
	if cfg.TiedEmbeddings {
		emb, _ := src.Tensor(model.TokenEmbd.GGUFName(-1))
		p, err := planTensor(emb, model.Output.HFName(-1), q)
		if err != nil {
			return nil, nil, err
		}
		plans = append(plans, p)
	}
	return plans, cfg, nil
}

func planTensor(ti *gguf.TensorInfo, name string, q Quantize) (TensorPlan, error) {
	p := TensorPlan{Name: name, Source: ti.Name, SourceType: ti.Type, Shape: slices.Clone(ti.Dims)}
	if len(p.Shape) == 2 {
		p.Shape[0], p.Shape[1] = p.Shape[1], p.Shape[0]
	}
	if dt, ok := apr.FromGGML(ti.Type); ok {
		p.DType, p.Verbatim = dt, true
		return p, nil
	}
	if !quant.Supported(ti.Type) {
		return p, fmt.Errorf("convert: tensor %s: cannot dequantize %v", ti.Name, ti.Type)
	}
	p.DType = targetDType(name, ti.NumElements(), q)
	return p, nil
}

// FromGGUF converts an open GGUF model the way `apr import` does (see the
// package comment) and returns the APR writer holding it. Copied tensors
// reference src's mapping, and converted ones are encoded from it when the
// writer reaches them (one at a time, so converting a 7B model to f32
// needs the memory of its largest tensor, not of the whole output); src
// must stay open until the writer has written. An encoding error shows up
// as the writer's WriteTo error.
func FromGGUF(src *gguf.File, opts Options) (*apr.Writer, error) {
	plans, cfg, err := plan(src, opts)
	if err != nil {
		return nil, err
	}
	md, err := metadata(src, cfg, plans)
	if err != nil {
		return nil, err
	}
	w := apr.NewWriter(*md)
	for _, p := range plans {
		ti, _ := src.Tensor(p.Source)
		data := src.TensorData(ti)
		if p.Verbatim {
			w.AddTensor(p.Name, p.DType, p.Shape, data)
			continue
		}
		w.AddTensorFunc(p.Name, p.DType, p.Shape, func() ([]byte, error) { return encode(p, data) })
	}
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return w, nil
}

// ConvertFile converts the GGUF model at in into an APR file at out,
// written atomically (a temporary file renamed over out).
func ConvertFile(in, out string, opts Options) error {
	return ConvertFileContext(context.Background(), in, out, opts)
}

// ConvertFileContext is ConvertFile that stops when ctx is done (Ctrl-C
// during a multi-gigabyte conversion): it returns ctx's error and leaves
// out as it was, with no temporary file behind.
func ConvertFileContext(ctx context.Context, in, out string, opts Options) error {
	src, err := gguf.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	w, err := FromGGUF(src, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return apr.WriteFileContext(ctx, out, w)
}
