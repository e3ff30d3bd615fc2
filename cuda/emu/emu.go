// Package emu is a pure-Go stand-in for a GPU: it implements cuda.Device
// with the same algorithms, decompositions and summation orders as the
// device code in cuda/kernels, on the CPU. Tests use it to exercise the
// backend (selection, budgets, fallbacks, health) and the GPU paths' host
// glue without a GPU, and to pin down the device algorithms against the
// CPU kernels. It can inject device errors.
package emu

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/gokernels/gokernels/cuda"
)

// Device is an emulated GPU.
type Device struct {
	info cuda.DeviceInfo

	mu      sync.Mutex
	fail    map[string]error // op → error to return
	failAll error
	used    int64
	closed  bool

	calls sync.Map // op → *atomic.Int64
}

// New returns an emulated device with total bytes of memory.
func New(ordinal int, total int64) *Device {
	return &Device{info: cuda.DeviceInfo{Ordinal: ordinal, Name: "Emulated GPU", Major: 9, Minor: 0, TotalMem: total, SMs: 4}}
}

// Info implements cuda.Device.
func (d *Device) Info() cuda.DeviceInfo { return d.info }

// MemInfo implements cuda.Device: SetUsed sets what it reports as used.
func (d *Device) MemInfo() (int64, int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.info.TotalMem - d.used, d.info.TotalMem, nil
}

// SetUsed sets the memory MemInfo reports as used.
func (d *Device) SetUsed(n int64) {
	d.mu.Lock()
	d.used = n
	d.mu.Unlock()
}

// Stats implements cuda.Device.
func (d *Device) Stats() cuda.TransferStats { return cuda.TransferStats{Launches: d.Calls("")} }

// Close implements cuda.Device.
func (d *Device) Close() error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	return nil
}

// Fail makes op ("PageRank", "KMeans", ...; "" = every op) return err
// until cleared with a nil err. A *cuda.DeviceError is returned as is;
// other errors are wrapped in one.
func (d *Device) Fail(op string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if op == "" {
		d.failAll = err
		return
	}
	if d.fail == nil {
		d.fail = map[string]error{}
	}
	if err == nil {
		delete(d.fail, op)
	} else {
		d.fail[op] = err
	}
}

// Calls counts the calls of op ("" = all ops).
func (d *Device) Calls(op string) int64 {
	if op != "" {
		if v, ok := d.calls.Load(op); ok {
			return v.(*atomic.Int64).Load()
		}
		return 0
	}
	var n int64
	d.calls.Range(func(_, v any) bool {
		n += v.(*atomic.Int64).Load()
		return true
	})
	return n
}

// begin counts a call and returns the injected error, if any.
func (d *Device) begin(ctx context.Context, op string) error {
	v, _ := d.calls.LoadOrStore(op, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return &cuda.DeviceError{Device: d.info.Ordinal, Op: op, Err: errors.New("device closed")}
	}
	err := d.failAll
	if e, ok := d.fail[op]; ok {
		err = e
	}
	if err == nil {
		return nil
	}
	var de *cuda.DeviceError
	if errors.As(err, &de) {
		return err
	}
	return &cuda.DeviceError{Device: d.info.Ordinal, Op: op, Err: err}
}

var _ cuda.Device = (*Device)(nil)
