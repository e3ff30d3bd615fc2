package ml

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

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// registerBKernels are the ids RegisterB must provide, each with a fixture
// file testdata/fixtures/ml/<name>.json.
var registerBKernels = []string{
	"ml/linear-regression", "ml/ridge-regression", "ml/shap-values", "ml/feature-importance",
	"ml/embedding-generation", "ml/semantic-similarity", "ml/secure-aggregation",
	"ml/drug-interaction-prediction", "ml/clinical-pathway-conformance",
}

type registerBCase struct {
	Name       string                     `json:"name"`
	Input      json.RawMessage            `json:"input"`
	Expect     map[string]json.RawMessage `json:"expect"`
	ErrorField string                     `json:"error_field"`
	Rtol       *float64                   `json:"rtol"`
	Atol       *float64                   `json:"atol"`
}

// TestRegisterBFixtures runs every fixture case through the registry as the
// server does: jsoninput decoding (tuples included), protovalidate, the
// kernel, and the output rendered as JSON with proto field names.
func TestRegisterBFixtures(t *testing.T) {
	r := registry.New()
	if err := RegisterB(r); err != nil {
		t.Fatal(err)
	}
	if r.Len() != len(registerBKernels) {
		t.Errorf("registered %d kernels, want %d", r.Len(), len(registerBKernels))
	}
	for _, id := range registerBKernels {
		k, ok := r.Get(id)
		if !ok {
			t.Errorf("%s is not registered", id)
			continue
		}
		if k.Domain != registry.DomainML || !k.SupportsBatch() {
			t.Errorf("%s: domain %q, batch %v", id, k.Domain, k.SupportsBatch())
		}
		raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", id+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var fx struct {
			KernelID string          `json:"kernel_id"`
			Cases    []registerBCase `json:"cases"`
		}
		if err := json.Unmarshal(raw, &fx); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if fx.KernelID != id || len(fx.Cases) == 0 {
			t.Fatalf("%s: fixture names %q with %d cases", id, fx.KernelID, len(fx.Cases))
		}
		for _, c := range fx.Cases {
			t.Run(id+"/"+c.Name, func(t *testing.T) { runRegisterBCase(t, k, c) })
		}
	}
}

func runRegisterBCase(t *testing.T, k *registry.Kernel, c registerBCase) {
	in := k.NewInput()
	err := jsoninput.Decode(c.Input, in)
	var out *structpb.Struct
	if err == nil {
		msg, runErr := k.Run(context.Background(), in)
		err = runErr
		if err == nil {
			out, err = jsoninput.ToStruct(msg)
		}
	}
	if c.ErrorField != "" {
		if got := registerBErrorField(err); got != c.ErrorField {
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
		if msg := registerBCompare(g, want, rtol, atol); msg != "" {
			t.Errorf("%s%s", name, msg)
		}
	}
}

// registerBErrorField is the input field an error names: a kerr.FieldError's
// field or the first protovalidate violation's path.
func registerBErrorField(err error) string {
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

// registerBCompare compares decoded JSON values (numbers within tolerance)
// and describes the first difference, or returns "".
func registerBCompare(got, want any, rtol, atol float64) string {
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
			if msg := registerBCompare(g[i], w[i], rtol, atol); msg != "" {
				return fmt.Sprintf("[%d]%s", i, msg)
			}
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf(" = %v, want an object", got)
		}
		for key, wv := range w {
			if msg := registerBCompare(g[key], wv, rtol, atol); msg != "" {
				return "." + key + msg
			}
		}
	default:
		if got != want {
			return fmt.Sprintf(" = %v, want %v", got, want)
		}
	}
	return ""
}

// The server's problem-size caps reach the kernels through the context.
func TestRegisterBLimits(t *testing.T) {
	r := registry.New()
	if err := RegisterB(r); err != nil {
		t.Fatal(err)
	}
	ctx := limits.With(context.Background(), limits.Limits{MaxSamples: 3, MaxOutputItems: 4})
	for _, c := range []struct {
		id, field string
		in        string
	}{
		{"ml/linear-regression", "n_samples", `{"data": [1, 2, 3, 4], "n_samples": 4, "n_features": 1, "target": [1, 2, 3, 4]}`},
		{"ml/semantic-similarity", "top_k", `{"queries": [1, 0, 0, 1, 1, 1], "n_queries": 3, "dimension": 2}`},
		{"ml/drug-interaction-prediction", "pairs", `{"features": [1, 0, 1, 1, 0, 1], "n_drugs": 3, "n_features": 2, "pairs": [[0, 1], [0, 2], [1, 2], [1, 0], [2, 0]]}`},
		{"ml/embedding-generation", "documents", `{"documents": ["a", "b", "c", "d"]}`},
	} {
		k, _ := r.Get(c.id)
		in := k.NewInput()
		if err := jsoninput.Decode([]byte(c.in), in); err != nil {
			t.Fatal(err)
		}
		_, err := k.Run(ctx, in)
		if got := registerBErrorField(err); got != c.field {
			t.Errorf("%s: error field %q (%v), want %q", c.id, got, err, c.field)
		}
	}
}

// Unset optional parameters take the documented defaults: ridge alpha 1,
// secure-aggregation 40 fractional bits.
func TestRegisterBDefaults(t *testing.T) {
	ctx := context.Background()
	x := []float64{1, 2, 2, 1, 3, 5, 4, 3}
	y := []float64{1, 2, 4, 3}
	def, err := ridgeRegression(ctx, &mlv1.RidgeRegressionInput{Data: x, NSamples: 4, NFeatures: 2, Target: y})
	if err != nil {
		t.Fatal(err)
	}
	one := 1.0
	explicit, err := ridgeRegression(ctx, &mlv1.RidgeRegressionInput{Data: x, NSamples: 4, NFeatures: 2, Target: y, Alpha: &one})
	if err != nil {
		t.Fatal(err)
	}
	if def.Coefficients[0] != explicit.Coefficients[0] || def.Intercept != explicit.Intercept {
		t.Errorf("default alpha fit %v, alpha=1 fit %v", def, explicit)
	}
	agg, err := secureAggregation(ctx, &mlv1.SecureAggregationInput{Updates: []float64{1, 2}, NClients: 2, Dimension: 1})
	if err != nil {
		t.Fatal(err)
	}
	if agg.QuantizationStep != math.Ldexp(1, -40) || math.Abs(agg.Aggregate[0]-1.5) > 1e-12 {
		t.Errorf("aggregate %v with step %v, want 1.5 with 2^-40", agg.Aggregate, agg.QuantizationStep)
	}
}
