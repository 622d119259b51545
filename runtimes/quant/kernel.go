package quant

import (
	"fmt"
	"runtime"

	"github.com/layerwise/parity/runtimes/ggml"
)

// Kernel selects whose float summation order Kernel.MatMul reproduces.
// The activation conversion and every integer block sum are the same for
// all kernels; only the order in which the float partial sums are scaled,
// accumulated and reduced differs, which moves results by an ulp or so.
//
// ggml picks the order per build and per call: llama.cpp compiled for
// another CPU (an AVX2-only x86, ARM) or with other options sums
// differently from both kernels here, so bit-exactness with a recording
// holds only for the build the kernel names.
type Kernel uint8

const (
	// KernelGeneric is the scalar order of ggml's generic kernels:
	// ggml_vec_dot_*_generic (ggml-cpu/quants.c) and the non-SIMD branches
	// of ggml_vec_dot_f32/f16/bf16 (vec.cpp), one dot per output, as the
	// per-kernel doc comments of this package state. MatMul uses it.
	KernelGeneric Kernel = iota

	// KernelX86AVX512 is ggml-cpu at llama.cpp 3f545bec built with GCC 12
	// and -march=native on an AVX-512 CPU (AVX512F/BW/DQ/VL, FMA, F16C),
	// GGML_LLAMAFILE on and the CPU_REPACK buffer in use: the build of the
	// shared llama.cpp recordings. That CPU lacks AVX512-FP16; on one that
	// has it, ggml_vec_dot_f16 accumulates in fp16 and differs. Per weight
	// type:
	//   - F32, F16: with ≥ 2 activation rows, nCols % 16 == 0 and
	//     nRows % 4 == 0, llamafile's tinyBLAS (dotF32Tiny, dotF16Tiny);
	//     otherwise ggml_vec_dot_f32/f16 with 4×16 lanes (dotF32Vec,
	//     dotF16Vec).
	//   - Q8_0: ggml_vec_dot_q8_0_q8_0 for one row, tinyBLAS_Q0_AVX for
	//     more; both sum in the same order (dotQ8_0X86).
	//   - Q4_K with nRows % 8 == 0: repacked to block_q4_Kx8; the first
	//     nTok − nTok%4 rows go through ggml_gemm_q4_K_8x8_q8_K
	//     (dotQ4_KGemm), the rest through the GEMV (dotQ4_KGemv). The GEMM
	//     rows are quantized by ggml_quantize_mat_q8_K_4x8, which on a
	//     block holding both +amax and −amax takes the positive sign where
	//     quantize_row_q8_K takes the first; that negates d and every q of
	//     the block and leaves every product, hence every result, as is.
	//     Other Q4_K matrices: ggml_vec_dot_q4_K_q8_K (dotQ4_KX86).
	//   - Q6_K: ggml_vec_dot_q6_K_q8_K (dotQ6_KX86); x86 does not repack it.
	//   - Every other type keeps the generic order; no recording exercises
	//     them yet, and their x86 kernels (Q4_0/IQ4_NL repacks, Q5_0 in
	//     tinyBLAS, the other K-quant dots) are not emulated.
	// None of these orders depends on the thread count or on how ggml
	// splits the work into chunks: each output has its own accumulators,
	// and gemm against gemv is decided by nTok alone.
	KernelX86AVX512

	// KernelX86AVX512NoRepack is KernelX86AVX512 for a matrix that is not
	// in the CPU_REPACK buffer: llama.cpp run with --no-repack, or a Q4_K
	// token_embd reused as the LM head (llama.cpp keeps token_embd in the
	// plain CPU buffer because it is read with GET_ROWS). Q4_K then always
	// takes ggml_vec_dot_q4_K_q8_K.
	KernelX86AVX512NoRepack
)

func (k Kernel) String() string {
	switch k {
	case KernelGeneric:
		return "generic"
	case KernelX86AVX512:
		return "x86-avx512-llamafile-repack"
	case KernelX86AVX512NoRepack:
		return "x86-avx512-llamafile"
	}
	return fmt.Sprintf("Kernel(%d)", uint8(k))
}

