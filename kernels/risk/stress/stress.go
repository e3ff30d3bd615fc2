// Package stress revalues a portfolio under deterministic stress scenarios
// with a second-order Greeks (Taylor) expansion.
//
// For asset i and scenario s, with x the relative price shock of the asset
// (−0.3 = a 30% fall), Δσ the absolute volatility shock, Δr the absolute
// interest-rate shock and Δt the horizon in days:
//
//	pnl_i = delta_i·x + ½·gamma_i·x² + vega_i·Δσ + theta_i·Δt + rho_i·Δr
//
// The Greeks are in currency per unit of their factor: delta is the P&L of a
// +100% move to first order ("cash delta"; a plain position's delta is its
// value), gamma the second derivative with respect to x, vega the P&L per
// 1.00 of volatility, theta per day and rho per 1.00 of rate. Without
// sensitivities every asset is linear: pnl_i = value_i·x.
//
// The scenario P&L is Σ_i pnl_i, its percentage 100·P&L/Σ value, the
// post-stress value Σ value + P&L, and the per-factor impacts split the same
// sum by Greek.
package stress

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Portfolio is the book under stress; slices are indexed by asset.
type Portfolio struct {
	AssetIDs []string
	Values   []float64 // market value per asset (currency); negative = short
	// Greeks per asset; nil Delta means Delta = Values, any other nil Greek
	// means zero.
	Delta, Gamma, Vega, Theta, Rho []float64
}

// Scenario is one set of shocks.
type Scenario struct {
	Name            string
	Shocks          map[string]float64 // asset id → relative price shock
	DefaultShock    float64            // shock for assets not in Shocks
	VolatilityShock float64            // Δσ, absolute
	RateShock       float64            // Δr, absolute
	HorizonDays     float64            // Δt, days
	Probability     float64            // weight in the expected P&L, in [0, 1]
}

// Factors splits a P&L by Greek.
type Factors struct{ Delta, Gamma, Vega, Theta, Rho float64 }

// ScenarioResult is the impact of one scenario.
type ScenarioResult struct {
	Name            string
	PnL             float64
	PnLPercent      float64 // 100·PnL / pre-stress value; 0 when that value is 0
	PostStressValue float64
	AssetPnL        []float64
	Factors         Factors
	Probability     float64
}

// Result covers all scenarios.
type Result struct {
	PreStressValue float64
	Scenarios      []ScenarioResult
	WorstScenario  int     // index of the lowest P&L (first on ties)
	ExpectedPnL    float64 // Σ probability·PnL
}

// Run applies every scenario. Scenarios are independent and are spread over
// GOMAXPROCS workers; the context is checked before each one.
func Run(ctx context.Context, pf Portfolio, scenarios []Scenario) (*Result, error) {
	index, err := check(pf, scenarios)
	if err != nil {
		return nil, err
	}
	res := &Result{Scenarios: make([]ScenarioResult, len(scenarios))}
	for _, v := range pf.Values {
		res.PreStressValue += v
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(scenarios)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				s := int(next.Add(1) - 1)
				if s >= len(scenarios) || ctx.Err() != nil {
					return
				}
				res.Scenarios[s] = apply(pf, index, scenarios[s], res.PreStressValue)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for s, sr := range res.Scenarios {
		if sr.PnL < res.Scenarios[res.WorstScenario].PnL {
			res.WorstScenario = s
		}
		res.ExpectedPnL += sr.Probability * sr.PnL
	}
	return res, nil
}

func apply(pf Portfolio, index map[string]int, sc Scenario, pre float64) ScenarioResult {
	n := len(pf.Values)
	shock := make([]float64, n)
	for i := range shock {
		shock[i] = sc.DefaultShock
	}
	for id, x := range sc.Shocks {
		shock[index[id]] = x
	}
	out := ScenarioResult{Name: sc.Name, AssetPnL: make([]float64, n), Probability: sc.Probability}
	f := &out.Factors
	for i, x := range shock {
		delta := pf.Values[i]
		if pf.Delta != nil {
			delta = pf.Delta[i]
		}
		d := delta * x
		g := 0.5 * at(pf.Gamma, i) * x * x
		v := at(pf.Vega, i) * sc.VolatilityShock
		th := at(pf.Theta, i) * sc.HorizonDays
		r := at(pf.Rho, i) * sc.RateShock
		f.Delta += d
		f.Gamma += g
		f.Vega += v
		f.Theta += th
		f.Rho += r
		out.AssetPnL[i] = d + g + v + th + r
		out.PnL += out.AssetPnL[i]
	}
	out.PostStressValue = pre + out.PnL
	if pre != 0 {
		out.PnLPercent = 100 * out.PnL / pre
	}
	return out
}

func at(v []float64, i int) float64 {
	if v == nil {
		return 0
	}
	return v[i]
}

// check validates the request and returns the asset id → index map.
func check(pf Portfolio, scenarios []Scenario) (map[string]int, error) {
	n := len(pf.Values)
	switch {
	case n == 0:
		return nil, kerr.Invalid("values", "must not be empty")
	case len(pf.AssetIDs) != n:
		return nil, kerr.Invalid("asset_ids", "has %d ids, want %d (one per value)", len(pf.AssetIDs), n)
	case len(scenarios) == 0:
		return nil, kerr.Invalid("scenarios", "must not be empty")
	}
	index := make(map[string]int, n)
	for i, id := range pf.AssetIDs {
		if id == "" {
			return nil, kerr.Invalid(fmt.Sprintf("asset_ids[%d]", i), "must not be empty")
		}
		if j, dup := index[id]; dup {
			return nil, kerr.Invalid(fmt.Sprintf("asset_ids[%d]", i), "duplicates asset_ids[%d] (%q)", j, id)
		}
		index[id] = i
	}
	if err := finite("values", pf.Values); err != nil {
		return nil, err
	}
	for _, g := range []struct {
		field string
		v     []float64
	}{{"sensitivities.delta", pf.Delta}, {"sensitivities.gamma", pf.Gamma}, {"sensitivities.vega", pf.Vega},
		{"sensitivities.theta", pf.Theta}, {"sensitivities.rho", pf.Rho}} {
		if g.v != nil && len(g.v) != n {
			return nil, kerr.Invalid(g.field, "has %d values, want %d (one per asset) or none", len(g.v), n)
		}
		if err := finite(g.field, g.v); err != nil {
			return nil, err
		}
	}
	for s, sc := range scenarios {
		field := func(name string) string { return fmt.Sprintf("scenarios[%d].%s", s, name) }
		for id, x := range sc.Shocks {
			if _, ok := index[id]; !ok {
				return nil, kerr.Invalid(field(fmt.Sprintf("shocks[%q]", id)), "unknown asset id")
			}
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, kerr.Invalid(field(fmt.Sprintf("shocks[%q]", id)), "must be finite")
			}
		}
		for _, v := range []struct {
			name string
			x    float64
		}{{"default_shock", sc.DefaultShock}, {"volatility_shock", sc.VolatilityShock},
			{"rate_shock", sc.RateShock}, {"horizon_days", sc.HorizonDays}} {
			if math.IsNaN(v.x) || math.IsInf(v.x, 0) {
				return nil, kerr.Invalid(field(v.name), "must be finite")
			}
		}
		if !(sc.Probability >= 0 && sc.Probability <= 1) {
			return nil, kerr.Invalid(field("probability"), "must lie in [0, 1], got %g", sc.Probability)
		}
	}
	return index, nil
}

func finite(field string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return kerr.Invalid(fmt.Sprintf("%s[%d]", field, i), "must be finite")
		}
	}
	return nil
}
