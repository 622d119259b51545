//go:build ggmlref && cgo && linux && amd64

package ggmlref

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>

static void * lib;

static const char * ref_open(const char * path) {
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	return lib ? NULL : dlerror();
}
static void * ref_sym(const char * name) { return dlsym(lib, name); }

typedef size_t (*quantize_fn)(const float *, void *, int64_t, int64_t, const float *);
typedef void (*to_float_fn)(const void *, float *, int64_t);
typedef void (*from_float_fn)(const float *, void *, int64_t);
typedef void (*vec_dot_fn)(int, float *, size_t, const void *, size_t, const void *, size_t, int);
typedef uint16_t (*fp16_fn)(float);

static void call_quantize(void * f, const float * x, void * y, int64_t nrow, int64_t n) { ((quantize_fn) f)(x, y, nrow, n, NULL); }
static void call_to_float(void * f, const void * x, float * y, int64_t n) { ((to_float_fn) f)(x, y, n); }
static void call_from_float(void * f, const float * x, void * y, int64_t n) { ((from_float_fn) f)(x, y, n); }
static float call_vec_dot(void * f, int n, const void * x, const void * y) { float s; ((vec_dot_fn) f)(n, &s, 0, x, 0, y, 0, 1); return s; }
static uint16_t call_fp16(void * f, float x) { return ((fp16_fn) f)(x); }
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/layerwise/parity/runtimes/ggml"
)

var (
	mu   sync.Mutex
	syms = map[string]unsafe.Pointer{}
)

// Load opens the shared library made by Build. It can be called once per
// process.
func Load(path string) error {
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	if msg := C.ref_open(cs); msg != nil {
		return fmt.Errorf("ggmlref: dlopen: %s", C.GoString(msg))
	}
	return nil
}

func sym(name string) unsafe.Pointer {
	mu.Lock()
	defer mu.Unlock()
	if p, ok := syms[name]; ok {
		return p
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	p := C.ref_sym(cs)
	if p == nil {
		panic("ggmlref: symbol " + name + " not found")
	}
	syms[name] = p
	return p
}

// The buffers handed to C are Go slices; cgo's pointer rules allow that
// because C does not keep them.

// Quantize runs quantize_<t>(x, y, 1, len(x), NULL), what
// ggml_quantize_chunk calls without an importance matrix.
func Quantize(t ggml.Type, x []float32, y []byte) {
	C.call_quantize(sym("quantize_"+t.String()), (*C.float)(&x[0]), unsafe.Pointer(&y[0]), 1, C.int64_t(len(x)))
}

// Dequantize runs dequantize_row_<t>.
func Dequantize(t ggml.Type, x []byte, y []float32) {
	C.call_to_float(sym("dequantize_row_"+t.String()), unsafe.Pointer(&x[0]), (*C.float)(&y[0]), C.int64_t(len(y)))
}

// QuantizeRow runs ggml-cpu's quantize_row_<t> as compiled for AVX2 (the
// x86 Q8_0/Q8_1 kernels; Q8_K forwards to its reference).
func QuantizeRow(t ggml.Type, x []float32, y []byte) {
	C.call_from_float(sym("quantize_row_"+t.String()), (*C.float)(&x[0]), unsafe.Pointer(&y[0]), C.int64_t(len(x)))
}

// VecDot runs ggml_vec_dot_<w>_<a>, the AVX2 kernel when generic is false
// and ggml_vec_dot_<w>_<a>_generic otherwise.
func VecDot(w, a ggml.Type, generic bool, n int, x, y []byte) float32 {
	name := "ggml_vec_dot_" + w.String() + "_" + a.String()
	if generic {
		name += "_generic"
	}
	return float32(C.call_vec_dot(sym(name), C.int(n), unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0])))
}

// FP32ToFP16Base is ggml-base's GGML_FP32_TO_FP16; FP32ToFP16F16C is
// vcvtps2ph (GGML_CPU_FP32_TO_FP16 on x86).
func FP32ToFP16Base(f float32) uint16 {
	return uint16(C.call_fp16(sym("ref_base_fp32_to_fp16"), C.float(f)))
}

func FP32ToFP16F16C(f float32) uint16 {
	return uint16(C.call_fp16(sym("ref_f16c_fp32_to_fp16"), C.float(f)))
}
