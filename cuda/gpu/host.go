//go:build cuda

package gpu

/*
#cgo LDFLAGS: -lcuda -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <cuda.h>

// gorgonia.org/cu v0.9.6 calls cuInit in its package init and exits the
// process when it fails — on a host with the driver but no usable GPU, the
// server could not even start on its CPUs. This definition interposes on
// the driver's cuInit (a definition in the executable wins over the shared
// library's): it calls the real one, records the result for Discover, and
// reports success so that cu's init returns. Discover then refuses the
// devices with the recorded error and the server runs on the CPU.
static CUresult gk_init_status = CUDA_ERROR_NOT_INITIALIZED;

CUresult CUDAAPI cuInit(unsigned int flags) {
	CUresult (*real)(unsigned int) = (CUresult (*)(unsigned int))dlsym(RTLD_NEXT, "cuInit");
	gk_init_status = real ? real(flags) : CUDA_ERROR_NOT_INITIALIZED;
	return CUDA_SUCCESS;
}

static CUresult gk_init_result(void) { return gk_init_status; }

static const char* gk_error_name(CUresult r) {
	const char* s = 0;
	if (cuGetErrorName(r, &s) != CUDA_SUCCESS || !s) return "unknown CUDA error";
	return s;
}

// gorgonia.org/cu v0.9.6 does not wrap cuMemHostAlloc (pinned memory).
static CUresult gk_host_alloc(void** p, size_t n) {
	return cuMemHostAlloc(p, n, CU_MEMHOSTALLOC_PORTABLE);
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

// initError is the driver's cuInit result (nil when it succeeded).
func initError() error {
	r := C.gk_init_result()
	if r == C.CUDA_SUCCESS {
		return nil
	}
	return fmt.Errorf("cuInit: %s (%d)", C.GoString(C.gk_error_name(r)), int(r))
}

// hostAlloc allocates n bytes of page-locked host memory (the calling
// thread must have a current context).
func hostAlloc(n int) (unsafe.Pointer, error) {
	var p unsafe.Pointer
	if r := C.gk_host_alloc(&p, C.size_t(n)); r != C.CUDA_SUCCESS {
		return nil, fmt.Errorf("cuMemHostAlloc(%d): %s", n, C.GoString(C.gk_error_name(r)))
	}
	return p, nil
}

func hostFree(p unsafe.Pointer) error { return cu.MemFreeHost(p) }
