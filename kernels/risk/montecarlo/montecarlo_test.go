package montecarlo

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"slices"
	"testing"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/risk/corrmat"
	"github.com/gokernels/gokernels/kernels/risk/normdist"
)

// mcFixture is the part of testdata/fixtures/risk/monte-carlo-var.json these
// tests read: the numpy re-simulation of the same paths.
type mcFixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Positions       []float64   `json:"positions"`
			ExpectedReturns []float64   `json:"expected_returns"`
			Volatilities    []float64   `json:"volatilities"`
			Correlation     [][]float64 `json:"correlation"`
			Confidence      *float64    `json:"confidence_level"`
			HoldingDays     *float64    `json:"holding_period_days"`
			Paths           *int        `json:"n_simulations"`
			Seed            uint64      `json:"seed"`
		} `json:"input"`
		Expect *struct {
			VaR         float64   `json:"value_at_risk"`
			ES          float64   `json:"expected_shortfall"`
			MeanPnL     float64   `json:"mean_pnl"`
			StdPnL      float64   `json:"std_pnl"`
			TailPaths   int       `json:"tail_paths"`
			ComponentES []float64 `json:"component_es"`
		} `json:"expect"`
		RTol float64 `json:"rtol"`
		ATol float64 `json:"atol"`
	} `json:"cases"`
}

func TestSimulateMatchesNumpy(t *testing.T) {
	var fx mcFixture
	fixtures.Read(t, "risk", "monte-carlo-var", &fx)
	var err error
	ran := 0
	for _, c := range fx.Cases {
		if c.Expect == nil {
			continue // error cases are checked through the registry
		}
		in := c.Input
		n := len(in.Positions)
		corr := identity(n)
		if in.Correlation != nil {
			if corr, err = corrmat.Flatten("correlation", in.Correlation, n); err != nil {
				t.Fatal(err)
			}
		}
		l, err := corrmat.Cholesky(context.Background(), corr, n)
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Confidence: 0.99, HoldingDays: 1, Paths: 100_000, Seed: in.Seed}
		if in.Confidence != nil {
			cfg.Confidence = *in.Confidence
		}
		if in.HoldingDays != nil {
			cfg.HoldingDays = *in.HoldingDays
		}
		if in.Paths != nil {
			cfg.Paths = *in.Paths
		}
		res, err := Simulate(context.Background(), Portfolio{Positions: in.Positions, ExpectedReturns: in.ExpectedReturns,
			Volatilities: in.Volatilities, Chol: l}, cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		want := c.Expect
		near := func(what string, got, want float64) {
			if math.Abs(got-want) > c.ATol+c.RTol*math.Abs(want) {
				t.Errorf("%s: %s = %.15g, numpy %.15g", c.Name, what, got, want)
			}
		}
		near("VaR", res.VaR, want.VaR)
		near("ES", res.ES, want.ES)
		near("mean", res.MeanPnL, want.MeanPnL)
		near("std", res.StdPnL, want.StdPnL)
		if res.TailPaths != want.TailPaths {
			t.Errorf("%s: tail paths %d, want %d", c.Name, res.TailPaths, want.TailPaths)
		}
		for i := range want.ComponentES {
			near("component ES", res.ComponentES[i], want.ComponentES[i])
		}
		ran++
	}
	if ran < 4 {
		t.Fatalf("only %d fixture cases ran", ran)
	}
}

