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