// plan is how one matmul runs: how the activation rows are converted and
// which dot each output takes.
type plan struct {
	from func(src []float32, dst []byte)
	dot  func(n int, w, a []byte) float32
	// Activation rows < n4 (a multiple of 4) go through dot4 four at a
	// time: dst[i] is the dot of w with activation row i of a (aRow bytes
	// apart). Batching changes nothing in the arithmetic of one output; it
	// lets a kernel unpack a weight block once for four tokens.
	n4   int
	dot4 func(n int, w, a []byte, aRow int, dst *[4]float32)
	// inter4, when set, turns each group of four converted activation rows
	// (nb blocks each) into the inter4Bytes-per-block form dot4 takes.
	inter4      func(dst, a []byte, aRow, nb int)
	inter4Bytes int
	// prep, when set, unpacks each weight row (nb blocks) into prepBytes
	// per block once per row tile; dot4 then takes the unpacked row.
	prep      func(dst, w []byte, nb int)
	prepBytes int
}

// x86KernelSet holds the hot kernels of KernelX86AVX512 behind one
// indirection, so that the amd64 build swaps in assembly twins
// (x86_amd64.go) that return the same bits.
type x86KernelSet struct {
	q4KGemv  func(n int, w, a []byte) float32
	q4KGemm4 func(n int, w, a []byte, aRow int, dst *[4]float32)
	// q8KInter4, when set, rearranges each group of four Q8_K activation
	// rows for q4KGemm4, which then gets the rearranged group instead of
	// the rows (see plan.inter4).
	q8KInter4 func(dst, a []byte, aRow, nb int)
	// q4KPrep, when set, unpacks nb Q4_K blocks of a weight row into
	// q4KPrepBytes per block, and q4KGemm4P is q4KGemm4 on such a row.
	q4KPrep   func(dst, w []byte, nb int)
	q4KGemm4P func(n int, wp, ax []byte, aRow int, dst *[4]float32)
	q6K       func(n int, w, a []byte) float32
	q6K4      func(n int, w, a []byte, aRow int, dst *[4]float32)
	q8_0      func(n int, w, a []byte) float32
	q8_04     func(n int, w, a []byte, aRow int, dst *[4]float32)
	// q80Inter4, when set, rearranges each group of four Q8_0 activation
	// rows (q80Inter4Bytes per block) for q8_04I, which replaces q8_04.
	q80Inter4 func(dst, a []byte, aRow, nb int)
	q8_04I    func(n int, w, ax []byte, aRow int, dst *[4]float32)
	f32Tiny   func(n int, w, a []byte) float32
	f16Tiny   func(n int, w, a []byte) float32
	f32Vec    func(n int, w, a []byte) float32
	f16Vec    func(n int, w, a []byte) float32
}

// q8KInter4Bytes is the size of one block of four Q8_K rows as
// x86KernelSet.q8KInter4 rearranges them, q4KPrepBytes that of one Q4_K
// block as q4KPrep unpacks it.
const (
	q8KInter4Bytes = 1152
	q4KPrepBytes   = 352
	q80Inter4Bytes = 144 // four Q8_0 rows' blocks as x86KernelSet.q80Inter4 writes them
)

// goX86Kernels are the Go emulations the assembly must agree with.
var goX86Kernels = x86KernelSet{
	q4KGemv: dotQ4_KGemv, q4KGemm4: four(dotQ4_KGemm),
	q6K: dotQ6_KX86, q6K4: four(dotQ6_KX86),
	q8_0: dotQ8_0X86, q8_04: four(dotQ8_0X86), f32Tiny: dotF32Tiny, f16Tiny: dotF16Tiny, f32Vec: dotF32Vec, f16Vec: dotF16Vec,
}

var x86Kernels = goX86Kernels