// At 10⁶ paths the simulated VaR and ES of normal returns are within 1% of
// the closed forms: P&L ~ N(m, s²) with m = h·xᵀμ and s² = h·xᵀΣx, so
// VaR = z·s − m and ES = s·φ(z)/(1−c) − m. This is the one slow test
// (10⁶ paths × 10 assets, twice).
func TestSimulateMatchesAnalyticNormal(t *testing.T) {
	pf := equicorrelated(t, 10, 0.35)
	for _, c := range []float64{0.95, 0.99} {
		cfg := Config{Confidence: c, HoldingDays: 10, Paths: 1_000_000, Seed: 11}
		res, err := Simulate(context.Background(), pf, cfg)
		if err != nil {
			t.Fatal(err)
		}
		m, s := analyticMoments(pf, cfg.HoldingDays)
		z := normdist.Quantile(c)
		wantVaR := z*s - m
		wantES := s*normdist.PDF(z)/(1-c) - m
		if rel := math.Abs(res.VaR/wantVaR - 1); rel > 0.01 {
			t.Errorf("c=%g: VaR %.6g vs analytic %.6g (%.3f%%)", c, res.VaR, wantVaR, 100*rel)
		}
		if rel := math.Abs(res.ES/wantES - 1); rel > 0.01 {
			t.Errorf("c=%g: ES %.6g vs analytic %.6g (%.3f%%)", c, res.ES, wantES, 100*rel)
		}
		if rel := math.Abs(res.StdPnL/s - 1); rel > 0.005 {
			t.Errorf("c=%g: std %.6g vs analytic %.6g", c, res.StdPnL, s)
		}
		var sum float64
		for _, v := range res.ComponentES {
			sum += v
		}
		if math.Abs(sum-res.ES) > 1e-9*math.Abs(res.ES) {
			t.Errorf("component ES sums to %.12g, ES %.12g", sum, res.ES)
		}
	}
}

