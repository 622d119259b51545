//go:build ggmlref && cgo && linux && amd64

package ggmlref

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// stubs satisfies the few ggml-base symbols ggml-quants.c needs and wraps
// the two fp32→fp16 conversions.
const stubs = `
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <immintrin.h>
#define GGML_COMMON_DECL_C
#include "ggml-common.h"
#include "ggml.h"
#include "ggml-impl.h"

void ggml_abort(const char * file, int line, const char * fmt, ...) { fprintf(stderr, "ggml_abort %s:%d\n", file, line); abort(); }
const char * ggml_type_name(enum ggml_type t) { (void) t; return "?"; }
static size_t blck(enum ggml_type t, size_t * ts) {
	switch (t) {
	case GGML_TYPE_Q4_0: *ts = sizeof(block_q4_0); return QK4_0;
	case GGML_TYPE_Q4_1: *ts = sizeof(block_q4_1); return QK4_1;
	case GGML_TYPE_Q5_0: *ts = sizeof(block_q5_0); return QK5_0;
	case GGML_TYPE_Q5_1: *ts = sizeof(block_q5_1); return QK5_1;
	case GGML_TYPE_Q8_0: *ts = sizeof(block_q8_0); return QK8_0;
	case GGML_TYPE_Q2_K: *ts = sizeof(block_q2_K); return QK_K;
	case GGML_TYPE_Q3_K: *ts = sizeof(block_q3_K); return QK_K;
	case GGML_TYPE_Q4_K: *ts = sizeof(block_q4_K); return QK_K;
	case GGML_TYPE_Q5_K: *ts = sizeof(block_q5_K); return QK_K;
	case GGML_TYPE_Q6_K: *ts = sizeof(block_q6_K); return QK_K;
	case GGML_TYPE_IQ4_NL: *ts = sizeof(block_iq4_nl); return QK4_NL;
	case GGML_TYPE_IQ4_XS: *ts = sizeof(block_iq4_xs); return QK_K;
	default: fprintf(stderr, "ggmlref: no row size for type %d\n", t); abort();
	}
}
size_t ggml_row_size(enum ggml_type t, int64_t n) { size_t ts; size_t bs = blck(t, &ts); return n / bs * ts; }
size_t ggml_type_size(enum ggml_type t) { size_t ts; blck(t, &ts); return ts; }
float ggml_table_f32_f16[1 << 16];
float ggml_table_f32_e8m0_half[256];
float ggml_table_f32_ue4m3[256];
__attribute__((constructor)) static void init_tables(void) {
	for (int i = 0; i < (1 << 16); i++) ggml_table_f32_f16[i] = ggml_compute_fp16_to_fp32((ggml_fp16_t) i);
}
uint16_t ref_base_fp32_to_fp16(float f) { return ggml_compute_fp32_to_fp16(f); }
uint16_t ref_f16c_fp32_to_fp16(float f) { return _cvtss_sh(f, 0); }
`

// Build compiles ggml's quantization sources from the llama.cpp tree at
// llamaDir into dir/libggmlref.so and returns its path.
func Build(llamaDir, dir string) (string, error) {
	src := filepath.Join(llamaDir, "ggml", "src")
	if _, err := os.Stat(filepath.Join(src, "ggml-quants.c")); err != nil {
		return "", fmt.Errorf("ggmlref: %w", err)
	}
	stub := filepath.Join(dir, "stubs.c")
	if err := os.WriteFile(stub, []byte(stubs), 0o644); err != nil {
		return "", fmt.Errorf("ggmlref: %w", err)
	}
	common := []string{"-O3", "-DNDEBUG", "-std=gnu11", "-fPIC", "-c",
		"-I" + filepath.Join(llamaDir, "ggml", "include"), "-I" + src, "-I" + filepath.Join(src, "ggml-cpu")}
	avx2 := []string{"-mavx2", "-mfma", "-mf16c"}
	units := []struct {
		in    string
		flags []string
	}{
		{filepath.Join(src, "ggml-quants.c"), nil},
		{filepath.Join(src, "ggml-cpu", "arch", "x86", "quants.c"), avx2},
		{filepath.Join(src, "ggml-cpu", "quants.c"), append([]string{"-ffp-contract=off"}, avx2...)},
		{stub, []string{"-mf16c"}},
	}
	var objs []string
	for i, u := range units {
		obj := filepath.Join(dir, fmt.Sprintf("unit%d.o", i))
		args := append(append(append([]string{}, common...), u.flags...), u.in, "-o", obj)
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("ggmlref: gcc %s: %v\n%s", filepath.Base(u.in), err, out)
		}
		objs = append(objs, obj)
	}
	so := filepath.Join(dir, "libggmlref.so")
	args := append(append([]string{"-shared", "-o", so}, objs...), "-lm")
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("ggmlref: link: %v\n%s", err, out)
	}
	return so, nil
}
