package cuda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/errs"
)

// Requested backend values (ExecuteOptions.backend).
const (
	Auto = "AUTO"
	CPU  = registry.BackendCPU
	CUDA = registry.BackendCUDA
)

// Fallback reasons (label of gokernels_gpu_fallbacks_total).
const (
	FallbackGPUError = "gpu_error"     // the GPU failed; the request was rerun on the CPU
	FallbackMemory   = "memory_budget" // the request did not fit the device-memory budget
)

// ReasonGPUMemory is the ErrorInfo reason of a 429 for backend=CUDA
// requests that do not fit the device-memory budget.
const ReasonGPUMemory = "GPU_MEMORY_BUDGET"

// Recorder receives the backend's events; *observe.Recorder implements
// GPUFallback, and Bind wires the rest.
type Recorder interface {
	GPUFallback(reason string)
}

// Options configure a Selector.
type Options struct {
	Devices []Device
	// MemoryLimit is the per-device budget in bytes; 0 = 90% of each device.
	MemoryLimit int64
	// Thresholds override the per-kernel AUTO thresholds (kernel id → size,
	// in the unit of that kernel's Spec.Size).
	Thresholds map[string]int64
	// Specs are the GPU implementations; nil = Specs().
	Specs []*Spec
	// DiscoveryError is why no device is usable, if discovery failed; it
	// is shown by the health check.
	DiscoveryError error
	Log            *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// Selector decides per request where a kernel runs and owns the devices'
// budgets and health. It implements service.Backends and service.GPUHealth.
type Selector struct {
	devices      []*slot
	specs        map[string]*Spec
	thresholds   map[string]int64
	discoveryErr error
	log          *slog.Logger
	now          func() time.Time

	mu       sync.RWMutex
	recorder Recorder
	observer observer

	fallbacks  sync.Map // reason → *atomic.Int64
	gpuRuns    atomic.Int64
	cpuRetries atomic.Int64
}

// observer receives per-execution timings (metrics.go).
type observer interface {
	gpuExecution(kernelID string, d time.Duration, ok bool)
}

// slot is one device with its budget and health.
type slot struct {
	dev    Device
	info   DeviceInfo
	budget *Budget

	mu        sync.Mutex
	lastErr   string
	lastErrAt time.Time
	errors    int64
	broken    bool // a sticky error: out of service
	runs      int64
}

func (s *slot) usable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.broken
}

func (s *slot) recordError(err error, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors++
	s.lastErr = err.Error()
	s.lastErrAt = at
	var de *DeviceError
	if errors.As(err, &de) && de.Sticky {
		s.broken = true
	}
}

