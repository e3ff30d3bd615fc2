// Package cashflow builds a liquidity ladder: daily buckets of expected
// cash flows in the base currency, a cumulative balance with a Bernoulli
// variance band, and funding gaps (BCBS 2008 Principles 5–6; BCBS 238 Part
// 2, contractual maturity mismatch).
package cashflow

import (
	"context"
	"math"

	"github.com/gokernels/gokernels/kernels/clearing/calendar"
)

// Flow is one flow already in base units before weighting: Amount is the
// stressed amount A′ converted to base, P its probability.
type Flow struct {
	Day    calendar.Day
	Amount float64
	P      float64
}

// Day is one ladder row.
type Day struct {
	Date                                            calendar.Day
	Inflows, Outflows, Net, Cumulative, Std, Lo, Hi float64
}

// Gap is a run below the minimum balance.
type Gap struct {
	Start, End   calendar.Day
	Days         int
	MaxShortfall float64
}

// Ladder is the result.
type Ladder struct {
	Days                   []Day
	Inflows, Outflows, Net float64
	MinBal, MaxBal         float64
	MinDay, MaxDay         calendar.Day
	Gaps                   []Gap
	Dropped                int
}

// Build buckets the flows over [start, start+horizon).
func Build(ctx context.Context, flows []Flow, start calendar.Day, horizon int, opening, minBalance, z float64) (Ladder, error) {
	days := make([]Day, horizon)
	variance := make([]float64, horizon)
	var l Ladder
	for _, f := range flows {
		i := int(f.Day - start)
		if i < 0 || i >= horizon {
			l.Dropped++
			continue
		}
		e := f.P * f.Amount
		if e > 0 {
			days[i].Inflows += e
		} else {
			days[i].Outflows -= e
		}
		variance[i] += f.Amount * f.Amount * f.P * (1 - f.P)
	}
	if err := ctx.Err(); err != nil {
		return l, err
	}
	cum, v := opening, 0.0
	var gap *Gap
	for i := range days {
		d := &days[i]
		d.Date = start + calendar.Day(i)
		d.Net = d.Inflows - d.Outflows
		cum += d.Net
		v += variance[i]
		d.Cumulative, d.Std = cum, math.Sqrt(v)
		d.Lo, d.Hi = cum-z*d.Std, cum+z*d.Std
		l.Inflows += d.Inflows
		l.Outflows += d.Outflows
		l.Net += d.Net
		if i == 0 || cum < l.MinBal {
			l.MinBal, l.MinDay = cum, d.Date
		}
		if i == 0 || cum > l.MaxBal {
			l.MaxBal, l.MaxDay = cum, d.Date
		}
		if cum < minBalance {
			if gap == nil {
				l.Gaps = append(l.Gaps, Gap{Start: d.Date})
				gap = &l.Gaps[len(l.Gaps)-1]
			}
			gap.End = d.Date
			gap.Days++
			gap.MaxShortfall = math.Max(gap.MaxShortfall, minBalance-cum)
		} else {
			gap = nil
		}
	}
	l.Days = days
	return l, nil
}
