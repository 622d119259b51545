// Shared macros of this package's assembly (cmd/asm expands macros per
// file; each .s file that needs one #includes this).

// HSUM8F is hsum_float_8 of Y(v) into X(v) lane 0 (xt is scratch):
// hi128 + lo128, then lanes 2,3 onto 0,1, then lane 1 onto lane 0.
#define HSUM8F(v, xv, xt) \
	VEXTRACTF128 $1, v, xt   \
	VADDPS   xv, xt, xv      \
	VMOVHLPS xv, xv, xt      \
	VADDPS   xt, xv, xv      \
	VMOVSHDUP xv, xt         \
	VADDSS   xt, xv, xv

// HSUM8F4 reduces four accumulators a, b, c, d (Y registers, their X
// halves xa…xd) with HSUM8F and stores the four sums at 0, 4, 8, 12(dst):
// the end of every four-token kernel.
#define HSUM8F4(dst, a, xa, b, xb, c, xc, d, xd) \
	HSUM8F(a, xa, X0)   \
	VMOVSS xa, 0(dst)   \
	HSUM8F(b, xb, X0)   \
	VMOVSS xb, 4(dst)   \
	HSUM8F(c, xc, X0)   \
	VMOVSS xc, 8(dst)   \
	HSUM8F(d, xd, X0)   \
	VMOVSS xd, 12(dst)
