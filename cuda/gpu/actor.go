//go:build cuda || cudaemu

package gpu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gokernels/gokernels/cuda"
)

// Options configure discovery.
type Options struct {
	// CacheLimit bounds the device memory kept in the buffer pool between
	// requests (0 = 1 GiB).
	CacheLimit int64
	// StagingBytes is the size of each of the two pinned staging buffers
	// (0 = 16 MiB).
	StagingBytes int
}

func (o Options) withDefaults() Options {
	if o.CacheLimit <= 0 {
		o.CacheLimit = 1 << 30
	}
	if o.StagingBytes <= 0 {
		o.StagingBytes = 16 << 20
	}
	return o
}

// dptr is a device address.
type dptr uintptr

// driver is what the actor needs from a device: the CUDA driver API
// (driver_cu.go, -tags cuda) or the C++ emulation of the device code
// (driver_emu.go, -tags cudaemu), which runs the same host code against
// the .cu kernels compiled for the CPU. Every method runs on the actor's
// OS thread; the copies and launches are ordered on one stream.
type driver interface {
	init(ordinal int, o Options) (cuda.DeviceInfo, error)
	close()
	memAlloc(n int64) (dptr, error)
	memFree(p dptr)
	htod(dst dptr, src unsafe.Pointer, n int64) error
	dtoh(dst unsafe.Pointer, src dptr, n int64) error
	dtod(dst, src dptr, n int64) error
	memset(p dptr, v byte, n int64) error
	launch(name string, gx, gy, bx, by, shmem int, args []uint64) error
	sync() error
	memInfo() (free, total int64, err error)
	outOfMemory(err error) bool
	sticky(err error) bool
}

// Device is one GPU served by an actor goroutine locked to its OS thread:
// the context, stream, modules and buffers belong to that thread, and
// requests reach it through a queue of jobs.
type Device struct {
	info cuda.DeviceInfo
	opts Options
	drv  driver
	work chan func()
	quit chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	// Owned by the actor goroutine.
	free   map[int64][]dptr // buffer pool by size class
	cached int64
	job    []buffer // buffers of the running job

	memFree, memTotal atomic.Int64
	htodB, dtohB      atomic.Int64
	htodNs, dtohNs    atomic.Int64
	launches          atomic.Int64
}

type buffer struct {
	ptr   dptr
	class int64
}

func start(ordinal int, drv driver, o Options) (*Device, error) {
	d := &Device{opts: o.withDefaults(), drv: drv, work: make(chan func()), quit: make(chan struct{}), free: map[int64][]dptr{}}
	ready := make(chan error, 1)
	d.wg.Add(1)
	go d.loop(ordinal, ready)
	if err := <-ready; err != nil {
		d.wg.Wait()
		return nil, err
	}
	return d, nil
}

// loop is the actor: the device's context is bound to this OS thread for
// the actor's whole life, and submitted jobs run in order.
func (d *Device) loop(ordinal int, ready chan<- error) {
	defer d.wg.Done()
	runtime.LockOSThread() // never unlocked: the thread ends with the actor
	info, err := d.drv.init(ordinal, d.opts)
	if err != nil {
		d.drv.close()
		ready <- err
		return
	}
	d.info = info
	d.refreshMem()
	ready <- nil
	for {
		select {
		case f := <-d.work:
			f()
		case <-d.quit:
			d.trim(0)
			d.drv.close()
			return
		}
	}
}

// Info implements cuda.Device.
func (d *Device) Info() cuda.DeviceInfo { return d.info }

// MemInfo implements cuda.Device: the driver's numbers as of the end of the
// last job (asking the driver needs the actor's thread).
func (d *Device) MemInfo() (int64, int64, error) { return d.memFree.Load(), d.memTotal.Load(), nil }

// Stats implements cuda.Device.
func (d *Device) Stats() cuda.TransferStats {
	return cuda.TransferStats{
		HtoDBytes: d.htodB.Load(), DtoHBytes: d.dtohB.Load(),
		HtoDSeconds: float64(d.htodNs.Load()) / 1e9, DtoHSeconds: float64(d.dtohNs.Load()) / 1e9,
		Launches: d.launches.Load(),
	}
}

// Close stops the actor and releases the device's resources.
func (d *Device) Close() error {
	d.once.Do(func() { close(d.quit) })
	d.wg.Wait()
	return nil
}

func (d *Device) refreshMem() {
	if free, total, err := d.drv.memInfo(); err == nil {
		d.memFree.Store(free)
		d.memTotal.Store(total)
	}
}

// do runs f on the actor and waits for it. After f the stream is
// synchronised and the job's buffers go back to the pool.
func (d *Device) do(ctx context.Context, op string, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	job := func() {
		var e error
		defer func() {
			if r := recover(); r != nil {
				e = &cuda.DeviceError{Device: d.info.Ordinal, Op: op, Err: fmt.Errorf("panic: %v", r)}
			}
			if serr := d.drv.sync(); serr != nil && e == nil {
				e = d.fail(op+": synchronize", serr)
			}
			d.endJob()
			d.refreshMem()
			done <- e
		}()
		e = f()
	}
	select {
	case d.work <- job:
	case <-d.quit:
		return &cuda.DeviceError{Device: d.info.Ordinal, Op: op, Err: errors.New("device closed")}
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-done
}

// fail wraps a driver error as a device error.
func (d *Device) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *cuda.DeviceError
	if errors.As(err, &de) {
		return err
	}
	return &cuda.DeviceError{Device: d.info.Ordinal, Op: op, Err: err, Sticky: d.drv.sticky(err)}
}

// ------------------------------------------------------------ buffer pool