// The seed fixes the result, bit for bit, whatever the number of workers.
func TestSimulateDeterministicAcrossWorkers(t *testing.T) {
	pf := equicorrelated(t, 7, 0.2)
	var first *Result
	for _, w := range []int{1, 2, 5} {
		res, err := Simulate(context.Background(), pf, Config{Confidence: 0.99, HoldingDays: 1, Paths: 3*blockPaths + 17, Seed: 5, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		if res.VaR != first.VaR || res.ES != first.ES || res.MeanPnL != first.MeanPnL || !slices.Equal(res.ComponentES, first.ComponentES) {
			t.Fatalf("workers=%d gave a different result", w)
		}
	}
	other, _ := Simulate(context.Background(), pf, Config{Confidence: 0.99, HoldingDays: 1, Paths: 3*blockPaths + 17, Seed: 6})
	if other.VaR == first.VaR {
		t.Fatal("a different seed gave the same VaR")
	}
}

// Perfectly correlated assets (a PSD, singular matrix) behave as one asset.
func TestSimulateSingularCorrelation(t *testing.T) {
	l, err := corrmat.Cholesky(context.Background(), []float64{1, 1, 1, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Confidence: 0.99, HoldingDays: 1, Paths: 5000, Seed: 3}
	two, err := Simulate(context.Background(), Portfolio{Positions: []float64{1e6, 2e6}, Volatilities: []float64{0.02, 0.02}, Chol: l}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	one, err := Simulate(context.Background(), Portfolio{Positions: []float64{3e6}, Volatilities: []float64{0.02}, Chol: []float64{1}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(two.VaR-one.VaR) > 1e-9*one.VaR || math.Abs(two.ES-one.ES) > 1e-9*one.ES {
		t.Fatalf("VaR %v / %v, ES %v / %v", two.VaR, one.VaR, two.ES, one.ES)
	}
}

// Without volatility every path has the drift as P&L: VaR = ES = −drift.
func TestSimulateZeroVolatility(t *testing.T) {
	res, err := Simulate(context.Background(), Portfolio{Positions: []float64{1e6, -2e6}, ExpectedReturns: []float64{0.001, 0.002},
		Volatilities: []float64{0, 0}, Chol: []float64{1, 0, 0, 1}}, Config{Confidence: 0.9, HoldingDays: 2, Paths: 1000})
	if err != nil {
		t.Fatal(err)
	}
	drift := 2 * (1e6*0.001 - 2e6*0.002)
	if res.VaR != -drift || res.ES != -drift || res.StdPnL != 0 {
		t.Fatalf("VaR %v ES %v std %v, want %v %v 0", res.VaR, res.ES, res.StdPnL, -drift, -drift)
	}
}

func TestSimulateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Simulate(ctx, Portfolio{Positions: []float64{1}, Volatilities: []float64{0.1}, Chol: []float64{1}},
		Config{Confidence: 0.99, HoldingDays: 1, Paths: 1_000_000})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestSimulateRejectsBadInput(t *testing.T) {
	ok := Portfolio{Positions: []float64{1, 2}, Volatilities: []float64{0.1, 0.1}, Chol: identity(2)}
	cfg := Config{Confidence: 0.99, HoldingDays: 1, Paths: 10}
	cases := []struct {
		field string
		pf    Portfolio
		cfg   Config
	}{
		{"volatilities", Portfolio{Positions: ok.Positions, Volatilities: []float64{0.1}, Chol: ok.Chol}, cfg},
		{"volatilities[1]", Portfolio{Positions: ok.Positions, Volatilities: []float64{0.1, -1}, Chol: ok.Chol}, cfg},
		{"positions[0]", Portfolio{Positions: []float64{math.NaN(), 1}, Volatilities: ok.Volatilities, Chol: ok.Chol}, cfg},
		{"confidence_level", ok, Config{Confidence: 1, HoldingDays: 1, Paths: 10}},
		{"holding_period_days", ok, Config{Confidence: 0.9, HoldingDays: 0, Paths: 10}},
		{"n_simulations", ok, Config{Confidence: 0.9, HoldingDays: 1}},
	}
	for _, c := range cases {
		_, err := Simulate(context.Background(), c.pf, c.cfg)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != c.field {
			t.Errorf("err = %v, want field %s", err, c.field)
		}
	}
}

func TestTailCount(t *testing.T) {
	cases := []struct {
		n    int
		c    float64
		want int
	}{{10000, 0.99, 100}, {10000, 0.999, 10}, {1000, 0.975, 25}, {7, 0.99, 1}, {1, 0.5, 1}, {101, 0.99, 2}, {3, 0.01, 3}}
	for _, c := range cases {
		if got := TailCount(c.n, c.c); got != c.want {
			t.Errorf("TailCount(%d, %g) = %d, want %d", c.n, c.c, got, c.want)
		}
	}
}

func TestKthSmallestAgreesWithSort(t *testing.T) {
	a := make([]float64, 5000)
	for i := range a {
		a[i] = float64((i*7919)%1000) - 500 // many duplicates
	}
	sorted := slices.Clone(a)
	slices.Sort(sorted)
	for _, k := range []int{1, 2, 50, 2500, 4999, 5000} {
		if got := kthSmallest(slices.Clone(a), k); got != sorted[k-1] {
			t.Errorf("k=%d: %v, want %v", k, got, sorted[k-1])
		}
	}
}

// Ties at the threshold are filled by the lowest path indexes.
func TestTailPathsBreaksTiesByIndex(t *testing.T) {
	pnl := []float64{3, 1, 2, 1, 1, 0}
	if got := tailPaths(pnl, 3, 1); !slices.Equal(got, []int{1, 3, 5}) {
		t.Fatalf("tail = %v, want [1 3 5]", got)
	}
}

func analyticMoments(pf Portfolio, h float64) (mean, sd float64) {
	n := len(pf.Positions)
	for i := range n {
		mean += pf.Positions[i] * pf.ExpectedReturns[i] * h
	}
	// xᵀΣx = ‖Lᵀ(σ⊙x)‖².
	for j := range n {
		var s float64
		for i := j; i < n; i++ {
			s += pf.Chol[i*n+j] * pf.Volatilities[i] * pf.Positions[i]
		}
		sd += s * s
	}
	return mean, math.Sqrt(h * sd)
}

func identity(n int) []float64 {
	c := make([]float64, n*n)
	for i := range n {
		c[i*n+i] = 1
	}
	return c
}
