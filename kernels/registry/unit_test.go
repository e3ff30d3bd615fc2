package registry_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// doubler is a toy kernel declared with Def: Prepare rejects negatives and
// builds the job, CPU doubles it.
var doubler = registry.Def[*wrapperspb.Int64Value, *wrapperspb.Int64Value, int64]{
	Meta: registry.Meta{ID: "test/doubler", Domain: registry.DomainCore},
	Prepare: func(_ context.Context, in *wrapperspb.Int64Value) (int64, error) {
		if in.GetValue() < 0 {
			return 0, kerr.Invalid("value", "must be ≥ 0, got %d", in.GetValue())
		}
		return in.GetValue(), nil
	},
	CPU: func(_ context.Context, v int64) (*wrapperspb.Int64Value, error) {
		return wrapperspb.Int64(2 * v), nil
	},
	Estimate: func(in *wrapperspb.Int64Value) registry.Cost {
		return registry.Cost{WorkingBytes: 8 * in.GetValue(), OutputBytes: 16}
	},
}

func TestDefRunsPrepareThenCPU(t *testing.T) {
	r := registry.New()
	if err := registry.Register(r, doubler); err != nil {
		t.Fatal(err)
	}
	k, ok := r.Get("test/doubler")
	if !ok {
		t.Fatal("not registered")
	}
	out, err := k.RunCPU(context.Background(), wrapperspb.Int64(21))
	if err != nil || out.(*wrapperspb.Int64Value).GetValue() != 42 {
		t.Fatalf("RunCPU = %v, %v; want 42", out, err)
	}
	job, err := k.Prepare(context.Background(), wrapperspb.Int64(5))
	if err != nil || job.(int64) != 5 {
		t.Fatalf("Prepare = %v, %v", job, err)
	}
	out, err = k.CPUJob(context.Background(), job)
	if err != nil || out.(*wrapperspb.Int64Value).GetValue() != 10 {
		t.Fatalf("CPUJob = %v, %v", out, err)
	}
	_, err = k.RunCPU(context.Background(), wrapperspb.Int64(-1))
	if fe, ok := kerr.AsField(err); !ok || fe.Field != "value" {
		t.Fatalf("negative input: err = %v, want a field error on value", err)
	}
	c, ok := k.Estimate(wrapperspb.Int64(100))
	if !ok || c.WorkingBytes != 800 {
		t.Fatalf("Estimate = %+v, %v", c, ok)
	}
	if err := registry.Register(r, doubler); err == nil {
		t.Fatal("second registration of the same id must fail")
	}
}

// TestGPUAttachesToTheUnitAndFreezes: a device path typed against the Def
// runs on the job Prepare built; after Freeze nothing can be added.
func TestGPUAttachesToTheUnitAndFreezes(t *testing.T) {
	r := registry.New()
	if err := registry.Register(r, doubler); err != nil {
		t.Fatal(err)
	}
	k, _ := r.Get("test/doubler")
	if got := k.Backends(); len(got) != 1 || got[0] != registry.BackendCPU {
		t.Fatalf("backends before AttachGPU: %v", got)
	}
	type device struct{ factor int64 }
	gpu := registry.DeviceFunc(doubler, func(_ context.Context, d device, v int64) (*wrapperspb.Int64Value, error) {
		return wrapperspb.Int64(d.factor * v), nil
	})
	if err := r.AttachGPU("test/doubler", gpu); err != nil {
		t.Fatal(err)
	}
	if got := k.Backends(); len(got) != 2 || got[1] != registry.BackendCUDA {
		t.Fatalf("backends after AttachGPU: %v", got)
	}
	job, err := k.Prepare(context.Background(), wrapperspb.Int64(7))
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.GPU()(context.Background(), device{factor: 3}, job)
	if err != nil || out.(*wrapperspb.Int64Value).GetValue() != 21 {
		t.Fatalf("GPU = %v, %v; want 21", out, err)
	}
	if _, err := k.GPU()(context.Background(), device{3}, "not a job"); err == nil {
		t.Error("a job of the wrong type must be refused, not panic")
	}
	if err := r.AttachGPU("test/none", gpu); err == nil {
		t.Error("AttachGPU to an unknown kernel must fail")
	}

	// A kernel registered with Add has no Prepare step: no GPU path.
	if err := registry.Add(r, registry.Meta{ID: "test/plain", Domain: registry.DomainCore},
		func(_ context.Context, in *wrapperspb.Int64Value) (*wrapperspb.Int64Value, error) { return in, nil }); err != nil {
		t.Fatal(err)
	}
	if err := r.AttachGPU("test/plain", gpu); err == nil {
		t.Error("AttachGPU to a kernel without Prepare must fail")
	}

	r.Freeze()
	if err := registry.Register(r, registry.Def[*wrapperspb.Int64Value, *wrapperspb.Int64Value, int64]{
		Meta: registry.Meta{ID: "test/late", Domain: registry.DomainCore}, Prepare: doubler.Prepare, CPU: doubler.CPU,
	}); err == nil {
		t.Error("Register after Freeze must fail")
	}
	if err := r.AttachGPU("test/doubler", gpu); err == nil {
		t.Error("AttachGPU after Freeze must fail")
	}
	if r.Len() != 2 {
		t.Errorf("Len = %d after refused registrations, want 2", r.Len())
	}
}

// TestCPURunnerReportsCPU: the CPU-only plan says which backend ran.
func TestCPURunnerReportsCPU(t *testing.T) {
	r := registry.New()
	if err := registry.Register(r, doubler); err != nil {
		t.Fatal(err)
	}
	k, _ := r.Get("test/doubler")
	out, ranOn, err := k.CPURunner()(context.Background(), wrapperspb.Int64(4))
	if err != nil || ranOn != registry.BackendCPU || out.(*wrapperspb.Int64Value).GetValue() != 8 {
		t.Fatalf("CPURunner = %v, %q, %v", out, ranOn, err)
	}
}

// TestDefFinite: a kernel's typed Finite check stands in for the
// reflective walk when it reports true (calls counted), and when it
// reports false the walk still names the non-finite output field.
func TestDefFinite(t *testing.T) {
	calls := 0
	d := registry.Def[*wrapperspb.DoubleValue, *wrapperspb.DoubleValue, float64]{
		Meta:    registry.Meta{ID: "test/inverse", Domain: registry.DomainCore},
		Prepare: func(_ context.Context, in *wrapperspb.DoubleValue) (float64, error) { return in.GetValue(), nil },
		CPU: func(_ context.Context, v float64) (*wrapperspb.DoubleValue, error) {
			return wrapperspb.Double(1 / v), nil
		},
		Finite: func(out *wrapperspb.DoubleValue) bool {
			calls++
			return out.GetValue()-out.GetValue() == 0
		},
	}
	r := registry.New()
	if err := registry.Register(r, d); err != nil {
		t.Fatal(err)
	}
	k, _ := r.Get("test/inverse")
	out, err := k.RunCPU(context.Background(), wrapperspb.Double(4))
	if err != nil || out.(*wrapperspb.DoubleValue).GetValue() != 0.25 || calls != 1 {
		t.Fatalf("RunCPU(4) = %v, %v after %d Finite calls", out, err, calls)
	}
	_, err = k.RunCPU(context.Background(), wrapperspb.Double(0))
	if err == nil || calls != 2 || !strings.Contains(err.Error(), "value is +Inf") {
		t.Fatalf("RunCPU(0) = %v after %d Finite calls; want an error naming value", err, calls)
	}
}
