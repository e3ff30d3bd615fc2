// Package testkernels registers kernels that exist only to test the server's
// generic paths: JSON decoding and encoding, a ring-only kernel, a panicking
// kernel and a slow, cancellable kernel. The served catalog never includes
// them.
package testkernels

import (
	"context"
	"errors"
	"math"
	"time"

	"google.golang.org/protobuf/proto"

	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// IDs of the test kernels.
const (
	Echo = "testing/echo"
	Ring = "testing/ring-only"
)

// Register adds the test kernels to r.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Add(r, registry.Meta{ID: Echo, Domain: registry.DomainCore,
			Description: "Echoes its input; can sleep (checking ctx) or panic on request.",
			// not_a_number is always NaN, to test how transports render it.
			NaNOutputs: []string{"not_a_number"}}, echo),
		registry.AddRingOnly(r, registry.Meta{ID: Ring, Domain: registry.DomainCore,
			Description: "A Ring-only kernel: unary Execute must refuse it with guidance."},
			&testingv1.EchoInput{}, &testingv1.EchoOutput{}),
	)
}

func echo(ctx context.Context, in *testingv1.EchoInput) (*testingv1.EchoOutput, error) {
	if in.GetPanic() {
		panic("test kernel asked to panic")
	}
	if in.GetMode() == "exact" && in.GetCount() == 0 {
		return nil, kerr.Invalid("count", "must be positive in exact mode")
	}
	if d := time.Duration(in.GetSleepMs()) * time.Millisecond; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	out := &testingv1.EchoOutput{
		Count: in.GetCount(), Pairs: in.GetPairs(), Rows: in.GetRows(), Mode: in.GetMode(),
		Nested: in.GetNested(), Weights: in.GetWeights(), Big: in.GetBig(), Flag: in.GetFlag(),
		NotANumber: math.NaN(),
	}
	if in.Scale != nil {
		out.Scale = proto.Float64(in.GetScale())
	}
	return out, nil
}