// NewSelector builds the backend over the discovered devices (possibly
// none).
func NewSelector(o Options) *Selector {
	s := &Selector{
		specs:        map[string]*Spec{},
		thresholds:   map[string]int64{},
		discoveryErr: o.DiscoveryError,
		log:          o.Log,
		now:          o.Now,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	specs := o.Specs
	if specs == nil {
		specs = Specs()
	}
	for _, sp := range specs {
		s.specs[sp.ID] = sp
		s.thresholds[sp.ID] = sp.Threshold
	}
	for id, t := range o.Thresholds {
		s.thresholds[id] = t
	}
	for _, d := range o.Devices {
		info := d.Info()
		limit := DefaultLimit(o.MemoryLimit, info.TotalMem)
		if info.TotalMem > 0 {
			limit = min(limit, info.TotalMem)
		}
		s.devices = append(s.devices, &slot{dev: d, info: info, budget: NewBudget(limit)})
	}
	return s
}

// Devices returns the devices in ordinal order.
func (s *Selector) Devices() []Device {
	out := make([]Device, len(s.devices))
	for i, d := range s.devices {
		out[i] = d.dev
	}
	return out
}

// Threshold is the AUTO threshold of a kernel (0 if it has no GPU
// implementation).
func (s *Selector) Threshold(id string) int64 { return s.thresholds[id] }

// SetRecorder directs fallback counts to r (the server's metrics).
func (s *Selector) SetRecorder(r Recorder) {
	s.mu.Lock()
	s.recorder = r
	s.mu.Unlock()
}

// Fallbacks returns how many executions fell back to the CPU, by reason.
func (s *Selector) Fallbacks() map[string]int64 {
	out := map[string]int64{}
	s.fallbacks.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

func (s *Selector) countFallback(reason string) {
	v, _ := s.fallbacks.LoadOrStore(reason, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	s.mu.RLock()
	r := s.recorder
	s.mu.RUnlock()
	if r != nil {
		r.GPUFallback(reason)
	}
}

// Close releases the devices.
func (s *Selector) Close() error {
	var errList []error
	for _, d := range s.devices {
		errList = append(errList, d.dev.Close())
	}
	return errors.Join(errList...)
}

// Register attaches the GPU implementation of every spec whose kernel is
// in reg (kernels of domains not registered are skipped) and returns the
// ids it attached. Call it before the registry is frozen (server.New).
func (s *Selector) Register(reg *registry.Registry) ([]string, error) {
	var ids []string
	for _, id := range sortedKeys(s.specs) {
		if _, ok := reg.Get(id); !ok {
			continue
		}
		if err := reg.AttachGPU(id, s.specs[id].Run); err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// runGPU runs a prepared job on the device with the most free budget: it
// reserves the input's estimated bytes for the run and returns a
// *BudgetError when no device has room. A panic in the device path is a
// device error, so AUTO reruns the job on the CPU.
func (s *Selector) runGPU(ctx context.Context, sp *Spec, fn registry.GPUFunc, in proto.Message, job any) (out proto.Message, err error) {
	dev, res, err := s.acquire(sp, in)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	start := s.now()
	defer func() {
		if r := recover(); r != nil {
			err = &DeviceError{Device: dev.info.Ordinal, Op: sp.ID, Err: fmt.Errorf("panic: %v", r)}
			out = nil
			s.log.ErrorContext(ctx, "GPU path panicked", "kernel_id", sp.ID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		s.gpuRuns.Add(1)
		dev.mu.Lock()
		dev.runs++
		dev.mu.Unlock()
		if IsDeviceError(err) {
			dev.recordError(err, s.now())
			s.log.WarnContext(ctx, "GPU execution failed", "kernel_id", sp.ID, "device", dev.info.Ordinal, "error", err)
		}
		s.mu.RLock()
		o := s.observer
		s.mu.RUnlock()
		if o != nil {
			o.gpuExecution(sp.ID, s.now().Sub(start), err == nil)
		}
	}()
	return fn(ctx, dev.dev, job)
}

// acquire reserves the request's estimated device memory on the usable
// device with the most free budget.
func (s *Selector) acquire(sp *Spec, in proto.Message) (*slot, *Reservation, error) {
	var best *slot
	var bestNeed int64
	maxLimit, maxAvail := int64(0), int64(0)
	for _, d := range s.devices {
		if !d.usable() {
			continue
		}
		need := sp.Bytes(in, d.info)
		maxLimit = max(maxLimit, d.budget.Limit())
		avail := d.budget.Available()
		maxAvail = max(maxAvail, avail)
		if need <= avail && (best == nil || avail > best.budget.Available()) {
			best, bestNeed = d, need
		}
	}
	if best == nil {
		if maxLimit == 0 {
			return nil, nil, &DeviceError{Device: -1, Op: sp.ID, Err: errors.New("no usable CUDA device")}
		}
		need := s.estimate(sp, in)
		return nil, nil, &BudgetError{Need: need, Limit: maxLimit, Available: maxAvail, Never: need > maxLimit}
	}
	res, ok := best.budget.TryReserve(bestNeed)
	if !ok { // taken by a concurrent request since Available
		return nil, nil, &BudgetError{Need: bestNeed, Limit: best.budget.Limit(), Available: best.budget.Available()}
	}
	return best, res, nil
}

// estimate is the request's device-memory estimate on the first usable
// device (they are alike in practice).
func (s *Selector) estimate(sp *Spec, in proto.Message) int64 {
	for _, d := range s.devices {
		if d.usable() {
			return sp.Bytes(in, d.info)
		}
	}
	if len(s.devices) > 0 {
		return sp.Bytes(in, s.devices[0].info)
	}
	return sp.Bytes(in, DeviceInfo{})
}

// usable reports whether any device can take work.
func (s *Selector) usable() bool {
	for _, d := range s.devices {
		if d.usable() {
			return true
		}
	}
	return false
}

// Choose implements service.Backends. The returned Runner prepares the
// job once (the kernel's Prepare) and runs it where it was chosen to run;
// it reports the backend that actually ran.
//
//   - CPU runs the CPU implementation.
//   - CUDA runs the GPU implementation, or fails with FAILED_PRECONDITION
//     (reason GPU_UNAVAILABLE) naming why it cannot: no device, no GPU
//     implementation of the kernel, or an input the GPU implementation does
//     not cover; with RESOURCE_EXHAUSTED (429) when the input does not fit
//     the device-memory budget; with UNAVAILABLE when the GPU fails.
//   - AUTO (or empty) runs on the GPU when a device is usable, the kernel
//     has a GPU implementation that covers the input, the input is at least
//     the kernel's threshold and fits the budget; otherwise on the CPU. A
//     GPU failure, or a budget taken by concurrent requests, reruns the
//     same prepared job once on the CPU and is counted in
//     gokernels_gpu_fallbacks_total.
func (s *Selector) Choose(k *registry.Kernel, in proto.Message, requested string) (registry.Runner, string, error) {
	switch strings.ToUpper(requested) {
	case CPU:
		return k.CPURunner(), CPU, nil
	case CUDA:
		return s.chooseCUDA(k, in)
	default:
		return s.chooseAuto(k, in)
	}
}

func (s *Selector) gpuOf(k *registry.Kernel) (*Spec, registry.GPUFunc) {
	sp := s.specs[k.ID]
	fn := k.GPU()
	if sp == nil || fn == nil {
		return nil, nil
	}
	return sp, fn
}

func noGPU(msg string, args ...any) error {
	return errs.WithReason(codes.FailedPrecondition, errs.ReasonNoGPU, "backend CUDA was requested but "+fmt.Sprintf(msg, args...), 0)
}

func (s *Selector) chooseCUDA(k *registry.Kernel, in proto.Message) (registry.Runner, string, error) {
	switch {
	case len(s.devices) == 0:
		why := "this server found no CUDA device"
		if s.discoveryErr != nil {
			why += " (" + s.discoveryErr.Error() + ")"
		}
		return nil, "", noGPU("%s", why)
	case !s.usable():
		return nil, "", noGPU("every CUDA device of this server is out of service after a device error; see the gpu health component")
	}
	sp, fn := s.gpuOf(k)
	if sp == nil {
		return nil, "", noGPU("kernel %s has no CUDA implementation (its backends: %s)", k.ID, strings.Join(k.Backends(), ", "))
	}
	if ok, why := sp.supports(in); !ok {
		return nil, "", noGPU("the CUDA implementation of %s does not cover this input: %s", k.ID, why)
	}
	if need, limit := s.estimate(sp, in), s.maxLimit(); need > limit {
		return nil, "", budgetStatus(&BudgetError{Need: need, Limit: limit, Never: true})
	}
	return func(ctx context.Context, in proto.Message) (proto.Message, string, error) {
		job, err := k.Prepare(ctx, in)
		if err != nil {
			return nil, CUDA, err
		}
		out, err := s.runGPU(ctx, sp, fn, in, job)
		var be *BudgetError
		switch {
		case err == nil:
			return out, CUDA, nil
		case errors.As(err, &be):
			return nil, CUDA, budgetStatus(be)
		case IsDeviceError(err):
			return nil, CUDA, errs.WithReason(codes.Unavailable, errs.ReasonNoGPU,
				"the GPU failed while running the kernel; retry, or use backend AUTO or CPU", time.Second)
		}
		return nil, CUDA, err
	}, CUDA, nil
}

func budgetStatus(be *BudgetError) error {
	retry := time.Second
	if be.Never {
		retry = 0
	}
	return errs.WithReason(codes.ResourceExhausted, ReasonGPUMemory, "backend CUDA: the input "+be.Error(), retry)
}

func (s *Selector) maxLimit() int64 {
	var m int64
	for _, d := range s.devices {
		if d.usable() {
			m = max(m, d.budget.Limit())
		}
	}
	return m
}

func (s *Selector) chooseAuto(k *registry.Kernel, in proto.Message) (registry.Runner, string, error) {
	if !s.usable() {
		return k.CPURunner(), CPU, nil
	}
	sp, fn := s.gpuOf(k)
	if sp == nil {
		return k.CPURunner(), CPU, nil
	}
	if ok, _ := sp.supports(in); !ok {
		return k.CPURunner(), CPU, nil
	}
	if sp.Size(in) < s.thresholds[k.ID] {
		return k.CPURunner(), CPU, nil
	}
	if need := s.estimate(sp, in); need > s.maxLimit() {
		s.countFallback(FallbackMemory)
		return k.CPURunner(), CPU, nil
	}
	return func(ctx context.Context, in proto.Message) (proto.Message, string, error) {
		job, err := k.Prepare(ctx, in)
		if err != nil {
			return nil, CUDA, err
		}
		out, err := s.runGPU(ctx, sp, fn, in, job)
		if err == nil {
			return out, CUDA, nil
		}
		var be *BudgetError
		switch {
		case errors.As(err, &be):
			s.countFallback(FallbackMemory)
		case IsDeviceError(err):
			s.countFallback(FallbackGPUError)
			s.cpuRetries.Add(1)
		default:
			return nil, CUDA, err // invalid input, cancellation: the CPU would say the same
		}
		if e := ctx.Err(); e != nil {
			return nil, CPU, e
		}
		// The job is rerun on the CPU as prepared: the request is not
		// parsed twice.
		out, err = k.CPUJob(ctx, job)
		return out, CPU, err
	}, CUDA, nil
}