// class rounds n up to a pool size class: a multiple of 1/8 of its power of
// two (at most 12.5% waste), at least 4 KiB.
func class(n int64) int64 {
	if n <= 4096 {
		return 4096
	}
	step := int64(1) << (63 - bits.LeadingZeros64(uint64(n)) - 3)
	return (n + step - 1) / step * step
}

// alloc returns a device buffer of at least n bytes for the running job,
// from the pool when one of its class is free. On out-of-memory the pool
// is emptied and the allocation retried once.
func (d *Device) alloc(n int64) (dptr, error) {
	c := class(max(n, 1))
	if list := d.free[c]; len(list) > 0 {
		p := list[len(list)-1]
		d.free[c] = list[:len(list)-1]
		d.cached -= c
		d.job = append(d.job, buffer{p, c})
		return p, nil
	}
	p, err := d.drv.memAlloc(c)
	if err != nil && d.drv.outOfMemory(err) {
		d.trim(0)
		p, err = d.drv.memAlloc(c)
	}
	if err != nil {
		return 0, d.fail(fmt.Sprintf("memAlloc(%d)", c), err)
	}
	d.job = append(d.job, buffer{p, c})
	return p, nil
}

// endJob returns the job's buffers to the pool and trims it to the cache
// limit.
func (d *Device) endJob() {
	for _, b := range d.job {
		d.free[b.class] = append(d.free[b.class], b.ptr)
		d.cached += b.class
	}
	d.job = d.job[:0]
	d.trim(d.opts.CacheLimit)
}

// trim frees pooled buffers, largest classes first, until at most limit
// bytes stay cached.
func (d *Device) trim(limit int64) {
	for d.cached > limit {
		var big int64
		for c, l := range d.free {
			if len(l) > 0 && c > big {
				big = c
			}
		}
		if big == 0 {
			d.cached = 0
			return
		}
		l := d.free[big]
		d.drv.memFree(l[len(l)-1])
		d.free[big] = l[:len(l)-1]
		d.cached -= big
	}
}

// --------------------------------------------------------------- transfers

func (d *Device) htod(dst dptr, src unsafe.Pointer, n int64) error {
	if n == 0 {
		return nil
	}
	start := time.Now()
	if err := d.drv.htod(dst, src, n); err != nil {
		return d.fail("copy to device", err)
	}
	d.htodB.Add(n)
	d.htodNs.Add(int64(time.Since(start)))
	return nil
}

func (d *Device) dtoh(dst unsafe.Pointer, src dptr, n int64) error {
	if n == 0 {
		return nil
	}
	start := time.Now()
	if err := d.drv.dtoh(dst, src, n); err != nil {
		return d.fail("copy to host", err)
	}
	d.dtohB.Add(n)
	d.dtohNs.Add(int64(time.Since(start)))
	return nil
}

func (d *Device) dtod(dst, src dptr, n int64) error {
	return d.fail("copy on device", d.drv.dtod(dst, src, n))
}

// upload allocates a device buffer for a host slice and copies it there.
func upload[T any](d *Device, s []T) (dptr, error) {
	var zero T
	n := int64(len(s)) * int64(unsafe.Sizeof(zero))
	p, err := d.alloc(n)
	if err != nil || n == 0 {
		return p, err
	}
	return p, d.htod(p, ptrOf(s), n)
}

// download copies len(s) elements from p into s.
func download[T any](d *Device, s []T, p dptr) error {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return d.dtoh(ptrOf(s), p, int64(len(s))*int64(unsafe.Sizeof(zero)))
}

// ptrOf is the address of a slice's first element.
func ptrOf[T any](s []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

// zeroed allocates n bytes of zeros.
func (d *Device) zeroed(n int64) (dptr, error) {
	p, err := d.alloc(n)
	if err != nil {
		return 0, err
	}
	return p, d.memset(p, 0, n)
}

func (d *Device) memset0(p dptr, n int64) error { return d.memset(p, 0, n) }

func (d *Device) memset(p dptr, v byte, n int64) error {
	if n == 0 {
		return nil
	}
	return d.fail("memset", d.drv.memset(p, v, n))
}

// ------------------------------------------------------------------ launch

// arg encodes a kernel argument: every parameter of the device code is 8
// bytes wide (pointers, long long, unsigned long long, double).
func arg(v any) uint64 {
	switch x := v.(type) {
	case dptr:
		return uint64(x)
	case int:
		return uint64(int64(x))
	case int64:
		return uint64(x)
	case uint64:
		return x
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return math.Float64bits(x)
	}
	panic(fmt.Sprintf("kernel argument of type %T", v))
}

// launch starts a 1-D kernel.
func (d *Device) launch(name string, grid, block, shmem int, args ...any) error {
	return d.launch2(name, grid, 1, block, 1, shmem, args...)
}

// launch2 starts a 2-D kernel.
func (d *Device) launch2(name string, gx, gy, bx, by, shmem int, args ...any) error {
	if gx == 0 || gy == 0 {
		return nil
	}
	vals := make([]uint64, len(args))
	for i, a := range args {
		vals[i] = arg(a)
	}
	d.launches.Add(1)
	return d.fail("launch "+name, d.drv.launch(name, gx, gy, bx, by, shmem, vals))
}

// sync waits for the stream.
func (d *Device) sync(op string) error { return d.fail(op, d.drv.sync()) }

// tpb is the block size of the 1-D kernels (TPB in common.cuh).
const tpb = 256

func blocks(n int64) int { return int(max(1, (n+tpb-1)/tpb)) }

// gridFor caps a grid-stride launch at a few waves of the device.
func (d *Device) gridFor(n int64) int {
	return min(blocks(n), max(1, d.info.SMs)*32)
}

var _ cuda.Device = (*Device)(nil)
