package registry_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// TestCheckFinite: a finite input whose result overflows is a field error
// naming the input value that caused it, never a 200 carrying Inf/NaN; NaN
// passes only in the output fields Meta.NaNOutputs lists.
func TestCheckFinite(t *testing.T) {
	r := registry.New()
	reciprocalSquare := func(_ context.Context, in *wrapperspb.DoubleValue) (*wrapperspb.DoubleValue, error) {
		x := in.GetValue()
		return wrapperspb.Double(x * x / (x * x * x * x)), nil // x²/x⁴: overflows both ways
	}
	if err := registry.Add(r, registry.Meta{ID: "test/recip", Domain: registry.DomainCore}, reciprocalSquare); err != nil {
		t.Fatal(err)
	}
	nan := func(_ context.Context, _ *wrapperspb.DoubleValue) (*wrapperspb.DoubleValue, error) {
		return wrapperspb.Double(math.NaN()), nil
	}
	if err := registry.Add(r, registry.Meta{ID: "test/missing", Domain: registry.DomainCore, NaNOutputs: []string{"value"}}, nan); err != nil {
		t.Fatal(err)
	}
	k, _ := r.Get("test/recip")
	for _, c := range []struct {
		in        float64
		field     string
		mentioned string
	}{
		{1e200, "value", "overflow"},   // x² and x⁴ are +Inf: Inf/Inf
		{1e-200, "value", "underflow"}, // x² = 0 → 0/0
		{0, "", "degenerate"},          // 0/0 with nothing extreme to blame
	} {
		out, err := k.RunCPU(context.Background(), wrapperspb.Double(c.in))
		fe, ok := kerr.AsField(err)
		if !ok || fe.Field != c.field || !strings.Contains(fe.Desc, c.mentioned) {
			t.Errorf("input %g: out %v, err %v; want a field error on %q mentioning %q", c.in, out, err, c.field, c.mentioned)
		}
	}
	if out, err := k.RunCPU(context.Background(), wrapperspb.Double(2)); err != nil || out.(*wrapperspb.DoubleValue).GetValue() != 0.25 {
		t.Errorf("input 2: %v, %v; want 0.25", out, err)
	}
	m, _ := r.Get("test/missing")
	if out, err := m.RunCPU(context.Background(), wrapperspb.Double(1)); err != nil || !math.IsNaN(out.(*wrapperspb.DoubleValue).GetValue()) {
		t.Errorf("documented NaN output: %v, %v; want NaN passed through", out, err)
	}
}
