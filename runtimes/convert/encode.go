package convert

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/quant"
)

// keepF32 is aprender's should_skip_quantization (converter/mod.rs, after
// GH-88): norms, biases and tensors under 1024 elements are not worth
// quantizing and are precision-sensitive, so the integer modes write them as
// F32. The name is the APR name. Embeddings and lm_head are quantized like
// any matrix since GH-88.
func keepF32(name string, elements int64) bool {
	for _, p := range []string{"bias", "layernorm", "layer_norm", "norm.weight"} {
		if strings.Contains(name, p) {
			return true
		}
	}
	return elements < 1024
}

// targetDType is aprender's dispatch_quantize: f16 converts every tensor
// (it does not consult keepF32), the integer modes all but the kept ones.
func targetDType(name string, elements int64, q Quantize) apr.DType {
	switch {
	case q == F16:
		return apr.F16
	case q == F32 || keepF32(name, elements):
		return apr.F32
	case q == Q4K:
		return apr.Q4_K
	case q == APRQ8:
		return apr.APRQ8
	}
	return apr.APRQ4
}

// encode dequantizes a GGUF payload to f32 and writes it as p.DType.
//
// Q4_K follows aprender's quantize_q4_k_matrix: each row (innermost
// dimension) is zero-padded to a multiple of 256 and quantized on its own,
// so a row of 64 elements takes a whole 144-byte super-block. The blocks
// come from llama.cpp's reference quantizer (runtimes/quant), not from
// aprender's own, so they are valid Q4_K but not aprender's bytes; the
// APR-Q4/Q8 codecs and the f16 rounding are aprender's exactly.
func encode(p TensorPlan, src []byte) ([]byte, error) {
	n := int64(1)
	for _, d := range p.Shape {
		n *= d
	}
	vals := make([]float32, n)
	if err := quant.Dequantize(p.SourceType, src, vals); err != nil {
		return nil, fmt.Errorf("convert: tensor %s: %w", p.Source, err)
	}
	switch p.DType {
	case apr.F32:
		out := make([]byte, 4*n)
		for i, v := range vals {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
		}
		return out, nil
	case apr.F16:
		out := make([]byte, 2*n)
		for i, v := range vals {
			binary.LittleEndian.PutUint16(out[2*i:], quant.FP32ToFP16(v))
		}
		return out, nil
	case apr.APRQ8:
		return apr.QuantizeAPRQ8(vals), nil
	case apr.APRQ4:
		return apr.QuantizeAPRQ4(vals), nil
	case apr.Q4_K:
		return paddedQ4K(vals, p.Shape[len(p.Shape)-1])
	}
	return nil, fmt.Errorf("convert: tensor %s: no encoder for %v", p.Source, p.DType)
}

// paddedQ4K quantizes rows of cols values to Q4_K, each zero-padded to
// whole super-blocks.
func paddedQ4K(vals []float32, cols int64) ([]byte, error) {
	blocks := (cols + ggml.QK_K - 1) / ggml.QK_K
	rowBytes := blocks * int64(ggml.Q4_K.TypeSize())
	rows := int64(len(vals)) / cols
	out := make([]byte, rows*rowBytes)
	row := make([]float32, blocks*ggml.QK_K)
	for r := range rows {
		clear(row[cols:])
		copy(row, vals[r*cols:(r+1)*cols])
		if err := quant.Quantize(ggml.Q4_K, row, out[r*rowBytes:(r+1)*rowBytes]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
