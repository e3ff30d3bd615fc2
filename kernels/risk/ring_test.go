package risk

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	riskv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/risk/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/ring/ringreplay"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// The replay law on the numpy / scipy / sklearn fixtures through a
// JOURNAL ring: portfolio-aggregation (C·a accumulated column by column),
// monte-carlo-var (the seeded simulation at Snapshot) and credit-scoring
// (rows scored as they arrive, totals summed at Snapshot) equal Batch bit
// for bit.
func TestPositionAndCreditRingsReplayLaw(t *testing.T) {
	reg := newRegistry(t)
	for _, id := range []string{PortfolioAggregation.ID, MonteCarloVaR.ID, CreditScoring.ID} {
		t.Run(id, func(t *testing.T) {
			cases := ringreplay.Fixtures(t, reg, id)
			for _, c := range cases {
				if !proto.Equal(c.Batch, c.Ring) {
					t.Errorf("%s: ring differs from Batch:\n%.300s\n%.300s", c.Name, prototext.Format(c.Batch), prototext.Format(c.Ring))
				}
			}
		})
	}
}

// decodeCase decodes a fixture case's input for kernel id.
func decodeCase(t *testing.T, id string, c fixture.Case) proto.Message {
	t.Helper()
	k, _ := newRegistry(t).Get(id)
	in := k.NewInput()
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	return in
}

