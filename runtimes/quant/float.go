package quant

import (
	"encoding/binary"
	"math"
)

// Plain float types: F32, F16, BF16. Elements are little-endian, as in GGUF
// files and in ggml's memory on every platform llama.cpp supports.

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }

// f16 reads the little-endian fp16 at b[0:2] as float32.
func f16(b []byte) float32 { return fp16Table[binary.LittleEndian.Uint16(b)] }

func putF16(b []byte, h uint16) { binary.LittleEndian.PutUint16(b, h) }

func f32(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }

func putF32(b []byte, f float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(f)) }

func dequantF32(src []byte, dst []float32) {
	src = src[:4*len(dst)]
	for i := range dst {
		dst[i] = f32(src[4*i:])
	}
}

func dequantF16(src []byte, dst []float32) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = f16(src[2*i:])
	}
}

func dequantBF16(src []byte, dst []float32) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = BF16ToFP32(le16(src[2*i:]))
	}
}

func fromFloatF32(src []float32, dst []byte) {
	dst = dst[:4*len(src)]
	for i, v := range src {
		putF32(dst[4*i:], v)
	}
}

// quantF16Ref is ggml_fp32_to_fp16_row (ggml-base, software conversion),
// the F16 case of ggml_quantize_chunk.
func quantF16Ref(src []float32, dst []byte) {
	dst = dst[:2*len(src)]
	for i, v := range src {
		putF16(dst[2*i:], fp32ToFP16Ref(v))
	}
}

// fromFloatF16 is ggml_cpu_fp32_to_fp16 on F16C (vcvtps2ph).
func fromFloatF16(src []float32, dst []byte) {
	dst = dst[:2*len(src)]
	for i, v := range src {
		putF16(dst[2*i:], FP32ToFP16(v))
	}
}

// fromFloatBF16 is ggml_cpu_fp32_to_bf16 and ggml_fp32_to_bf16_row_ref
// (both the scalar GGML_FP32_TO_BF16).
func fromFloatBF16(src []float32, dst []byte) {
	dst = dst[:2*len(src)]
	for i, v := range src {
		putF16(dst[2*i:], FP32ToBF16(v))
	}
}
