package quant

// Float helpers for the x86 kernel emulation (x86.go): the two horizontal
// sums ggml's x86 code reduces its accumulators with. (Its fused
// multiply-add is fp32.FMA.)

// hsum8 is hsum_float_8 (arch/x86/quants.c) and sgemm.cpp's hsum(__m256):
// add the high 128 bits to the low, then lanes 2,3 onto 0,1, then lane 1
// onto lane 0.
func hsum8(v *[8]float32) float32 {
	r0, r1, r2, r3 := v[4]+v[0], v[5]+v[1], v[6]+v[2], v[7]+v[3]
	return (r0 + r2) + (r1 + r3)
}

// reduce16 is GCC 12's _mm512_reduce_add_ps: the high 256 bits onto the
// low, then the high 128 onto the low, then lanes {2,3,0,1} onto {0,1,2,3},
// then lane 0 + lane 1.
func reduce16(v *[16]float32) float32 {
	var t [8]float32
	for i := range t {
		t[i] = v[8+i] + v[i]
	}
	return hsum8(&t)
}
