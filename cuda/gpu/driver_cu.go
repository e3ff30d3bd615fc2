//go:build cuda

package gpu

import (
	"errors"
	"fmt"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/gokernels/gokernels/cuda"
	"github.com/gokernels/gokernels/cuda/kernels"
)

// defaultScale is the input scale of the tagged tests on a real GPU.
const defaultScale = "check"

// Discover starts one actor per CUDA device. It returns the devices that
// started and an error for those that did not (or for the driver).
func Discover(o Options) ([]cuda.Device, error) {
	if err := initError(); err != nil {
		return nil, err
	}
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuDeviceGetCount: %w", err)
	}
	var devs []cuda.Device
	var errList []error
	for i := 0; i < n; i++ {
		d, err := start(i, &cuDriver{}, o)
		if err != nil {
			errList = append(errList, fmt.Errorf("GPU %d: %w", i, err))
			continue
		}
		devs = append(devs, d)
	}
	return devs, errors.Join(errList...)
}

// cuDriver is the CUDA driver API through gorgonia.org/cu: the primary
// context of the device, one non-blocking stream, the embedded PTX modules,
// and two pinned staging buffers with an event each.
type cuDriver struct {
	dev     cu.Device
	ctx     cu.CUContext
	stream  cu.Stream
	mods    []cu.Module
	fns     map[string]cu.Function
	staging [2]unsafe.Pointer
	events  [2]cu.Event
	chunk   int64
}

func (c *cuDriver) init(ordinal int, o Options) (cuda.DeviceInfo, error) {
	var err error
	info := cuda.DeviceInfo{Ordinal: ordinal}
	if c.dev, err = cu.GetDevice(ordinal); err != nil {
		return info, fmt.Errorf("cuDeviceGet: %w", err)
	}
	if info.Name, err = c.dev.Name(); err != nil {
		return info, err
	}
	if info.Major, info.Minor, err = c.dev.ComputeCapability(); err != nil {
		return info, err
	}
	if info.TotalMem, err = c.dev.TotalMem(); err != nil {
		return info, err
	}
	if info.SMs, err = c.dev.Attribute(cu.MultiprocessorCount); err != nil {
		return info, err
	}
	if c.ctx, err = c.dev.RetainPrimaryCtx(); err != nil {
		return info, fmt.Errorf("cuDevicePrimaryCtxRetain: %w", err)
	}
	if err = cu.SetCurrentContext(c.ctx); err != nil {
		return info, fmt.Errorf("cuCtxSetCurrent: %w", err)
	}
	if c.stream, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return info, fmt.Errorf("cuStreamCreate: %w", err)
	}
	ptx, err := kernels.PTX()
	if err != nil {
		return info, err
	}
	c.fns = map[string]cu.Function{}
	for name, src := range ptx {
		mod, err := cu.LoadData(src)
		if err != nil {
			return info, fmt.Errorf("cuModuleLoadData(%s.ptx): %w", name, err)
		}
		c.mods = append(c.mods, mod)
		for _, entry := range kernels.Modules[name] {
			fn, err := mod.Function(entry)
			if err != nil {
				return info, fmt.Errorf("cuModuleGetFunction(%s): %w", entry, err)
			}
			c.fns[entry] = fn
		}
	}
	c.chunk = int64(o.StagingBytes)
	for i := range c.staging {
		if c.staging[i], err = hostAlloc(o.StagingBytes); err != nil {
			return info, err
		}
		if c.events[i], err = cu.MakeEvent(cu.DisableTiming); err != nil {
			return info, fmt.Errorf("cuEventCreate: %w", err)
		}
	}
	return info, nil
}

func (c *cuDriver) close() {
	for i := range c.staging {
		if c.staging[i] != nil {
			_ = hostFree(c.staging[i])
			c.staging[i] = nil
		}
		if c.events[i] != (cu.Event{}) {
			_ = cu.DestroyEvent(&c.events[i])
		}
	}
	for _, m := range c.mods {
		_ = m.Unload()
	}
	c.mods = nil
	if c.stream != (cu.Stream{}) {
		_ = c.stream.Destroy()
	}
	if c.ctx != (cu.CUContext{}) {
		_ = c.dev.ReleasePrimaryCtx()
	}
}

