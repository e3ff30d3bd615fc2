package stress

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// stressFixture is the part of testdata/fixtures/risk/stress-testing.json
// these tests read (the expansion written out in numpy).
type stressFixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			AssetIDs      []string  `json:"asset_ids"`
			Values        []float64 `json:"values"`
			Sensitivities *struct {
				Delta, Gamma, Vega, Theta, Rho []float64
			} `json:"sensitivities"`
			Scenarios []struct {
				Name            string             `json:"name"`
				Shocks          map[string]float64 `json:"shocks"`
				DefaultShock    float64            `json:"default_shock"`
				VolatilityShock float64            `json:"volatility_shock"`
				RateShock       float64            `json:"rate_shock"`
				HorizonDays     float64            `json:"horizon_days"`
				Probability     float64            `json:"probability"`
			} `json:"scenarios"`
		} `json:"input"`
		Expect *struct {
			PreStressValue float64 `json:"pre_stress_value"`
			Scenarios      []struct {
				PnL        float64   `json:"pnl"`
				PnLPercent float64   `json:"pnl_percent"`
				Post       float64   `json:"post_stress_value"`
				AssetPnL   []float64 `json:"asset_pnl"`
				Factors    struct {
					Delta, Gamma, Vega, Theta, Rho float64
				} `json:"factor_pnl"`
			} `json:"scenarios"`
			WorstScenario int     `json:"worst_scenario"`
			ExpectedPnL   float64 `json:"expected_pnl"`
		} `json:"expect"`
		RTol float64 `json:"rtol"`
		ATol float64 `json:"atol"`
	} `json:"cases"`
}

func TestRunMatchesNumpy(t *testing.T) {
	var fx stressFixture
	fixtures.Read(t, "risk", "stress-testing", &fx)
	ran := 0
	for _, c := range fx.Cases {
		if c.Expect == nil {
			continue
		}
		in := c.Input
		pf := Portfolio{AssetIDs: in.AssetIDs, Values: in.Values}
		if s := in.Sensitivities; s != nil {
			pf.Delta, pf.Gamma, pf.Vega, pf.Theta, pf.Rho = s.Delta, s.Gamma, s.Vega, s.Theta, s.Rho
		}
		var scen []Scenario
		for _, s := range in.Scenarios {
			scen = append(scen, Scenario(s))
		}
		r, err := Run(context.Background(), pf, scen)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		near := func(what string, got, want float64) {
			if math.Abs(got-want) > c.ATol+c.RTol*math.Abs(want) {
				t.Errorf("%s: %s = %.17g, want %.17g", c.Name, what, got, want)
			}
		}
		w := c.Expect
		near("pre-stress value", r.PreStressValue, w.PreStressValue)
		near("expected P&L", r.ExpectedPnL, w.ExpectedPnL)
		if r.WorstScenario != w.WorstScenario {
			t.Errorf("%s: worst scenario %d, want %d", c.Name, r.WorstScenario, w.WorstScenario)
		}
		for s, ws := range w.Scenarios {
			g := r.Scenarios[s]
			near("pnl", g.PnL, ws.PnL)
			near("pnl %", g.PnLPercent, ws.PnLPercent)
			near("post-stress value", g.PostStressValue, ws.Post)
			for i := range ws.AssetPnL {
				near("asset pnl", g.AssetPnL[i], ws.AssetPnL[i])
			}
			near("delta", g.Factors.Delta, ws.Factors.Delta)
			near("gamma", g.Factors.Gamma, ws.Factors.Gamma)
			near("vega", g.Factors.Vega, ws.Factors.Vega)
			near("theta", g.Factors.Theta, ws.Factors.Theta)
			near("rho", g.Factors.Rho, ws.Factors.Rho)
		}
		ran++
	}
	if ran < 3 {
		t.Fatalf("only %d fixture cases ran", ran)
	}
}

// One option by hand: delta 0.6M, gamma 2M, vega 0.3M, theta −1k/day,
// rho 0.1M under x = −10%, dv = +5 points, dt = 2 days, dr = −50bp.
func TestGreeksExpansionByHand(t *testing.T) {
	pf := Portfolio{AssetIDs: []string{"opt"}, Values: []float64{1e5},
		Delta: []float64{6e5}, Gamma: []float64{2e6}, Vega: []float64{3e5}, Theta: []float64{-1e3}, Rho: []float64{1e5}}
	r, err := Run(context.Background(), pf, []Scenario{{Shocks: map[string]float64{"opt": -0.1},
		VolatilityShock: 0.05, HorizonDays: 2, RateShock: -0.005}})
	if err != nil {
		t.Fatal(err)
	}
	f := r.Scenarios[0].Factors
	want := Factors{Delta: -6e4, Gamma: 1e4, Vega: 1.5e4, Theta: -2e3, Rho: -500}
	for _, p := range [][2]float64{{f.Delta, want.Delta}, {f.Gamma, want.Gamma}, {f.Vega, want.Vega}, {f.Theta, want.Theta}, {f.Rho, want.Rho}} {
		if math.Abs(p[0]-p[1]) > 1e-9 {
			t.Fatalf("factors %+v, want %+v", f, want)
		}
	}
	if pnl := r.Scenarios[0].PnL; math.Abs(pnl-(-37500)) > 1e-9 {
		t.Fatalf("pnl %v, want -37500", pnl)
	}
	if p := r.Scenarios[0].PnLPercent; math.Abs(p-(-37.5)) > 1e-12 {
		t.Fatalf("pnl%% %v, want -37.5", p)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	ok := Portfolio{AssetIDs: []string{"a", "b"}, Values: []float64{1, 2}}
	sc := []Scenario{{Name: "s"}}
	cases := []struct {
		field string
		pf    Portfolio
		sc    []Scenario
	}{
		{"asset_ids[1]", Portfolio{AssetIDs: []string{"a", "a"}, Values: []float64{1, 2}}, sc},
		{"asset_ids[0]", Portfolio{AssetIDs: []string{"", "b"}, Values: []float64{1, 2}}, sc},
		{"asset_ids", Portfolio{AssetIDs: []string{"a"}, Values: []float64{1, 2}}, sc},
		{"sensitivities.rho", Portfolio{AssetIDs: ok.AssetIDs, Values: ok.Values, Rho: []float64{1}}, sc},
		{`scenarios[0].shocks["c"]`, ok, []Scenario{{Shocks: map[string]float64{"c": 0.1}}}},
		{"scenarios[1].probability", ok, []Scenario{{}, {Probability: 1.5}}},
		{"scenarios", ok, nil},
	}
	for _, c := range cases {
		_, err := Run(context.Background(), c.pf, c.sc)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != c.field {
			t.Errorf("err = %v, want field %s", err, c.field)
		}
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Portfolio{AssetIDs: []string{"a"}, Values: []float64{1}}, []Scenario{{}, {}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