// four batches a one-token dot for plan.dot4.
func four(dot func(n int, w, a []byte) float32) func(n int, w, a []byte, aRow int, dst *[4]float32) {
	return func(n int, w, a []byte, aRow int, dst *[4]float32) {
		for t := range dst {
			dst[t] = dot(n, w, a[t*aRow:])
		}
	}
}

func (k Kernel) plan(wt, at ggml.Type, nRows, nCols, nTok int) plan {
	p := plan{from: lookup(at).fromFloat, dot: lookup(wt).dot}
	if k == KernelGeneric {
		return p
	}
	batched := nTok >= 2
	switch wt {
	case ggml.F32:
		p.dot = x86Kernels.f32Vec
		if batched && nCols%16 == 0 && nRows%4 == 0 {
			p.dot = x86Kernels.f32Tiny
		}
	case ggml.F16:
		p.dot = x86Kernels.f16Vec
		if batched && nCols%16 == 0 && nRows%4 == 0 {
			p.dot = x86Kernels.f16Tiny
		}
	case ggml.Q8_0:
		p.dot = x86Kernels.q8_0
		p.n4, p.dot4 = nTok-nTok%4, x86Kernels.q8_04
		if x86Kernels.q80Inter4 != nil {
			p.inter4, p.inter4Bytes, p.dot4 = x86Kernels.q80Inter4, q80Inter4Bytes, x86Kernels.q8_04I
		}
	case ggml.Q4_K:
		p.dot = dotQ4_KX86
		if k == KernelX86AVX512 && nRows%8 == 0 {
			// The GEMM takes the rows in groups of four, the GEMV the rest.
			p.dot = x86Kernels.q4KGemv
			p.n4, p.dot4 = nTok-nTok%4, x86Kernels.q4KGemm4
			if x86Kernels.q8KInter4 != nil {
				p.inter4, p.inter4Bytes = x86Kernels.q8KInter4, q8KInter4Bytes
			}
			if x86Kernels.q4KPrep != nil {
				p.prep, p.prepBytes, p.dot4 = x86Kernels.q4KPrep, q4KPrepBytes, x86Kernels.q4KGemm4P
			}
		}
	case ggml.Q6_K:
		p.dot = x86Kernels.q6K
		p.n4, p.dot4 = nTok-nTok%4, x86Kernels.q6K4
	}
	return p
}

// rowTile is how many weight rows Kernel.MatMul runs past the activations
// together.
const rowTile = 16

