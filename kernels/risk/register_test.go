package risk

import (
	"context"
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	riskv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/risk/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRegisterFixtures runs every fixture case through the registry as the
// server does: jsoninput decoding, protovalidate, the kernel, JSON output;
// registered kernels and fixture files match one to one.
func TestRegisterFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "risk", nil)
}

// The server's limits are checked before any allocation proportional to them.
func TestLimits(t *testing.T) {
	r := newRegistry(t)
	ctx := limits.With(context.Background(), limits.Limits{MaxSimulations: 1000, MaxAllPairsN: 3, MaxSamples: 2, MaxCells: 4})
	n := int32(600) // 600 paths × 2 positions > 1000
	cases := []struct {
		id    string
		in    proto.Message
		field string
	}{
		{"risk/monte-carlo-var", &riskv1.MonteCarloVarInput{Positions: []float64{1, 2}, Volatilities: []float64{0.1, 0.1}, NSimulations: &n}, "n_simulations"},
		{"risk/monte-carlo-var", &riskv1.MonteCarloVarInput{Positions: make([]float64, 4), Volatilities: make([]float64, 4)}, "positions"},
		{"risk/portfolio-aggregation", &riskv1.PortfolioAggregationInput{Positions: make([]float64, 4), Volatilities: make([]float64, 4)}, "positions"},
		{"risk/credit-scoring", &riskv1.CreditScoringInput{NExposures: 3, Lgd: make([]float64, 3), Ead: make([]float64, 3)}, "n_exposures"},
		{"risk/realtime-correlation", &riskv1.RealtimeCorrelationInput{Series: []*riskv1.Row{{Values: []float64{1, 2, 3}}, {Values: []float64{1, 2, 4}}}}, "series"},
		{"risk/stress-testing", &riskv1.StressTestingInput{AssetIds: []string{"a", "b", "c"}, Values: []float64{1, 2, 3},
			Scenarios: []*riskv1.Scenario{{Name: "s"}}}, "values"},
	}
	for _, c := range cases {
		k, _ := r.Get(c.id)
		_, err := k.Run(ctx, c.in)
		if got := fixture.ErrorField(err); got != c.field {
			t.Errorf("%s: error field %q (%v), want %q", c.id, got, err, c.field)
		}
	}
}

// Defaults apply when optional fields are unset: 100,000 paths at 99%.
func TestMonteCarloDefaults(t *testing.T) {
	k, _ := newRegistry(t).Get("risk/monte-carlo-var")
	out, err := k.Run(context.Background(), &riskv1.MonteCarloVarInput{Positions: []float64{1e6}, Volatilities: []float64{0.01}})
	if err != nil {
		t.Fatal(err)
	}
	o := out.(*riskv1.MonteCarloVarOutput)
	if o.GetNSimulations() != 100_000 || o.GetTailPaths() != 1000 {
		t.Fatalf("n_simulations %d, tail_paths %d; want 100000 and 1000", o.GetNSimulations(), o.GetTailPaths())
	}
}

// A cancelled request stops the kernel with the context's error.
func TestCancelled(t *testing.T) {
	r := newRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ins := map[string]proto.Message{
		"risk/monte-carlo-var":       &riskv1.MonteCarloVarInput{Positions: []float64{1}, Volatilities: []float64{0.1}},
		"risk/portfolio-aggregation": &riskv1.PortfolioAggregationInput{Positions: []float64{1}, Volatilities: []float64{0.1}},
		"risk/credit-scoring":        &riskv1.CreditScoringInput{NExposures: 1, Lgd: []float64{0.5}, Ead: []float64{1}},
		"risk/realtime-correlation":  &riskv1.RealtimeCorrelationInput{Series: []*riskv1.Row{{Values: []float64{1, 2}}}},
		"risk/stress-testing": &riskv1.StressTestingInput{AssetIds: []string{"a"}, Values: []float64{1},
			Scenarios: []*riskv1.Scenario{{Name: "s"}}},
	}
	ids := make([]string, 0, len(ins))
	for id := range ins {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		k, _ := r.Get(id)
		if _, err := k.Run(ctx, ins[id]); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", id, err)
		}
	}
}
