//go:build cudaemu && !cuda

package gpu

/*
#cgo CXXFLAGS: -std=c++20 -O2 -DGK_EMULATE -I${SRCDIR}/../kernels -w
#cgo LDFLAGS: -lstdc++ -lpthread
#include <stdlib.h>
#include <string.h>

int gk_emu_launch(const char* name, int gx, int gy, int bx, int by, int shmem, const unsigned long long* args);

static unsigned long long gk_emu_alloc(size_t n) { return (unsigned long long)aligned_alloc(256, (n + 255) / 256 * 256); }
static void gk_emu_free(unsigned long long p) { free((void*)p); }
static void gk_emu_htod(unsigned long long dst, const void* src, size_t n) { memcpy((void*)dst, src, n); }
static void gk_emu_dtoh(void* dst, unsigned long long src, size_t n) { memcpy(dst, (const void*)src, n); }
static void gk_emu_dtod(unsigned long long dst, unsigned long long src, size_t n) { memmove((void*)dst, (const void*)src, n); }
static void gk_emu_memset(unsigned long long p, int v, size_t n) { memset((void*)p, v, n); }
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/gokernels/gokernels/cuda"
)

// defaultScale is the input scale of the tagged tests on the emulation.
const defaultScale = "unit"

// emuMemory is the memory the emulated device reports.
const emuMemory = 4 << 30

// Discover returns one emulated device: the host code of this package
// driving the .cu kernels compiled for the CPU (-tags cudaemu, tests only).
func Discover(o Options) ([]cuda.Device, error) {
	d, err := start(0, &emuDriver{sizes: map[dptr]int64{}}, o)
	if err != nil {
		return nil, err
	}
	return []cuda.Device{d}, nil
}

type emuDriver struct {
	sizes map[dptr]int64
	used  int64
}

var errEmuOOM = errors.New("emulated device out of memory")

func (e *emuDriver) init(ordinal int, _ Options) (cuda.DeviceInfo, error) {
	return cuda.DeviceInfo{Ordinal: ordinal, Name: "cudaemu (device code compiled for the CPU)", Major: 9, Minor: 0,
		TotalMem: emuMemory, SMs: 1}, nil
}

func (e *emuDriver) close() {}

func (e *emuDriver) memAlloc(n int64) (dptr, error) {
	if e.used+n > emuMemory {
		return 0, errEmuOOM
	}
	p := dptr(C.gk_emu_alloc(C.size_t(n)))
	if p == 0 {
		return 0, errEmuOOM
	}
	// Fill with garbage, as fresh device memory may be: kernels must not
	// rely on zeroed buffers they did not clear.
	C.gk_emu_memset(C.ulonglong(p), 0x5a, C.size_t(n))
	e.sizes[p] = n
	e.used += n
	return p, nil
}

func (e *emuDriver) memFree(p dptr) {
	e.used -= e.sizes[p]
	delete(e.sizes, p)
	C.gk_emu_free(C.ulonglong(p))
}

func (e *emuDriver) htod(dst dptr, src unsafe.Pointer, n int64) error {
	C.gk_emu_htod(C.ulonglong(dst), src, C.size_t(n))
	return nil
}

func (e *emuDriver) dtoh(dst unsafe.Pointer, src dptr, n int64) error {
	C.gk_emu_dtoh(dst, C.ulonglong(src), C.size_t(n))
	return nil
}

func (e *emuDriver) dtod(dst, src dptr, n int64) error {
	C.gk_emu_dtod(C.ulonglong(dst), C.ulonglong(src), C.size_t(n))
	return nil
}

func (e *emuDriver) memset(p dptr, v byte, n int64) error {
	C.gk_emu_memset(C.ulonglong(p), C.int(v), C.size_t(n))
	return nil
}

func (e *emuDriver) launch(name string, gx, gy, bx, by, shmem int, args []uint64) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var ap *C.ulonglong
	if len(args) > 0 {
		ap = (*C.ulonglong)(unsafe.Pointer(&args[0]))
	}
	switch r := C.gk_emu_launch(cname, C.int(gx), C.int(gy), C.int(bx), C.int(by), C.int(shmem), ap); r {
	case 0:
		return nil
	case -1:
		return fmt.Errorf("no kernel %q", name)
	default:
		return fmt.Errorf("launch %s: bad block %d×%d", name, bx, by)
	}
}

func (e *emuDriver) sync() error { return nil }

func (e *emuDriver) memInfo() (int64, int64, error) { return emuMemory - e.used, emuMemory, nil }

func (e *emuDriver) outOfMemory(err error) bool { return errors.Is(err, errEmuOOM) }

func (e *emuDriver) sticky(error) bool { return false }
