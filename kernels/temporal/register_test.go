package temporal

import (
	"context"
	"maps"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// TestRegisterFixtures runs every fixture case of every temporal kernel the
// way the server does: JSON input decoded by jsoninput, protovalidate, the
// kernel, and the output rendered as JSON.
func TestRegisterFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "temporal", map[string]fixture.Adjust{
		"temporal/volatility-analysis": func(t *testing.T, _ *registry.Registry, f fixture.File) (fixture.File, fixture.Check) {
			return logLikelihoodFloors(t, f)
		},
	})
}

// logLikelihoodFloors turns volatility-analysis's expected log_likelihood
// into a floor: the GARCH fit must reach at least the reference optimiser's
// optimum minus the case's atol. It returns f without log_likelihood in the
// expectations and the check of the floors.
func logLikelihoodFloors(t *testing.T, f fixture.File) (fixture.File, func(*testing.T, fixture.Case, map[string]any)) {
	t.Helper()
	floors := map[string]float64{}
	f.Cases = append([]fixture.Case(nil), f.Cases...)
	for i, c := range f.Cases {
		want, ok := c.Expect["log_likelihood"]
		if !ok {
			continue
		}
		w, isNum := want.(float64)
		if _, dup := floors[c.Name]; dup || !isNum {
			t.Fatalf("%s: case %s: log_likelihood %v (duplicate name %v)", f.Path, c.Name, want, dup)
		}
		floors[c.Name] = w
		f.Cases[i].Expect = maps.Clone(c.Expect)
		delete(f.Cases[i].Expect, "log_likelihood")
	}
	return f, func(t *testing.T, c fixture.Case, out map[string]any) {
		want, ok := floors[c.Name]
		if !ok {
			return
		}
		_, atol := c.Tolerances()
		g, ok := out["log_likelihood"]
		if !ok {
			t.Fatal("output has no log_likelihood")
		}
		if gv, ok := g.(float64); !ok || gv < want-atol {
			t.Errorf("log_likelihood = %v, want >= %v - %g", g, want, atol)
		}
	}
}

func run(k *registry.Kernel, ctx context.Context, input []byte) (*structpb.Struct, error) {
	in := k.NewInput()
	if err := jsoninput.Decode(input, in); err != nil {
		return nil, err
	}
	msg, err := k.Run(ctx, in)
	if err != nil {
		return nil, err
	}
	return jsoninput.ToStruct(msg)
}

// TestFieldErrors covers rules the fixtures do not: limits and cross-field
// checks, each naming its field.
func TestFieldErrors(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	small := limits.With(context.Background(), limits.Limits{MaxSeriesLength: 5, MaxCells: 40})
	for _, c := range []struct {
		id, input, field string
		ctx              context.Context
	}{
		{"temporal/anomaly-detection", `{"values": [1, 2, 3, 4, 5, 6]}`, "values", small},
		{"temporal/prophet-decomposition", `{"values": [1, 2, 3, 4, 5], "n_changepoints": 30, "seasonal_periods": [2.5]}`, "values", small},
		{"temporal/seasonal-decomposition", `{"values": [1, 2, 3, 4, 5, 6, 7], "period": 4}`, "values", nil},
		{"temporal/seasonal-decomposition", `{"values": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "period": 4, "method": "stl", "trend": 3}`, "trend", nil},
		{"temporal/seasonal-decomposition", `{"values": [1, 2, 3, 4, 5], "frequency": "T"}`, "period", nil},
		{"temporal/changepoint-detection", `{"values": [1, 2, 3, 4], "cost": "normal", "min_segment": 1}`, "min_segment", nil},
		{"temporal/volatility-analysis", `{"values": [0.1, 0.1], "method": "garch"}`, "values", nil},
		{"temporal/volatility-analysis", `{"values": [0.01, 0.01, 0.01, 0.01], "method": "garch"}`, "values", nil},
		{"temporal/arima-forecast", `{"values": [3, 3, 3, 3, 3, 3, 3, 3], "p": 1}`, "values", nil},
		{"temporal/arima-forecast", `{"values": [1, 2, 3, 4, 5, 6, 7, 8], "p": 11}`, "p", nil},
		{"temporal/trend-extraction", `{"values": [1, 2, 3], "method": "bogus"}`, "method", nil},
		{"temporal/anomaly-detection", `{"values": [1, 2], "method": "esd"}`, "values", nil},
	} {
		ctx := c.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		k, _ := r.Get(c.id)
		_, err := run(k, ctx, []byte(c.input))
		if got := fixture.ErrorField(err); got != c.field {
			t.Errorf("%s %s: field %q (err %v), want %q", c.id, c.input, got, err, c.field)
		}
	}
}

// TestDefaultsAndShapes checks documented defaults through the registry.
func TestDefaultsAndShapes(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	k, _ := r.Get("temporal/arima-forecast")
	out, err := run(k, context.Background(), []byte(`{"values": [1, 3, 2, 4, 3, 5, 4, 6, 5, 7, 6, 8], "p": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	m := out.AsMap()
	if fc := m["forecast"].([]any); len(fc) != 10 {
		t.Errorf("default horizon gives %d forecasts, want 10", len(fc))
	}
	lo, hi, fc := m["forecast_lower"].([]any), m["forecast_upper"].([]any), m["forecast"].([]any)
	if !(lo[0].(float64) < fc[0].(float64) && fc[0].(float64) < hi[0].(float64)) {
		t.Errorf("interval %v %v %v", lo[0], fc[0], hi[0])
	}
	// Classical decomposition with the default extrapolation has no NaN.
	k, _ = r.Get("temporal/seasonal-decomposition")
	out, err = run(k, context.Background(), []byte(`{"values": [1, 5, 2, 6, 3, 7, 4, 8, 5, 9], "period": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.AsMap()["trend"].([]any) {
		if _, ok := v.(float64); !ok {
			t.Fatalf("trend has %v", v)
		}
	}
	// Volatility forecasts: EWMA repeats the last variance.
	k, _ = r.Get("temporal/volatility-analysis")
	out, err = run(k, context.Background(), []byte(`{"values": [0.01, -0.02, 0.015], "horizon": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	vm := out.AsMap()
	fv, variance := vm["forecast_variance"].([]any), vm["variance"].([]any)
	if len(fv) != 2 || fv[1] != variance[2] || vm["lambda"] != 0.94 {
		t.Errorf("ewma defaults: %v", vm)
	}
}
