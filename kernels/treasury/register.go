// Package treasury registers the TreasuryManagement kernels built so far
// (fx-hedging, liquidity-opt, collateral-opt, cashflow-forecast, ir-risk): the glue between
// proto/gokernels/kernels/treasury/v1 and the sub-packages.
package treasury

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	treasuryv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/treasury/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/treasury/fxhedge"
)

// Register adds the treasury kernels to r.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, FxHedging),
		registry.Register(r, LiquidityOpt),
		registry.Register(r, CollateralOpt),
		registry.Register(r, CashflowForecast),
		registry.Register(r, IrRisk),
	)
}

// FxJob is a validated FX hedging request.
type FxJob struct {
	Exposures  []fxhedge.Exposure
	Instrument string
	OTM        float64
	VarCcy     []string
	Returns    [][]float64
	Spot       map[string]float64
	Confidence float64
	Horizon    float64
}

// FxHedging is treasury/fx-hedging.
var FxHedging = registry.Def[*treasuryv1.FxHedgingInput, *treasuryv1.FxHedgingOutput, *FxJob]{
	Meta: registry.Meta{
		ID: "treasury/fx-hedging", Domain: registry.DomainTreasury,
		Description: "FX hedges per currency: CIP forwards, Garman–Kohlhagen options, zero-cost collars (Brent), " +
			"minimum-variance ratio and delta-normal VaR before and after (equals scipy).",
	},
	Prepare: prepareFx,
	CPU:     runFx,
}

// byCurrency indexes a currency list, rejecting duplicates.
func byCurrency(field string, vs []*treasuryv1.CurrencyValue) (map[string]float64, error) {
	m := make(map[string]float64, len(vs))
	for i, v := range vs {
		if _, dup := m[v.GetCurrency()]; dup {
			return nil, kerr.Invalid(fmt.Sprintf("%s[%d].currency", field, i), "duplicate currency %q", v.GetCurrency())
		}
		m[v.GetCurrency()] = v.GetValue()
	}
	return m, nil
}

func prepareFx(ctx context.Context, in *treasuryv1.FxHedgingInput) (*FxJob, error) {
	lim := limits.From(ctx)
	if err := limits.Check("exposures", len(in.GetExposures()), lim.MaxSamples); err != nil {
		return nil, err
	}
	spot, err := byCurrency("spot", in.GetSpot())
	if err != nil {
		return nil, err
	}
	rates, err := byCurrency("rates", in.GetRates())
	if err != nil {
		return nil, err
	}
	vols, err := byCurrency("vols", in.GetVols())
	if err != nil {
		return nil, err
	}
	for _, b := range []struct {
		field string
		vs    []*treasuryv1.CurrencyValue
		lim   float64
	}{{"spot", in.GetSpot(), maxPrice}, {"rates", in.GetRates(), maxRate}, {"vols", in.GetVols(), maxRate}} {
		for i, v := range b.vs {
			if err := bounded(fmt.Sprintf("%s[%d].value", b.field, i), v.GetValue(), b.lim); err != nil {
				return nil, err
			}
		}
	}
	for i, e := range in.GetExposures() {
		if err := bounded(fmt.Sprintf("exposures[%d].amount", i), e.GetAmount(), maxMoney); err != nil {
			return nil, err
		}
	}
	for i, hh := range in.GetHedgeHistory() {
		for _, v := range append(slices.Clone(hh.GetDs()), hh.GetDf()...) {
			if err := bounded(fmt.Sprintf("hedge_history[%d]", i), v, maxPrice); err != nil {
				return nil, err
			}
		}
	}
	for i, r := range in.GetReturns() {
		for j, v := range r.GetValues() {
			if err := bounded(fmt.Sprintf("returns[%d].values[%d]", i, j), v, maxRate); err != nil {
				return nil, err
			}
		}
	}
	base := in.GetBaseCurrency()
	spot[base] = 1
	for i, v := range in.GetSpot() {
		if v.GetValue() <= 0 && v.GetCurrency() != base {
			return nil, kerr.Invalid(fmt.Sprintf("spot[%d].value", i), "must be > 0, got %g", v.GetValue())
		}
	}
	for i, v := range in.GetVols() {
		if v.GetValue() <= 0 {
			return nil, kerr.Invalid(fmt.Sprintf("vols[%d].value", i), "must be > 0, got %g", v.GetValue())
		}
	}
	rd, ok := rates[base]
	if !ok {
		return nil, kerr.Invalid("rates", "has no rate for the base currency %s", base)
	}
	instrument := in.GetInstrument()
	if instrument == "" {
		instrument = "FORWARD"
	}
	job := &FxJob{Instrument: instrument, OTM: registry.Or(in.Otm, 0.05), Spot: spot,
		Confidence: registry.Or(in.VarConfidence, 0.99), Horizon: registry.Or(in.HorizonDays, 1)}
	ratio := registry.Or(in.TargetRatio, 0.8)
	hist := map[string]float64{}
	for i, hh := range in.GetHedgeHistory() {
		f := fmt.Sprintf("hedge_history[%d]", i)
		if _, dup := hist[hh.GetCurrency()]; dup {
			return nil, kerr.Invalid(f+".currency", "duplicate currency %q", hh.GetCurrency())
		}
		if len(hh.GetDs()) != len(hh.GetDf()) {
			return nil, kerr.Invalid(f+".df", "has %d values, want %d (one per ds)", len(hh.GetDf()), len(hh.GetDs()))
		}
		h, ok := fxhedge.MinVarianceRatio(hh.GetDs(), hh.GetDf())
		if !ok {
			return nil, kerr.Invalid(f+".df", "needs at least 2 values with a positive variance")
		}
		hist[hh.GetCurrency()] = h
	}
	T := float64(registry.Or(in.TenorDays, 90)) / 365
	agg := map[string]*fxhedge.Exposure{}
	var order []string
	for i, e := range in.GetExposures() {
		c := e.GetCurrency()
		x := agg[c]
		if x == nil {
			s, ok := spot[c]
			if !ok {
				return nil, kerr.Invalid("spot", "has no rate for %s (exposures[%d])", c, i)
			}
			rf, ok := rates[c]
			if !ok {
				return nil, kerr.Invalid("rates", "has no rate for %s (exposures[%d])", c, i)
			}
			x = &fxhedge.Exposure{Currency: c, Base: c == base, Market: fxhedge.Market{S: s, Rd: rd, Rf: rf, T: T, Vol: vols[c]}, Ratio: ratio}
			if h, ok := hist[c]; ok {
				x.Ratio = h
			}
			agg[c] = x
			order = append(order, c)
		}
		if a := e.GetAmount(); a > 0 {
			x.Long += a
		} else {
			x.Short -= a
		}
	}
	slices.Sort(order)
	for _, c := range order {
		x := agg[c]
		if !x.Base && x.Long != x.Short && instrument != "FORWARD" && x.Market.Vol <= 0 {
			return nil, kerr.Invalid("vols", "has no volatility for %s (needed for %s)", c, instrument)
		}
		job.Exposures = append(job.Exposures, *x)
	}
	n := -1
	for i, r := range in.GetReturns() {
		f := fmt.Sprintf("returns[%d]", i)
		if slices.Contains(job.VarCcy, r.GetCurrency()) {
			return nil, kerr.Invalid(f+".currency", "duplicate currency %q", r.GetCurrency())
		}
		if _, ok := spot[r.GetCurrency()]; !ok {
			return nil, kerr.Invalid(f+".currency", "has no spot rate for %s", r.GetCurrency())
		}
		if n < 0 {
			n = len(r.GetValues())
		}
		if len(r.GetValues()) != n || n < 2 {
			return nil, kerr.Invalid(f+".values", "has %d values; every series needs the same length ≥ 2 (%d)", len(r.GetValues()), n)
		}
		job.VarCcy = append(job.VarCcy, r.GetCurrency())
		job.Returns = append(job.Returns, r.GetValues())
	}
	if err := limits.Check("returns", len(job.VarCcy)*max(n, 0), lim.MaxCells); err != nil {
		return nil, err
	}
	return job, nil
}