// MatMul computes dst[t·nRows + r] = dot(w row r, x row t) like MatMul,
// summing in k's order. threads ≤ 0 means runtime.GOMAXPROCS(0); the
// result does not depend on it.
func (k Kernel) MatMul(dst []float32, w []byte, wt ggml.Type, nRows, nCols int, x []float32, nTok int, threads int) error {
	if k > KernelX86AVX512NoRepack {
		return fmt.Errorf("quant: matmul: unknown kernel %d", uint8(k))
	}
	at, ok := VecDotType(wt)
	if !ok {
		return &UnsupportedError{"matmul", wt}
	}
	if nRows < 0 || nCols < 0 || nTok < 0 {
		return fmt.Errorf("quant: matmul %s: negative shape %d×%d, %d tokens", wt, nRows, nCols, nTok)
	}
	if nCols%wt.BlockSize() != 0 || nCols%at.BlockSize() != 0 {
		return fmt.Errorf("quant: matmul %s: row length %d is not a multiple of the block size %d", wt, nCols, max(wt.BlockSize(), at.BlockSize()))
	}
	wRow := nCols / wt.BlockSize() * wt.TypeSize()
	aRow := nCols / at.BlockSize() * at.TypeSize()
	switch {
	case len(w) != nRows*wRow:
		return fmt.Errorf("quant: matmul %s: weights are %d bytes, %d rows of %d need %d", wt, len(w), nRows, nCols, nRows*wRow)
	case len(x) != nTok*nCols:
		return fmt.Errorf("quant: matmul %s: activations have %d values, %d tokens of %d need %d", wt, len(x), nTok, nCols, nTok*nCols)
	case len(dst) != nTok*nRows:
		return fmt.Errorf("quant: matmul %s: dst has %d values, want %d", wt, len(dst), nTok*nRows)
	}
	if nRows == 0 || nTok == 0 {
		return nil
	}

	bufp := scratch.Get().(*[]byte)
	defer scratch.Put(bufp)
	if cap(*bufp) < nTok*aRow {
		*bufp = make([]byte, nTok*aRow)
	}
	act := (*bufp)[:nTok*aRow]

	p := k.plan(wt, at, nRows, nCols, nTok)
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	parallel(nTok, threads, 4, func(t0, t1 int) {
		for t := t0; t < t1; t++ {
			p.from(x[t*nCols:(t+1)*nCols], act[t*aRow:(t+1)*aRow])
		}
	})
	// Groups of four rows rearranged for dot4, when the kernel wants that.
	var inter []byte
	groupBytes := 0
	if p.inter4 != nil && p.n4 > 0 {
		nb := nCols / at.BlockSize()
		groupBytes = nb * p.inter4Bytes
		ibufp := scratch.Get().(*[]byte)
		defer scratch.Put(ibufp)
		if cap(*ibufp) < p.n4/4*groupBytes {
			*ibufp = make([]byte, p.n4/4*groupBytes)
		}
		inter = (*ibufp)[:p.n4/4*groupBytes]
		parallel(p.n4/4, threads, 1, func(g0, g1 int) {
			for g := g0; g < g1; g++ {
				p.inter4(inter[g*groupBytes:(g+1)*groupBytes], act[4*g*aRow:], aRow, nb)
			}
		})
	}
	// Rows go in tiles of rowTile, so that a tile's weights stay in cache
	// while every activation row passes over them; the goroutines take
	// runs of tiles, about eight per goroutine, long enough for the
	// hardware prefetcher to stream the weights.
	run := max(rowTile, (nRows+8*threads-1)/(8*threads)+rowTile-1) / rowTile * rowTile
	parallel(nRows, threads, run, func(r0, r1 int) {
		var out [4]float32
		// A tile's rows unpacked once for all token groups, when the
		// kernel wants that.
		var prep []byte
		prepRow := nCols / wt.BlockSize() * p.prepBytes
		if p.prep != nil && p.n4 > 0 {
			pbufp := scratch.Get().(*[]byte)
			defer scratch.Put(pbufp)
			if cap(*pbufp) < rowTile*prepRow {
				*pbufp = make([]byte, rowTile*prepRow)
			}
			prep = (*pbufp)[:rowTile*prepRow]
		}
		row := func(r, rt int) []byte {
			if prep != nil {
				return prep[(r-rt)*prepRow : (r-rt+1)*prepRow]
			}
			return w[r*wRow : (r+1)*wRow]
		}
		for rt := r0; rt < r1; rt += rowTile {
			re := min(rt+rowTile, r1)
			if prep != nil {
				for r := rt; r < re; r++ {
					p.prep(prep[(r-rt)*prepRow:], w[r*wRow:(r+1)*wRow], nCols/wt.BlockSize())
				}
			}
			for t := 0; t < p.n4; t += 4 {
				a := act[t*aRow : (t+4)*aRow]
				if inter != nil {
					a = inter[t/4*groupBytes : (t/4+1)*groupBytes]
				}
				for r := rt; r < re; r++ {
					p.dot4(nCols, row(r, rt), a, aRow, &out)
					for i, v := range out {
						dst[(t+i)*nRows+r] = v
					}
				}
			}
			for t := p.n4; t < nTok; t++ {
				a := act[t*aRow : (t+1)*aRow]
				for r := rt; r < re; r++ {
					dst[t*nRows+r] = p.dot(nCols, w[r*wRow:(r+1)*wRow], a)
				}
			}
		}
	})
	return nil
}