func (c *cuDriver) memAlloc(n int64) (dptr, error) {
	p, err := cu.MemAlloc(n) // never managed memory
	return dptr(p), err
}

func (c *cuDriver) memFree(p dptr) { _ = cu.MemFree(cu.DevicePtr(p)) }

// htod copies through the two pinned staging buffers: filling one overlaps
// the DMA from the other.
func (c *cuDriver) htod(dst dptr, src unsafe.Pointer, n int64) error {
	for i, off := 0, int64(0); off < n; i, off = i+1, off+c.chunk {
		b := i % 2
		if i >= 2 {
			if err := c.events[b].Synchronize(); err != nil { // its previous DMA is done
				return err
			}
		}
		m := min(c.chunk, n-off)
		copy(unsafe.Slice((*byte)(c.staging[b]), m), unsafe.Slice((*byte)(unsafe.Add(src, off)), m))
		if err := cu.MemcpyHtoDAsync(cu.DevicePtr(dst)+cu.DevicePtr(off), c.staging[b], m, c.stream); err != nil {
			return err
		}
		if err := c.events[b].Record(c.stream); err != nil {
			return err
		}
	}
	for b := range c.events { // both staging buffers free again
		if err := c.events[b].Synchronize(); err != nil {
			return err
		}
	}
	return nil
}

// dtoh copies through the staging buffers, the DMA of the next chunk
// overlapping the copy-out of the current one.
func (c *cuDriver) dtoh(dst unsafe.Pointer, src dptr, n int64) error {
	issue := func(i int) error {
		off := int64(i) * c.chunk
		if off >= n {
			return nil
		}
		b := i % 2
		if err := cu.MemcpyDtoHAsync(c.staging[b], cu.DevicePtr(src)+cu.DevicePtr(off), min(c.chunk, n-off), c.stream); err != nil {
			return err
		}
		return c.events[b].Record(c.stream)
	}
	if err := issue(0); err != nil {
		return err
	}
	for i, off := 0, int64(0); off < n; i, off = i+1, off+c.chunk {
		if err := issue(i + 1); err != nil {
			return err
		}
		b := i % 2
		if err := c.events[b].Synchronize(); err != nil {
			return err
		}
		m := min(c.chunk, n-off)
		copy(unsafe.Slice((*byte)(unsafe.Add(dst, off)), m), unsafe.Slice((*byte)(c.staging[b]), m))
	}
	return nil
}

func (c *cuDriver) dtod(dst, src dptr, n int64) error {
	return cu.MemcpyDtoDAsync(cu.DevicePtr(dst), cu.DevicePtr(src), n, c.stream)
}

func (c *cuDriver) memset(p dptr, v byte, n int64) error {
	return cu.MemsetD8Async(cu.DevicePtr(p), v, n, c.stream)
}

func (c *cuDriver) launch(name string, gx, gy, bx, by, shmem int, args []uint64) error {
	fn, ok := c.fns[name]
	if !ok {
		return fmt.Errorf("no kernel %q in the loaded PTX", name)
	}
	// cu copies 8 bytes from each parameter pointer: every device
	// parameter is 8 bytes wide.
	params := make([]unsafe.Pointer, len(args))
	for i := range args {
		params[i] = unsafe.Pointer(&args[i])
	}
	return fn.Launch(gx, gy, 1, bx, by, 1, shmem, c.stream, params)
}

func (c *cuDriver) sync() error { return c.stream.Synchronize() }

func (c *cuDriver) memInfo() (int64, int64, error) { return cu.MemInfo() }

func (c *cuDriver) outOfMemory(err error) bool { return errors.Is(err, cu.OutOfMemory) }

// stickyErrors leave the CUDA context unusable.
var stickyErrors = []error{cu.IllegalAddress, cu.LaunchFailed, cu.LaunchTimeout, cu.EccUncorrectable, cu.Assert,
	cu.HardwareStackError, cu.IllegalInstruction, cu.MisalignedAddress, cu.InvalidAddressSpace, cu.InvalidPc}

func (c *cuDriver) sticky(err error) bool {
	for _, s := range stickyErrors {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