func runFx(ctx context.Context, job *FxJob) (*treasuryv1.FxHedgingOutput, error) {
	out := &treasuryv1.FxHedgingOutput{Var: &treasuryv1.FxVar{}}
	net, delta := map[string]float64{}, map[string]float64{}
	for _, x := range job.Exposures {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := fxhedge.Plan(x, job.Instrument, job.OTM)
		if err != nil {
			return nil, kerr.Invalid("otm", "collar for %s: %v", x.Currency, err)
		}
		net[x.Currency], delta[x.Currency] = h.Net, h.Delta
		out.TotalCost += h.Premium
		out.Hedges = append(out.Hedges, &treasuryv1.FxHedge{
			Currency: h.Currency, Long: h.Long, Short: h.Short, Net: h.Net, BaseEquivalent: h.BaseEq,
			Instrument: h.Instrument, HedgeRatio: h.Ratio, Notional: h.Notional, Forward: h.Forward,
			PutStrike: h.PutStrike, CallStrike: h.CallStrike, Premium: h.Premium, Delta: h.Delta, Residual: h.Residual,
		})
	}
	if len(job.VarCcy) > 0 {
		eu, eh := make([]float64, len(job.VarCcy)), make([]float64, len(job.VarCcy))
		for i, c := range job.VarCcy {
			eu[i] = net[c] * job.Spot[c]
			eh[i] = (net[c] + delta[c]) * job.Spot[c]
		}
		out.Var.Unhedged = fxhedge.VaR(eu, job.Returns, job.Confidence, job.Horizon)
		out.Var.Hedged = fxhedge.VaR(eh, job.Returns, job.Confidence, job.Horizon)
		out.Var.Reduction = out.Var.Unhedged - out.Var.Hedged
	}
	if math.IsNaN(out.TotalCost) || math.IsInf(out.TotalCost, 0) {
		return nil, kerr.Invalid("exposures", "amounts overflow the premium")
	}
	return out, nil
}

// bounded rejects |v| > lim: money and rates far beyond any balance sheet
// (±1e308 passes protovalidate's finiteness) would overflow the products
// and the simplex, so they are a 400 naming the field.
func bounded(field string, v, lim float64) error {
	if math.IsNaN(v) || math.Abs(v) > lim {
		return kerr.Invalid(field, "must lie within ±%g, got %g", lim, v)
	}
	return nil
}

// Bounds of the treasury inputs.
const (
	maxMoney = 1e15 // amounts, market values, caps, effects
	maxRate  = 10   // interest rates, volatilities, log returns (1000 %)
	maxPrice = 1e9  // spot and FX rates
)