// Random position updates (several per message, repeats, whole-vector
// replacements), a state round trip midway: Snapshot equals Batch on the
// final positions — exactly for monte-carlo-var, and within 1e-12 for
// portfolio-aggregation, whose C·a is updated by columns between exact
// recomputations.
func TestPositionRingsUpdates(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 3))
	type target struct {
		id    string
		c     fixture.Case
		spec  func() fold.Handler
		msg   func(pos []float64, idx []int32) proto.Message
		batch func(in proto.Message, pos []float64) proto.Message
	}
	pf := fixture.Valid(t, "risk", "portfolio-aggregation")[2] // twelve positions, factor correlation
	mc := fixture.Valid(t, "risk", "monte-carlo-var")[2]       // six assets, factor correlation
	for _, tg := range []target{
		{PortfolioAggregation.ID, pf, PortfolioRing.New,
			func(pos []float64, idx []int32) proto.Message {
				return &riskv1.PortfolioAggregationInput{Positions: pos, PositionIndexes: idx}
			},
			func(in proto.Message, pos []float64) proto.Message {
				b := proto.Clone(in).(*riskv1.PortfolioAggregationInput)
				b.Positions = pos
				return b
			}},
		{MonteCarloVaR.ID, mc, MonteCarloRing.New,
			func(pos []float64, idx []int32) proto.Message {
				return &riskv1.MonteCarloVarInput{Positions: pos, PositionIndexes: idx}
			},
			func(in proto.Message, pos []float64) proto.Message {
				b := proto.Clone(in).(*riskv1.MonteCarloVarInput)
				b.Positions = pos
				return b
			}},
	} {
		t.Run(tg.id, func(t *testing.T) {
			in := decodeCase(t, tg.id, tg.c)
			h := tg.spec()
			cfg, first := h.Split(in)
			if err := h.Configure(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			n := len(first)
			pos := make([]float64, n)
			for step := range 200 {
				var m proto.Message
				if step%50 == 49 { // the whole vector
					for i := range pos {
						pos[i] = math.Round(rng.NormFloat64()*1e6) / 100
					}
					m = tg.msg(append([]float64(nil), pos...), nil)
				} else {
					var p []float64
					var idx []int32
					for range 1 + rng.IntN(3) {
						i := rng.IntN(n)
						pos[i] = math.Round(rng.NormFloat64()*1e6) / 100
						p, idx = append(p, pos[i]), append(idx, int32(i))
					}
					m = tg.msg(p, idx)
				}
				if err := h.Apply(ringreplay.NewContext(uint64(step+1), int64(step)), m); err != nil {
					t.Fatal(err)
				}
				if step == 100 {
					st, _ := h.MarshalState()
					h = tg.spec()
					if err := h.UnmarshalState(st); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := h.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			k, _ := newRegistry(t).Get(tg.id)
			want, err := k.Run(ctx, tg.batch(in, pos))
			if err != nil {
				t.Fatal(err)
			}
			if tg.id == MonteCarloVaR.ID {
				if !proto.Equal(want, got) {
					t.Fatalf("ring differs from Batch:\n%s\n%s", prototext.Format(want), prototext.Format(got))
				}
				return
			}
			w, g := want.(*riskv1.PortfolioAggregationOutput), got.(*riskv1.PortfolioAggregationOutput)
			fixture.Floats(t, "marginal_var", g.GetMarginalVar(), w.GetMarginalVar(), 1e-12, 1e-9)
			fixture.Floats(t, "component_var", g.GetComponentVar(), w.GetComponentVar(), 1e-12, 1e-9)
			fixture.Floats(t, "value_at_risk", []float64{g.GetValueAtRisk(), g.GetUndiversifiedVar()}, []float64{w.GetValueAtRisk(), w.GetUndiversifiedVar()}, 1e-12, 0)
		})
	}
}

// Per-obligor updates: exposures appended, then replaced by index; the
// Snapshot equals Batch on the final table bit for bit.
func TestCreditRingUpdates(t *testing.T) {
	ctx := context.Background()
	in := decodeCase(t, CreditScoring.ID, fixture.Valid(t, "risk", "credit-scoring")[0]).(*riskv1.CreditScoringInput)
	k := int(in.GetNFeatures())
	h := CreditRing.New()
	cfg, rows := CreditRing.Split(in)
	if err := h.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	final := proto.Clone(in).(*riskv1.CreditScoringInput)
	for i, r := range rows {
		if err := h.Apply(ringreplay.NewContext(uint64(i+1), 0), r); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for step := range 50 {
		i := rng.IntN(len(rows))
		f := make([]float64, k)
		for j := range f {
			f[j] = rng.NormFloat64()
		}
		lgd, ead := rng.Float64(), math.Round(rng.Float64()*1e6)
		copy(final.Features[i*k:], f)
		final.Lgd[i], final.Ead[i] = lgd, ead
		m := &riskv1.CreditScoringInput{NExposures: 1, Features: f, Lgd: []float64{lgd}, Ead: []float64{ead}, ExposureIndexes: []int32{int32(i)}}
		if err := h.Apply(ringreplay.NewContext(uint64(100+step), 0), m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := h.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reg := newRegistry(t)
	kk, _ := reg.Get(CreditScoring.ID)
	want, err := kk.Run(ctx, final)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(want, got) {
		t.Fatalf("ring differs from Batch:\n%.400s\n%.400s", prototext.Format(want), prototext.Format(got))
	}
	ringreplay.RoundTrip(t, CreditRing.New(), CreditRing.New, in)
}

// Refused messages name the field and leave the state unchanged; Batch
// refuses the ring-only index fields.
func TestRiskRingsReject(t *testing.T) {
	ctx := context.Background()
	p := PortfolioRing.New()
	if err := p.Apply(ringreplay.NewContext(1, 0), &riskv1.PortfolioAggregationInput{Positions: []float64{1}}); fixture.ErrorField(err) != "volatilities" {
		t.Fatalf("unconfigured: %v", err)
	}
	if err := p.Configure(ctx, &riskv1.PortfolioAggregationInput{Volatilities: []float64{0.1, 0.2, 0.3},
		Correlation: []*riskv1.Row{{Values: []float64{1, 0.9, 0.9}}, {Values: []float64{0.9, 1, -0.9}}, {Values: []float64{0.9, -0.9, 1}}}}); fixture.ErrorField(err) != "correlation" {
		t.Fatalf("not PSD: %v", err)
	}
	if err := p.Configure(ctx, &riskv1.PortfolioAggregationInput{Volatilities: []float64{0.1, 0.2}}); err != nil {
		t.Fatal(err)
	}
	before, _ := p.MarshalState()
	conf := 0.9
	for want, m := range map[string]*riskv1.PortfolioAggregationInput{
		"positions":           {Positions: []float64{1}},
		"position_indexes":    {Positions: []float64{1, 2}, PositionIndexes: []int32{0}},
		"position_indexes[1]": {Positions: []float64{1, 2}, PositionIndexes: []int32{0, 2}},
		"positions[0]":        {Positions: []float64{math.Inf(1)}, PositionIndexes: []int32{1}},
		"confidence_level":    {Positions: []float64{1, 2}, ConfidenceLevel: &conf},
	} {
		if err := p.Apply(ringreplay.NewContext(2, 0), m); fixture.ErrorField(err) != want {
			t.Errorf("%s: %v", want, err)
		}
		after, _ := p.MarshalState()
		if !bytes.Equal(before, after) {
			t.Fatalf("%s: a refused message changed the state", want)
		}
	}
	c := CreditRing.New()
	if err := c.Configure(ctx, &riskv1.CreditScoringInput{NFeatures: 2, Coefficients: []float64{1}}); fixture.ErrorField(err) != "coefficients" {
		t.Fatalf("coefficients: %v", err)
	}
	if err := c.Configure(ctx, &riskv1.CreditScoringInput{NFeatures: 1, Coefficients: []float64{1}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(ringreplay.NewContext(1, 0), &riskv1.CreditScoringInput{Features: []float64{1}, Lgd: []float64{0.5}, Ead: []float64{10}}); err != nil {
		t.Fatal(err)
	}
	before, _ = c.MarshalState()
	for want, m := range map[string]*riskv1.CreditScoringInput{
		"exposure_indexes[0]": {Features: []float64{1}, Lgd: []float64{0.5}, Ead: []float64{10}, ExposureIndexes: []int32{1}},
		"lgd[0]":              {Features: []float64{1}, Lgd: []float64{1.5}, Ead: []float64{10}},
		"features":            {Features: []float64{1, 2}, Lgd: []float64{0.5}, Ead: []float64{10}},
		"n_exposures":         {NExposures: 2, Features: []float64{1}, Lgd: []float64{0.5}, Ead: []float64{10}},
		"intercept":           {Intercept: 1, Features: []float64{1}, Lgd: []float64{0.5}, Ead: []float64{10}},
	} {
		if err := c.Apply(ringreplay.NewContext(2, 0), m); fixture.ErrorField(err) != want {
			t.Errorf("%s: %v", want, err)
		}
		after, _ := c.MarshalState()
		if !bytes.Equal(before, after) {
			t.Fatalf("%s: a refused message changed the state", want)
		}
	}
	reg := newRegistry(t)
	for id, in := range map[string]proto.Message{
		PortfolioAggregation.ID: &riskv1.PortfolioAggregationInput{Positions: []float64{1}, Volatilities: []float64{0.1}, PositionIndexes: []int32{0}},
		MonteCarloVaR.ID:        &riskv1.MonteCarloVarInput{Positions: []float64{1}, Volatilities: []float64{0.1}, PositionIndexes: []int32{0}},
		CreditScoring.ID:        &riskv1.CreditScoringInput{NExposures: 1, NFeatures: 0, Lgd: []float64{0.5}, Ead: []float64{1}, ExposureIndexes: []int32{0}},
	} {
		k, _ := reg.Get(id)
		if _, err := k.Run(ctx, in); fixture.ErrorField(err) == "" || fixture.ErrorField(err)[:3] != "pos" && fixture.ErrorField(err)[:3] != "exp" {
			t.Errorf("%s: Batch with an index field: %v", id, err)
		}
	}
}

// Benchmarks: cost per data message after 10k and 100k prior ones. A
// portfolio-aggregation update is O(n) (one column of C, n = 100 assets),
// monte-carlo-var O(1), credit-scoring O(k) (k = 8 features).
func BenchmarkRiskRingsApply(b *testing.B) {
	const n = 100
	vol := make([]float64, n)
	for i := range vol {
		vol[i] = 0.01 + 0.0001*float64(i)
	}
	pos := func(i int) (float64, int32) { return float64(i%997) * 10, int32(i*7919) % n }
	for _, prior := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("portfolio-aggregation/prior=%d", prior), func(b *testing.B) {
			ringreplay.BenchApply(b, PortfolioRing.New(), &riskv1.PortfolioAggregationInput{Volatilities: vol}, prior, func(i int) proto.Message {
				v, j := pos(i)
				return &riskv1.PortfolioAggregationInput{Positions: []float64{v}, PositionIndexes: []int32{j}}
			})
		})
		b.Run(fmt.Sprintf("monte-carlo-var/prior=%d", prior), func(b *testing.B) {
			ringreplay.BenchApply(b, MonteCarloRing.New(), &riskv1.MonteCarloVarInput{Volatilities: vol}, prior, func(i int) proto.Message {
				v, j := pos(i)
				return &riskv1.MonteCarloVarInput{Positions: []float64{v}, PositionIndexes: []int32{j}}
			})
		})
		b.Run(fmt.Sprintf("credit-scoring/prior=%d", prior), func(b *testing.B) {
			coef := []float64{0.1, -0.2, 0.3, 0.05, -0.1, 0.2, 0.01, -0.03}
			ringreplay.BenchApply(b, CreditRing.New(), &riskv1.CreditScoringInput{NFeatures: 8, Coefficients: coef, Intercept: -3}, prior, func(i int) proto.Message {
				f := []float64{float64(i % 13), 1, 2, 3, 4, 5, 6, float64(i % 7)}
				return &riskv1.CreditScoringInput{NExposures: 1, Features: f, Lgd: []float64{0.45}, Ead: []float64{float64(i % 1000)}}
			})
		})
	}
}
