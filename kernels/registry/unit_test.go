package registry_test

import (
	"context"
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
