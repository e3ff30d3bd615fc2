package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// kernels are the ids Register must provide, each with its fixture file
// under testdata/fixtures/temporal.
var kernels = []string{
	"temporal/arima-forecast", "temporal/prophet-decomposition", "temporal/changepoint-detection",
	"temporal/anomaly-detection", "temporal/seasonal-decomposition", "temporal/trend-extraction",
	"temporal/volatility-analysis",
}

type fixtureFile struct {
	KernelID string        `json:"kernel_id"`
	Cases    []fixtureCase `json:"cases"`
}

type fixtureCase struct {
	Name       string                     `json:"name"`
	Input      json.RawMessage            `json:"input"`
	Expect     map[string]json.RawMessage `json:"expect"`
	ErrorField string                     `json:"error_field"`
	Rtol       *float64                   `json:"rtol"`
	Atol       *float64                   `json:"atol"`
}

// TestRegisterFixtures runs every fixture case of every temporal kernel the
// way the server does: JSON input decoded by jsoninput, protovalidate, the
// kernel, and the output rendered as JSON.
func TestRegisterFixtures(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	if r.Len() != len(kernels) {
		t.Errorf("registered %d kernels, want %d", r.Len(), len(kernels))
	}
	for _, id := range kernels {
		k, ok := r.Get(id)
		if !ok {
			t.Errorf("%s is not registered", id)
			continue
		}
		ring := id == "temporal/anomaly-detection" || id == "temporal/volatility-analysis"
		if k.Domain != registry.DomainTemporal || !k.SupportsBatch() || k.HasMode(registry.Ring) != ring {
			t.Errorf("%s: domain %q, batch %v, modes %v", id, k.Domain, k.SupportsBatch(), k.Modes)
		}
		fx := loadFixture(t, id)
		for _, c := range fx.Cases {
			t.Run(id+"/"+c.Name, func(t *testing.T) { runCase(t, k, c) })
		}
	}
}

func loadFixture(t *testing.T, id string) fixtureFile {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "fixtures", id+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fx fixtureFile
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if fx.KernelID != id || len(fx.Cases) == 0 {
		t.Fatalf("%s: kernel_id %q with %d cases", path, fx.KernelID, len(fx.Cases))
	}
	return fx
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

func runCase(t *testing.T, k *registry.Kernel, c fixtureCase) {
	out, err := run(k, context.Background(), c.Input)
	if c.ErrorField != "" {
		if got := errorField(err); got != c.ErrorField {
			t.Fatalf("error field %q (err %v), want %q", got, err, c.ErrorField)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	rtol, atol := 1e-9, 1e-12
	if c.Rtol != nil {
		rtol = *c.Rtol
	}
	if c.Atol != nil {
		atol = *c.Atol
	}
	got := out.AsMap()
	for name, raw := range c.Expect {
		var want any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		g, ok := got[name]
		if !ok {
			t.Errorf("output has no %s", name)
			continue
		}
		if name == "log_likelihood" && k.ID == "temporal/volatility-analysis" {
			// GARCH: at least the reference optimiser's optimum minus 1e-3.
			if gv, ok := g.(float64); !ok || gv < want.(float64)-atol {
				t.Errorf("log_likelihood = %v, want >= %v - %g", g, want, atol)
			}
			continue
		}
		if msg := compareJSON(g, want, rtol, atol); msg != "" {
			t.Errorf("%s%s", name, msg)
		}
	}
}

// errorField is the input field an error names: a kerr.FieldError's field or
// the first protovalidate violation's field path.
func errorField(err error) string {
	if err == nil {
		return ""
	}
	if fe, ok := kerr.AsField(err); ok {
		return fe.Field
	}
	var ve *protovalidate.ValidationError
	if errors.As(err, &ve) && len(ve.Violations) > 0 {
		return protovalidate.FieldPathString(ve.Violations[0].Proto.GetField())
	}
	return "(not a field error: " + err.Error() + ")"
}

// compareJSON compares decoded JSON values, numbers within tolerance, and
// returns a description of the first difference ("" when equal).
func compareJSON(got, want any, rtol, atol float64) string {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		if !ok || math.IsNaN(g) || math.Abs(g-w) > atol+rtol*math.Abs(w) {
			return fmt.Sprintf(" = %v, want %v", got, w)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf(": got %d values, want %d", len(g), len(w))
		}
		for i := range w {
			if msg := compareJSON(g[i], w[i], rtol, atol); msg != "" {
				return fmt.Sprintf("[%d]%s", i, msg)
			}
		}
	default:
		if got != want {
			return fmt.Sprintf(" = %v, want %v", got, want)
		}
	}
	return ""
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
		if got := errorField(err); got != c.field {
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
