package clearing

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	clearingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/clearing/v1"
	"github.com/gokernels/gokernels/kernels/clearing/calendar"
	"github.com/gokernels/gokernels/kernels/clearing/zerobalance"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// ZeroJob is a validated zero-balance request.
type ZeroJob struct {
	Postings []zerobalance.Posting
	Opening  map[zerobalance.Key]int64
	Due      []zerobalance.Instruction
	Calendar calendar.Calendar
	Bucket   int64
}

// ZeroBalance is clearing/zero-balance.
var ZeroBalance = registry.Def[*clearingv1.ZeroBalanceInput, *clearingv1.ZeroBalanceOutput, *ZeroJob]{
	Meta: registry.Meta{
		ID: "clearing/zero-balance", Domain: registry.DomainClearing,
		Description: "Zero-balance frequency and balance statistics per (party, asset) from postings, and CSDR " +
			"settlement efficiency (on time, late with business-day delay, failed, peak rate).",
	},
	Prepare: prepareZero,
	CPU: func(ctx context.Context, job *ZeroJob) (*clearingv1.ZeroBalanceOutput, error) {
		out := &clearingv1.ZeroBalanceOutput{}
		for _, r := range zerobalance.ZBF(job.Postings, job.Opening) {
			out.Zbf = append(out.Zbf, &clearingv1.ZbfRow{Party: r.Key.Party, Asset: r.Key.Asset, Days: int32(r.Days),
				ZeroDays: int32(r.ZeroDays), Zbf: float64(r.ZeroDays) / float64(r.Days), AvgEod: r.AvgEOD,
				PeakAbsBalance: r.PeakAbs, AvgDailyTurnover: r.AvgTurnover})
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out.Efficiency = effProto(zerobalance.Measure("", job.Due, job.Calendar, job.Bucket))
		by := map[string][]zerobalance.Instruction{}
		for _, x := range job.Due {
			by[x.Party] = append(by[x.Party], x)
		}
		for _, p := range sortedKeys(by) {
			out.Parties = append(out.Parties, effProto(zerobalance.Measure(p, by[p], job.Calendar, job.Bucket)))
		}
		return out, nil
	},
}

func effProto(e zerobalance.Efficiency) *clearingv1.Efficiency {
	o := &clearingv1.Efficiency{Party: e.Party, Due: int32(e.Due), OnTime: int32(e.OnTime), Late: int32(e.Late),
		Failed: int32(e.Failed), EfficiencyVolume: e.ByVolume, EfficiencyValue: e.ByValue, FailRate: e.FailRate,
		MeanDelayDays: e.Delay}
	if e.HasPeak {
		o.PeakRate = &e.PeakRate
	}
	return o
}

func prepareZero(ctx context.Context, in *clearingv1.ZeroBalanceInput) (*ZeroJob, error) {
	lim := limits.From(ctx).MaxSamples
	if err := limits.Check("postings", len(in.GetPostings()), lim); err != nil {
		return nil, err
	}
	if err := limits.Check("instructions", len(in.GetInstructions()), lim); err != nil {
		return nil, err
	}
	job := &ZeroJob{Opening: map[zerobalance.Key]int64{}, Bucket: 3600}
	if in.BucketSeconds != nil {
		job.Bucket = in.GetBucketSeconds()
	}
	var hol []calendar.Day
	for i, h := range in.GetHolidays() {
		d, ok := calendar.Parse(h)
		if !ok {
			return nil, kerr.Invalid(fmt.Sprintf("holidays[%d]", i), "must be a calendar date YYYY-MM-DD, got %q", h)
		}
		hol = append(hol, d)
	}
	job.Calendar = calendar.New(hol)
	for i, o := range in.GetOpeningBalances() {
		k := zerobalance.Key{Party: o.GetParty(), Asset: o.GetAsset()}
		if _, dup := job.Opening[k]; dup {
			return nil, kerr.Invalid(fmt.Sprintf("opening_balances[%d]", i), "duplicate (%s, %s)", k.Party, k.Asset)
		}
		job.Opening[k] = o.GetQty()
	}
	ps := slices.Clone(in.GetPostings())
	slices.SortStableFunc(ps, func(a, b *clearingv1.Posting) int { return cmp.Compare(a.GetTs(), b.GetTs()) })
	tz := int64(in.GetTzOffsetSeconds())
	for _, p := range ps {
		t := p.GetTs() + tz
		day := t / 86400
		if t < 0 && t%86400 != 0 {
			day--
		}
		job.Postings = append(job.Postings, zerobalance.Posting{Key: zerobalance.Key{Party: p.GetParty(), Asset: p.GetAsset()},
			Day: calendar.Day(day), Qty: p.GetQty()})
	}
	asOf, hasAsOf := calendar.Day(0), in.GetAsOf() != ""
	if hasAsOf {
		var ok bool
		if asOf, ok = calendar.Parse(in.GetAsOf()); !ok {
			return nil, kerr.Invalid("as_of", "must be a calendar date YYYY-MM-DD, got %q", in.GetAsOf())
		}
	}
	for i, x := range in.GetInstructions() {
		isd, ok := calendar.Parse(x.GetIntendedSettlementDate())
		if !ok {
			return nil, kerr.Invalid(fmt.Sprintf("instructions[%d].intended_settlement_date", i), "must be a calendar date YYYY-MM-DD")
		}
		ins := zerobalance.Instruction{Party: x.GetParty(), ISD: isd, Value: x.GetValue(), TS: x.GetSettledTs(), HasTS: x.SettledTs != nil}
		if a := x.GetActualSettlementDate(); a != "" {
			if ins.Actual, ok = calendar.Parse(a); !ok {
				return nil, kerr.Invalid(fmt.Sprintf("instructions[%d].actual_settlement_date", i), "must be a calendar date YYYY-MM-DD or empty")
			}
			ins.Settled = true
		}
		if !hasAsOf || isd <= asOf {
			job.Due = append(job.Due, ins)
		}
	}
	return job, nil
}
