package parametric

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// aggFixture is the part of testdata/fixtures/risk/portfolio-aggregation.json
// these tests read (numpy formulas, scipy.stats.norm.ppf).
type aggFixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Positions    []float64   `json:"positions"`
			Volatilities []float64   `json:"volatilities"`
			Correlation  [][]float64 `json:"correlation"`
			Confidence   *float64    `json:"confidence_level"`
			HoldingDays  *float64    `json:"holding_period_days"`
		} `json:"input"`
		Expect *struct {
			Z                      float64   `json:"z_score"`
			PortfolioVolatility    float64   `json:"portfolio_volatility"`
			VaR                    float64   `json:"value_at_risk"`
			Marginal               []float64 `json:"marginal_var"`
			Component              []float64 `json:"component_var"`
			Share                  []float64 `json:"contribution_share"`
			Individual             []float64 `json:"individual_var"`
			Undiversified          float64   `json:"undiversified_var"`
			DiversificationBenefit float64   `json:"diversification_benefit"`
		} `json:"expect"`
		RTol float64 `json:"rtol"`
		ATol float64 `json:"atol"`
	} `json:"cases"`
}

func TestVaRMatchesNumpy(t *testing.T) {
	var fx aggFixture
	fixtures.Read(t, "risk", "portfolio-aggregation", &fx)
	ran := 0
	for _, c := range fx.Cases {
		if c.Expect == nil {
			continue
		}
		in := c.Input
		n := len(in.Positions)
		corr := make([]float64, n*n)
		for i := range n {
			corr[i*n+i] = 1
			if in.Correlation != nil {
				copy(corr[i*n:(i+1)*n], in.Correlation[i])
			}
		}
		conf, h := 0.99, 1.0
		if in.Confidence != nil {
			conf = *in.Confidence
		}
		if in.HoldingDays != nil {
			h = *in.HoldingDays
		}
		r, err := VaR(context.Background(), in.Positions, in.Volatilities, corr, conf, h)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		near := func(what string, got, want float64) {
			if math.Abs(got-want) > c.ATol+c.RTol*math.Abs(want) {
				t.Errorf("%s: %s = %.17g, want %.17g", c.Name, what, got, want)
			}
		}
		w := c.Expect
		near("z", r.Z, w.Z)
		near("sigma_p", r.PortfolioVolatility, w.PortfolioVolatility)
		near("VaR", r.VaR, w.VaR)
		near("undiversified", r.UndiversifiedVaR, w.Undiversified)
		near("benefit", r.DiversificationBenefit, w.DiversificationBenefit)
		for i := range n {
			near("marginal", r.MarginalVaR[i], w.Marginal[i])
			near("component", r.ComponentVaR[i], w.Component[i])
			near("share", r.ContributionShare[i], w.Share[i])
			near("individual", r.IndividualVaR[i], w.Individual[i])
		}
		ran++
	}
	if ran < 4 {
		t.Fatalf("only %d fixture cases ran", ran)
	}
}

// Euler allocation: component VaRs add up to the VaR; a single position's
// VaR is its stand-alone VaR.
func TestComponentsAddUp(t *testing.T) {
	pos := []float64{1e6, -3e5, 2e6, 5e5}
	sig := []float64{0.01, 0.02, 0.015, 0.03}
	corr := []float64{1, 0.2, 0.4, -0.1, 0.2, 1, 0.1, 0.3, 0.4, 0.1, 1, 0.2, -0.1, 0.3, 0.2, 1}
	r, err := VaR(context.Background(), pos, sig, corr, 0.99, 10)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, c := range r.ComponentVaR {
		sum += c
	}
	if math.Abs(sum-r.VaR) > 1e-9*r.VaR {
		t.Fatalf("components sum to %v, VaR %v", sum, r.VaR)
	}
	one, _ := VaR(context.Background(), []float64{-2e6}, []float64{0.02}, []float64{1}, 0.99, 4)
	if math.Abs(one.VaR-one.IndividualVaR[0]) > 1e-9 || one.DiversificationBenefit > 1e-9 {
		t.Fatalf("single position VaR %v, individual %v", one.VaR, one.IndividualVaR[0])
	}
}

func TestVaRRejectsBadInput(t *testing.T) {
	id := []float64{1, 0, 0, 1}
	cases := []struct {
		field     string
		pos, sig  []float64
		conf, hor float64
	}{
		{"volatilities", []float64{1, 2}, []float64{0.1}, 0.99, 1},
		{"volatilities[1]", []float64{1, 2}, []float64{0.1, math.NaN()}, 0.99, 1},
		{"positions[0]", []float64{math.Inf(-1), 2}, []float64{0.1, 0.1}, 0.99, 1},
		{"confidence_level", []float64{1, 2}, []float64{0.1, 0.1}, 0, 1},
		{"holding_period_days", []float64{1, 2}, []float64{0.1, 0.1}, 0.99, -1},
	}
	for _, c := range cases {
		_, err := VaR(context.Background(), c.pos, c.sig, id, c.conf, c.hor)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != c.field {
			t.Errorf("err = %v, want field %s", err, c.field)
		}
	}
}

func TestVaRCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := VaR(ctx, []float64{1}, []float64{0.1}, []float64{1}, 0.99, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
