package ml

import (
	"context"
	"math"
	"testing"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// The server's problem-size caps reach the kernels through the context.
func TestModelsLimits(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
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
		if got := fixture.ErrorField(err); got != c.field {
			t.Errorf("%s: error field %q (%v), want %q", c.id, got, err, c.field)
		}
	}
}

// Unset optional parameters take the documented defaults: ridge alpha 1,
// secure-aggregation 40 fractional bits.
func TestModelsDefaults(t *testing.T) {
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
