package registry

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/fold"
)

// Def declares one kernel: its metadata, its typed input and output, and the
// functions that hang off it. A kernel package exports its Def; the domain's
// Register function adds it with Register. Job is the kernel's working form
// (e.g. the CSR graph and options), built once by Prepare and consumed by
// every backend, so no backend parses the request again: the CPU path is
// CPU, a device path is supplied by cuda/ with DeviceFunc(def, …) and
// attached with Registry.AttachGPU.
type Def[In, Out proto.Message, Job any] struct {
	Meta
	// Prepare applies the documented defaults, rejects bad input with a
	// *kerr.FieldError naming the field, and builds the working form. The
	// input has already passed its protovalidate rules.
	Prepare func(ctx context.Context, in In) (Job, error)
	// CPU computes the output from a prepared job. It honours ctx.
	CPU func(ctx context.Context, job Job) (Out, error)
	// Estimate (optional) sizes a request from its input alone, before
	// Prepare allocates anything proportional to it. Admission and backend
	// selection read it.
	Estimate func(in In) Cost
	// Ring (optional) makes a fresh ring handler for kernels listing the
	// Ring mode (package fold; the runtime is package ring).
	Ring func() fold.Handler
	// Finite (optional) reports whether every floating-point value of an
	// output is finite (outside Meta.NaNOutputs): a typed stand-in for
	// CheckFinite's reflective walk, which costs about 0.4 µs per output
	// message (37 ms on one core for circular-flow's 100,000 entities).
	// When it reports false the walk runs, to name the field. Test it with
	// registry/finitetest.Covers, which plants NaN and ±Inf in every float
	// field of an output.
	Finite func(out Out) bool
}

// GPUFunc is a kernel's device implementation on a job built by the
// kernel's Prepare. dev is the device handle of the backend that calls it
// (cuda.Device); the registry does not look inside either.
type GPUFunc func(ctx context.Context, dev any, job any) (proto.Message, error)

// DeviceFunc types a device implementation against the kernel it
// implements: the compiler checks that fn takes d's Job and returns d's
// Out. Dev is the backend's device type.
func DeviceFunc[In, Out proto.Message, Job, Dev any](d Def[In, Out, Job], fn func(ctx context.Context, dev Dev, job Job) (Out, error)) GPUFunc {
	return func(ctx context.Context, dev any, job any) (proto.Message, error) {
		j, ok := job.(Job)
		if !ok {
			return nil, fmt.Errorf("kernel %s: job is %T, want %T", d.ID, job, j)
		}
		return fn(ctx, dev.(Dev), j)
	}
}

// Runner executes one validated input on the backend chosen for it and
// reports the backend that actually ran it (a GPU run that fell back to
// the CPU says CPU).
type Runner func(ctx context.Context, in proto.Message) (out proto.Message, ranOn string, err error)

// CPURunner runs every input on the CPU.
func (k *Kernel) CPURunner() Runner {
	return func(ctx context.Context, in proto.Message) (proto.Message, string, error) {
		out, err := k.RunCPU(ctx, in)
		return out, BackendCPU, err
	}
}

// Direct declares a kernel whose job is its validated input: fn does the
// defaults, the checks and the work in one step. It suits kernels with a
// single backend; a kernel that gains a GPU path splits fn into Prepare and
// CPU so that both backends share the working form.
func Direct[In, Out proto.Message](m Meta, fn func(ctx context.Context, in In) (Out, error)) Def[In, Out, In] {
	return Def[In, Out, In]{
		Meta:    m,
		Prepare: func(_ context.Context, in In) (In, error) { return in, nil },
		CPU:     fn,
	}
}

// Or returns *v, or def when the optional proto3 field is unset: the
// documented default of a field declared `optional` in the proto.
func Or[T any](v *T, def T) T {
	if v != nil {
		return *v
	}
	return def
}

// Cost is a request's estimated size.
type Cost struct {
	// WorkingBytes is the peak memory the request needs while it runs
	// (working form, scratch and output together).
	WorkingBytes int64
	// OutputBytes bounds the size of the encoded output.
	OutputBytes int64
	// Work is the number of elementary steps (edges × iterations, cells, …),
	// comparable within one kernel: backend selection's thresholds use it.
	Work float64
}

// Register adds a kernel declared with Def.
func Register[In, Out proto.Message, Job any](r *Registry, d Def[In, Out, Job]) error {
	if d.Prepare == nil || d.CPU == nil {
		return fmt.Errorf("kernel %s: Def needs Prepare and CPU", d.ID)
	}
	var in In
	var out Out
	k := &Kernel{
		Meta:   d.Meta,
		Input:  in.ProtoReflect().Type(),
		Output: out.ProtoReflect().Type(),
		ring:   d.Ring,
	}
	k.prepare = func(ctx context.Context, msg proto.Message) (any, error) {
		typed, ok := msg.(In)
		if !ok {
			return nil, fmt.Errorf("kernel %s: input is %T, want %T", d.ID, msg, in)
		}
		return d.Prepare(ctx, typed)
	}
	k.cpu = func(ctx context.Context, job any) (proto.Message, error) {
		return d.CPU(ctx, job.(Job))
	}
	k.run = func(ctx context.Context, msg proto.Message) (proto.Message, error) {
		job, err := k.prepare(ctx, msg)
		if err != nil {
			return nil, err
		}
		return k.cpu(ctx, job)
	}
	if d.Finite != nil {
		k.finite = func(msg proto.Message) bool {
			typed, ok := msg.(Out)
			return ok && d.Finite(typed)
		}
	}
	if d.Estimate != nil {
		k.estimate = func(msg proto.Message) Cost {
			typed, ok := msg.(In)
			if !ok {
				return Cost{}
			}
			return d.Estimate(typed)
		}
	}
	if len(k.Modes) == 0 {
		k.Modes = []Mode{Batch}
	}
	if !k.HasMode(Batch) {
		return fmt.Errorf("kernel %s: a kernel with a batch function must list the Batch mode", d.ID)
	}
	return r.insert(k)
}

// Estimate returns the kernel's estimate for in, and false when the kernel
// declares none.
func (k *Kernel) Estimate(in proto.Message) (Cost, bool) {
	if k.estimate == nil {
		return Cost{}, false
	}
	return k.estimate(in), true
}

// Prepare runs the kernel's Prepare step on a validated input. Kernels
// registered with Add have no separate step: the job is the input itself.
func (k *Kernel) Prepare(ctx context.Context, in proto.Message) (any, error) {
	if k.prepare == nil {
		return in, nil
	}
	return k.prepare(ctx, in)
}

// CPUJob runs the CPU path on a job returned by Prepare; its output passes
// CheckFinite (without the input to name, unless the job is the input).
func (k *Kernel) CPUJob(ctx context.Context, job any) (proto.Message, error) {
	if k.cpu == nil {
		return k.RunCPU(ctx, job.(proto.Message))
	}
	out, err := k.cpu(ctx, job)
	if err != nil {
		return out, err
	}
	if err := k.CheckFinite(nil, out); err != nil {
		return nil, err
	}
	return out, nil
}
