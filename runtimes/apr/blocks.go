package apr

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The two APR-native quantized layouts, as aprender's AprV2Writer
// (add_q4_tensor, add_q8_tensor) produces them and realizar's
// AprV2Model::get_tensor_f32 decodes them. Both quantize the tensor
// flattened in row-major order, ignoring rows: an APR-Q4 block may straddle
// two rows, and APR-Q8 has a single scale for the whole tensor. That is why
// DequantizeRow takes the whole payload and an element offset rather than a
// row's bytes.
//
// APR-Q4, per 32 elements (the last block zero-padded):
//
//	off size
//	  0    2  scale, IEEE binary16: max|x| / 7 over the block (1 if all zero)
//	  2   16  nibbles: element i of the block in byte i/2, low nibble for
//	          even i, high for odd i; q = nibble − 8 ∈ [−8, 7]
//
//	x ≈ q · scale
//
// APR-Q8, for n elements:
//
//	off size
//	  0    4  scale, binary32: max|x| / 127 over the tensor (1 if all zero)
//	  4    n  q, int8 ∈ [−127, 127]
//
//	x ≈ q · scale
//
// Quantization rounds x/scale half away from zero (Rust's f32::round), then
// clamps; NaN inputs become q = 0 (Rust's saturating float→int cast) and are
// ignored when taking max|x| (f32::max drops NaN). For APR-Q4 the quotient
// uses the f32 scale, not the f16 one stored, exactly as aprender does.

const (
	q4Block      = 32
	q4BlockBytes = 2 + q4Block/2
)

// QuantizeAPRQ4 encodes src as APR-Q4 blocks, byte for byte what aprender's
// add_q4_tensor writes. The result has 18·⌈len(src)/32⌉ bytes.
func QuantizeAPRQ4(src []float32) []byte {
	out := make([]byte, 0, (len(src)+q4Block-1)/q4Block*q4BlockBytes)
	for start := 0; start < len(src); start += q4Block {
		block := src[start:min(start+q4Block, len(src))]
		scale := symmetricScale(block, 7)
		out = binary.LittleEndian.AppendUint16(out, f32ToF16(scale))
		var packed [q4Block / 2]byte
		for i, v := range block {
			nib := byte(quantizeOne(v, scale, 8, 7) + 8)
			packed[i/2] |= nib << (4 * (i % 2))
		}
		out = append(out, packed[:]...)
	}
	return out
}

// QuantizeAPRQ8 encodes src as APR-Q8, byte for byte what aprender's
// add_q8_tensor writes: 4+len(src) bytes, or none for an empty src.
func QuantizeAPRQ8(src []float32) []byte {
	if len(src) == 0 {
		return nil
	}
	scale := symmetricScale(src, 127)
	out := make([]byte, 4, 4+len(src))
	binary.LittleEndian.PutUint32(out, math.Float32bits(scale))
	for _, v := range src {
		out = append(out, byte(int8(quantizeOne(v, scale, 127, 127))))
	}
	return out
}

// symmetricScale is max|x|/qmax in f32, NaNs skipped, 1 when max|x| is 0.
func symmetricScale(xs []float32, qmax float32) float32 {
	var m float32
	for _, v := range xs {
		if a := float32(math.Abs(float64(v))); a > m {
			m = a
		}
	}
	if m == 0 {
		return 1
	}
	return m / qmax
}

// quantizeOne returns round(v/scale) clamped to [−lo, hi], 0 for NaN.
func quantizeOne(v, scale float32, lo, hi float64) int {
	q := math.Round(float64(v / scale))
	switch {
	case q != q:
		return 0
	case q < -lo:
		return int(-lo)
	case q > hi:
		return int(hi)
	}
	return int(q)
}

// DequantizeRow decodes elements [first, first+len(dst)) of an APR-Q4 or
// APR-Q8 tensor whose entire payload is data (as File.TensorData returns
// it). For row r of a [rows, cols] matrix, first = r·cols and len(dst) =
// cols. The ggml dtypes are decoded by runtimes/quant instead, and F32 needs
// no decoding; asking for any of them is an error, as is a range the payload
// does not cover.
func DequantizeRow(dt DType, data []byte, first int64, dst []float32) error {
	if first < 0 {
		return fmt.Errorf("apr: DequantizeRow: negative first element %d", first)
	}
	end := first + int64(len(dst))
	switch dt {
	case APRQ4:
		if len(dst) == 0 {
			return nil
		}
		if need := (end + q4Block - 1) / q4Block * q4BlockBytes; need > int64(len(data)) {
			return fmt.Errorf("apr: DequantizeRow: elements [%d,%d) need %d bytes of APR_Q4, have %d", first, end, need, len(data))
		}
		// One block (or the part of it inside the range) per iteration, so
		// each scale is decoded once.
		for i := 0; i < len(dst); {
			e := first + int64(i)
			blk := data[e/q4Block*q4BlockBytes:][:q4BlockBytes]
			scale := f16ToF32(binary.LittleEndian.Uint16(blk))
			j := int(e % q4Block)
			n := min(q4Block-j, len(dst)-i)
			for k := range n {
				q := int(blk[2+(j+k)/2]>>(4*((j+k)%2))&0x0f) - 8
				dst[i+k] = float32(q) * scale
			}
			i += n
		}
		return nil
	case APRQ8:
		if 4+end > int64(len(data)) {
			return fmt.Errorf("apr: DequantizeRow: elements [%d,%d) need %d bytes of APR_Q8, have %d", first, end, 4+end, len(data))
		}
		scale := math.Float32frombits(binary.LittleEndian.Uint32(data))
		for i, q := range data[4+first : 4+end] {
			dst[i] = float32(int8(q)) * scale
		}
		return nil
	}
	return fmt.Errorf("apr: DequantizeRow handles APR_Q4 and APR_Q8, not %v (ggml types go through runtimes/quant)", dt)
}

// f32ToF16 converts to IEEE binary16 rounding to nearest, ties to even, the
// way the Rust half crate (and F16C hardware) does: overflow gives ±Inf,
// NaN stays a quiet NaN keeping the top mantissa bits.
func f32ToF16(f float32) uint16 {
	x := math.Float32bits(f)
	sign := uint16(x>>16) & 0x8000
	exp := int(x>>23) & 0xff
	man := x & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00 | uint16(man>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	switch {
	case e >= 0x1f:
		return sign | 0x7c00
	case e <= 0:
		// Subnormal half (or zero): shift the full significand into place
		// and round on the bits shifted out.
		if 14-e > 24 {
			return sign
		}
		m := man | 0x800000
		shift := uint(14 - e)
		h := m >> shift
		round := uint32(1) << (shift - 1)
		if m&round != 0 && m&(3*round-1) != 0 {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(sign) | uint32(e)<<10 | man>>13
	// Round up when the dropped bits exceed half, or equal half with an odd
	// kept bit; a carry into the exponent is the correct result (up to Inf).
	if man&0x1000 != 0 && man&0x2fff != 0 {
		h++
	}
	return uint16(h)
}

// f16ToF32 widens IEEE binary16 exactly.
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
	case man == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: value = man · 2^-24, exact in f32.
	f := float32(man) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}
