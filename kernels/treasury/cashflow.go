package treasury

import (
	"context"
	"fmt"

	treasuryv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/treasury/v1"
	"github.com/gokernels/gokernels/kernels/clearing/calendar"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/risk/normdist"
	"github.com/gokernels/gokernels/kernels/treasury/cashflow"
)

// CashflowJob is a validated forecast request.
type CashflowJob struct {
	Flows           []cashflow.Flow
	Start           calendar.Day
	Horizon         int
	Opening, Min, Z float64
}

// CashflowForecast is treasury/cashflow-forecast.
var CashflowForecast = registry.Def[*treasuryv1.CashflowForecastInput, *treasuryv1.CashflowForecastOutput, *CashflowJob]{
	Meta: registry.Meta{
		ID: "treasury/cashflow-forecast", Domain: registry.DomainTreasury,
		Description: "Liquidity ladder: daily expected flows in the base currency with stress, FOLLOWING roll, " +
			"Bernoulli variance band and funding gaps (equals pandas groupby/cumsum, scipy norm.ppf).",
	},
	Prepare: prepareCashflow,
	CPU: func(ctx context.Context, job *CashflowJob) (*treasuryv1.CashflowForecastOutput, error) {
		l, err := cashflow.Build(ctx, job.Flows, job.Start, job.Horizon, job.Opening, job.Min, job.Z)
		if err != nil {
			return nil, err
		}
		out := &treasuryv1.CashflowForecastOutput{Z: job.Z, Dropped: int32(l.Dropped), MinBalance: l.MinBal,
			MinDate: l.MinDay.String(), MaxBalance: l.MaxBal, MaxDate: l.MaxDay.String(),
			Totals: &treasuryv1.LadderTotals{Inflows: l.Inflows, Outflows: l.Outflows, Net: l.Net}}
		for _, d := range l.Days {
			out.Days = append(out.Days, &treasuryv1.LadderDay{Date: d.Date.String(), Inflows: d.Inflows, Outflows: d.Outflows,
				Net: d.Net, Cumulative: d.Cumulative, Std: d.Std, Lower: d.Lo, Upper: d.Hi})
		}
		out.Totals.Closing = l.Days[len(l.Days)-1].Cumulative
		for _, g := range l.Gaps {
			out.Gaps = append(out.Gaps, &treasuryv1.FundingGap{Start: g.Start.String(), End: g.End.String(), Days: int32(g.Days),
				MaxShortfall: g.MaxShortfall})
		}
		return out, nil
	},
}

func prepareCashflow(ctx context.Context, in *treasuryv1.CashflowForecastInput) (*CashflowJob, error) {
	if err := limits.Check("flows", len(in.GetFlows()), limits.From(ctx).MaxSamples); err != nil {
		return nil, err
	}
	start, ok := calendar.Parse(in.GetStartDate())
	if !ok {
		return nil, kerr.Invalid("start_date", "must be a calendar date YYYY-MM-DD, got %q", in.GetStartDate())
	}
	var hol []calendar.Day
	for i, h := range in.GetHolidays() {
		d, ok := calendar.Parse(h)
		if !ok {
			return nil, kerr.Invalid(fmt.Sprintf("holidays[%d]", i), "must be a calendar date YYYY-MM-DD, got %q", h)
		}
		hol = append(hol, d)
	}
	cal := calendar.New(hol)
	fx, err := byCurrency("fx_rates", in.GetFxRates())
	if err != nil {
		return nil, err
	}
	for i, r := range in.GetFxRates() {
		if r.GetValue() <= 0 || r.GetValue() > maxPrice {
			return nil, kerr.Invalid(fmt.Sprintf("fx_rates[%d].value", i), "must lie in (0, %g], got %g", maxPrice, r.GetValue())
		}
	}
	fx[in.GetBaseCurrency()] = 1
	fx[""] = 1
	st := in.GetStress()
	cat := map[string]float64{}
	for _, c := range st.GetCategoryFactors() {
		cat[c.GetCategory()] = c.GetFactor()
	}
	inF, outF := 1.0, 1.0
	if st != nil {
		inF, outF = registry.Or(st.InflowFactor, 0.8), registry.Or(st.OutflowFactor, 1.2)
	}
	conf := registry.Or(in.Confidence, 0.95)
	job := &CashflowJob{Start: start, Horizon: int(in.GetHorizonDays()), Opening: in.GetOpeningBalance(),
		Min: in.GetMinBalance(), Z: normdist.Quantile(1 - (1-conf)/2)}
	for i, f := range in.GetFlows() {
		d, ok := calendar.Parse(f.GetDate())
		if !ok {
			return nil, kerr.Invalid(fmt.Sprintf("flows[%d].date", i), "must be a calendar date YYYY-MM-DD, got %q", f.GetDate())
		}
		rate, ok := fx[f.GetCurrency()]
		if !ok {
			return nil, kerr.Invalid("fx_rates", "has no rate for %s (flows[%d])", f.GetCurrency(), i)
		}
		if in.GetRoll() == "FOLLOWING" {
			d = cal.Following(d)
		}
		a := f.GetAmount()
		if st != nil {
			k, ok := cat[f.GetCategory()]
			if !ok {
				k = 1
			}
			if a > 0 {
				a *= k * inF
			} else {
				a *= k * outF
			}
		}
		p := 1.0
		if f.Probability != nil {
			p = f.GetProbability()
		}
		job.Flows = append(job.Flows, cashflow.Flow{Day: d, Amount: a * rate, P: p})
	}
	return job, nil
}
