package accounting

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/ledger"
	"github.com/gokernels/gokernels/kernels/accounting/tcorr"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// CorrelationJob is the per-account series and the parameters.
type CorrelationJob struct {
	Series []tcorr.Series
	Params tcorr.Params
}

// TemporalCorrelation is accounting/temporal-correlation.
var TemporalCorrelation = registry.Def[*accountingv1.TemporalCorrelationInput, *accountingv1.TemporalCorrelationOutput, CorrelationJob]{
	Meta: registry.Meta{
		ID: "accounting/temporal-correlation", Domain: registry.DomainAccounting,
		Description: "Pairwise Pearson correlation of account balance changes on common dates, t-test p-values, " +
			"Benjamini–Hochberg q-values, OLS residual anomalies, expected and rolling correlation breaks.",
	},
	Prepare: prepareCorrelation,
	CPU: func(ctx context.Context, job CorrelationJob) (*accountingv1.TemporalCorrelationOutput, error) {
		res, err := tcorr.Run(ctx, job.Series, job.Params)
		if err != nil {
			return nil, err
		}
		return correlationOutput(job.Series, res), nil
	},
	Estimate: func(in *accountingv1.TemporalCorrelationInput) registry.Cost {
		n := int64(len(in.GetObservations()))
		return registry.Cost{WorkingBytes: 200 * n, OutputBytes: 100 * n, Work: float64(n)}
	},
}

func prepareCorrelation(ctx context.Context, in *accountingv1.TemporalCorrelationInput) (CorrelationJob, error) {
	lim := limits.From(ctx)
	if err := limits.Check("observations", len(in.GetObservations()), lim.MaxSeriesLength); err != nil {
		return CorrelationJob{}, err
	}
	job := CorrelationJob{Params: tcorr.Params{
		Alpha: registry.Or(in.Alpha, 0.05), MinAbsR: registry.Or(in.MinAbsR, 0.5),
		RollingWindow: int(registry.Or(in.RollingWindow, 0)), RollingBreakThreshold: registry.Or(in.RollingBreakThreshold, 0.5),
	}}
	switch in.GetTransform() {
	case "LEVEL":
		job.Params.Transform = tcorr.Level
	case "PCT":
		job.Params.Transform = tcorr.Pct
	}
	type point struct {
		day int64
		v   float64
		i   int
	}
	byAccount := map[string][]point{}
	for i, o := range in.GetObservations() {
		d, err := ledger.Date(fmt.Sprintf("observations[%d].date", i), o.GetDate())
		if err != nil {
			return CorrelationJob{}, err
		}
		if b := math.Abs(o.GetBalance()); math.IsNaN(b) || b > 1e15 || (b != 0 && b < 1e-6) {
			return CorrelationJob{}, kerr.Invalid(fmt.Sprintf("observations[%d].balance", i), "must be 0 or 1e-6 ≤ |balance| ≤ 1e15, got %g", o.GetBalance())
		}
		byAccount[o.GetAccount()] = append(byAccount[o.GetAccount()], point{d.Unix() / 86400, o.GetBalance(), i})
	}
	accounts := make([]string, 0, len(byAccount))
	for a := range byAccount {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)
	k := len(accounts)
	pairs := k * (k - 1) / 2
	if pairs > lim.MaxOutputItems {
		return CorrelationJob{}, kerr.Invalid("observations", "%d accounts make %d pairs, over the limit of %d", k, pairs, lim.MaxOutputItems)
	}
	index := make(map[string]int, k)
	for i, a := range accounts {
		index[a] = i
		pts := byAccount[a]
		slices.SortStableFunc(pts, func(x, y point) int { return int(x.day - y.day) })
		s := tcorr.Series{Account: a, Days: make([]int64, len(pts)), Values: make([]float64, len(pts))}
		for j, p := range pts {
			if j > 0 && p.day == pts[j-1].day {
				return CorrelationJob{}, kerr.Invalid(fmt.Sprintf("observations[%d].date", max(p.i, pts[j-1].i)),
					"account %q has two observations on %s", a, time.Unix(p.day*86400, 0).UTC().Format(time.DateOnly))
			}
			s.Days[j], s.Values[j] = p.day, p.v
		}
		job.Series = append(job.Series, s)
	}
	if w := job.Params.RollingWindow; w > 0 {
		// Each pair's rolling series has at most min(points) − w + 1 points.
		var total int
		for a := range job.Series {
			for b := a + 1; b < k; b++ {
				total += max(0, min(len(job.Series[a].Days), len(job.Series[b].Days))-w+1)
				if total > lim.MaxOutputItems {
					return CorrelationJob{}, kerr.Invalid("rolling_window", "the rolling series would exceed %d points", lim.MaxOutputItems)
				}
			}
		}
	}
	for i, e := range in.GetExpected() {
		a, okA := index[e.GetA()]
		b, okB := index[e.GetB()]
		switch {
		case !okA:
			return CorrelationJob{}, kerr.Invalid(fmt.Sprintf("expected[%d].a", i), "account %q has no observations", e.GetA())
		case !okB:
			return CorrelationJob{}, kerr.Invalid(fmt.Sprintf("expected[%d].b", i), "account %q has no observations", e.GetB())
		case a == b:
			return CorrelationJob{}, kerr.Invalid(fmt.Sprintf("expected[%d].b", i), "must differ from a")
		}
		job.Params.Expected = append(job.Params.Expected, tcorr.Expected{A: a, B: b, R: e.GetRExpected()})
	}
	return job, nil
}

func dayString(d int64) string { return time.Unix(d*86400, 0).UTC().Format(time.DateOnly) }

func correlationOutput(series []tcorr.Series, res tcorr.Result) *accountingv1.TemporalCorrelationOutput {
	name := func(i int) string { return series[i].Account }
	out := &accountingv1.TemporalCorrelationOutput{Stats: &accountingv1.CorrelationStats{
		Pairs: int32(len(res.Pairs)), Significant: int32(res.Significant)}}
	for _, p := range res.Pairs {
		out.Correlations = append(out.Correlations, &accountingv1.PairCorrelation{A: name(p.A), B: name(p.B),
			N: int32(p.N), R: p.R, P: p.P, Q: p.Q, Type: p.Type})
	}
	for _, a := range res.Anomalies {
		out.Anomalies = append(out.Anomalies, &accountingv1.CorrelationAnomaly{Account: name(a.Account), Date: dayString(a.Day),
			Partner: name(a.Partner), Actual: a.Actual, Expected: a.Expected, Z: a.Z, Type: a.Type})
	}
	for _, b := range res.Breaks {
		cb := &accountingv1.CorrelationBreak{Type: b.Type, A: name(b.A), B: name(b.B), R: b.R, RReference: b.RRef}
		if b.HasDay {
			cb.Date = dayString(b.Day)
		}
		out.Breaks = append(out.Breaks, cb)
	}
	for i, pts := range res.Rolling {
		rs := &accountingv1.RollingSeries{A: name(res.Pairs[i].A), B: name(res.Pairs[i].B)}
		for _, p := range pts {
			rs.Points = append(rs.Points, &accountingv1.RollingPoint{Date: dayString(p.Day), R: p.R, Defined: p.Defined})
		}
		out.Rolling = append(out.Rolling, rs)
	}
	return out
}
