package clearing

import (
	"context"
	"fmt"
	"slices"

	clearingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/clearing/v1"
	"github.com/gokernels/gokernels/kernels/clearing/calendar"
	"github.com/gokernels/gokernels/kernels/clearing/dvp"
	"github.com/gokernels/gokernels/kernels/clearing/validation"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/enginefold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// ValidationJob is the parsed trades and rules.
type ValidationJob struct {
	Trades []validation.Trade
	Rules  validation.Rules
}

// Validation is clearing/validation.
var Validation = registry.Def[*clearingv1.ValidationInput, *clearingv1.ValidationOutput, *ValidationJob]{
	Meta: registry.Meta{
		ID: "clearing/validation", Domain: registry.DomainClearing,
		Description: "Pre-clearing trade checks with codes: status, eligibility, ISO 6166 ISIN, currency, business-day " +
			"settlement periods (numpy.busday_count), trade and running position limits.",
	},
	Prepare: prepareValidation,
	CPU: func(ctx context.Context, job *ValidationJob) (*clearingv1.ValidationOutput, error) {
		res := validation.Validate(job.Trades, job.Rules)
		out := &clearingv1.ValidationOutput{Stats: &clearingv1.ValidationStats{Total: int32(len(res))}}
		counts := map[string]int32{}
		issues := func(is []validation.Issue) []*clearingv1.Issue {
			o := make([]*clearingv1.Issue, len(is))
			for i, x := range is {
				o[i] = &clearingv1.Issue{Code: x.Code, Severity: x.Severity, Message: x.Message}
			}
			return o
		}
		for _, r := range res {
			out.Results = append(out.Results, &clearingv1.TradeValidation{TradeId: r.ID, IsValid: len(r.Errors) == 0,
				Errors: issues(r.Errors), Warnings: issues(r.Warnings), BusinessDays: int32(r.BusinessDays)})
			if len(r.Errors) == 0 {
				out.Stats.Valid++
			}
			for _, e := range r.Errors {
				counts[e.Code]++
			}
		}
		if out.Stats.Total > 0 {
			out.Stats.Rate = float64(out.Stats.Valid) / float64(out.Stats.Total)
		}
		for _, code := range sortedKeys(counts) {
			out.Stats.ErrorCounts = append(out.Stats.ErrorCounts, &clearingv1.CodeCount{Code: code, Count: counts[code]})
		}
		return out, ctx.Err()
	},
}

func set(vs []string) map[string]bool {
	if len(vs) == 0 {
		return nil
	}
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func limitMap(field string, ls []*clearingv1.IsinLimit) (map[string]int64, error) {
	m := map[string]int64{}
	for i, l := range ls {
		if _, dup := m[l.GetIsin()]; dup {
			return nil, kerr.Invalid(fmt.Sprintf("%s[%d].isin", field, i), "duplicate isin %q", l.GetIsin())
		}
		m[l.GetIsin()] = l.GetMax()
	}
	return m, nil
}

func prepareValidation(ctx context.Context, in *clearingv1.ValidationInput) (*ValidationJob, error) {
	if err := limits.Check("trades", len(in.GetTrades()), limits.From(ctx).MaxSamples); err != nil {
		return nil, err
	}
	var hol []calendar.Day
	for i, h := range in.GetHolidays() {
		d, ok := calendar.Parse(h)
		if !ok {
			return nil, kerr.Invalid(fmt.Sprintf("holidays[%d]", i), "must be a calendar date YYYY-MM-DD, got %q", h)
		}
		hol = append(hol, d)
	}
	tl, err := limitMap("trade_limits", in.GetTradeLimits())
	if err != nil {
		return nil, err
	}
	pl, err := limitMap("position_limits", in.GetPositionLimits())
	if err != nil {
		return nil, err
	}
	job := &ValidationJob{Rules: validation.Rules{
		Parties: set(in.GetEligibleParties()), Securities: set(in.GetEligibleSecurities()), Currencies: set(in.GetCurrencies()),
		Calendar: calendar.New(hol), Standard: int64(orInt(in.StandardCycleDays, 1)), Min: int64(orInt(in.MinSettlementDays, 0)),
		Max: int64(orInt(in.MaxSettlementDays, 30)), TradeLimits: tl, PositionLimits: pl,
	}}
	seen := map[string]bool{}
	for i, t := range in.GetTrades() {
		f := func(n string) string { return fmt.Sprintf("trades[%d].%s", i, n) }
		if seen[t.GetId()] {
			return nil, kerr.Invalid(f("id"), "duplicate trade id %q", t.GetId())
		}
		seen[t.GetId()] = true
		td, ok := calendar.Parse(t.GetTradeDate())
		if !ok {
			return nil, kerr.Invalid(f("trade_date"), "must be a calendar date YYYY-MM-DD, got %q", t.GetTradeDate())
		}
		sd, ok := calendar.Parse(t.GetSettlementDate())
		if !ok {
			return nil, kerr.Invalid(f("settlement_date"), "must be a calendar date YYYY-MM-DD, got %q", t.GetSettlementDate())
		}
		job.Trades = append(job.Trades, validation.Trade{ID: t.GetId(), ISIN: t.GetIsin(), Buyer: t.GetBuyer(),
			Seller: t.GetSeller(), Currency: t.GetCurrency(), Status: t.GetStatus(), Quantity: t.GetQuantity(),
			Amount: t.GetAmountMinor(), TradeDate: td, SettlementDate: sd})
	}
	return job, nil
}

func orInt(v *int32, d int32) int32 {
	if v != nil {
		return *v
	}
	return d
}

// DvpMatching is clearing/dvp-matching, a Ring kernel whose Batch twin
// submits the instructions in arrival order.
var DvpMatching = registry.Def[*clearingv1.DvpMatchingInput, *clearingv1.DvpMatchingOutput, *DvpJob]{
	Meta: registry.Meta{
		ID: "clearing/dvp-matching", Domain: registry.DomainClearing,
		Modes: []registry.Mode{registry.Batch, registry.Ring},
		Description: "T2S settlement-instruction matching (sese.023): cross-equal parties, equal terms, amount " +
			"tolerance bands; earliest compatible counter-instruction in arrival order; unmatched reasons.",
	},
	Prepare: func(ctx context.Context, in *clearingv1.DvpMatchingInput) (*DvpJob, error) {
		if len(in.GetCancel()) > 0 {
			return nil, kerr.Invalid("cancel", "is a Ring data message (Cancel); a Batch input lists instructions only")
		}
		return prepareDvp(ctx, in)
	},
	Ring: func() fold.Handler { return enginefold.Spec(dvpRing).New() },
	CPU: func(ctx context.Context, job *DvpJob) (*clearingv1.DvpMatchingOutput, error) {
		m := dvp.New(job.Tolerance)
		for i, x := range job.Instructions {
			if i%4096 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			m.Submit(x)
		}
		return DvpSnapshot(m), nil
	},
}

// DvpJob is the validated instructions and tolerance.
type DvpJob struct {
	Instructions []dvp.Instruction
	Tolerance    dvp.Tolerance
}

func prepareDvp(ctx context.Context, in *clearingv1.DvpMatchingInput) (*DvpJob, error) {
	if err := limits.Check("instructions", len(in.GetInstructions()), limits.From(ctx).MaxSamples); err != nil {
		return nil, err
	}
	job := &DvpJob{Tolerance: dvp.Tolerance{High: 2500, Low: 200, Threshold: 10_000_000}}
	if in.ToleranceHigh != nil {
		job.Tolerance.High = in.GetToleranceHigh()
	}
	if in.ToleranceLow != nil {
		job.Tolerance.Low = in.GetToleranceLow()
	}
	if in.BandThreshold != nil {
		job.Tolerance.Threshold = in.GetBandThreshold()
	}
	seen := map[string]bool{}
	for i, x := range in.GetInstructions() {
		if seen[x.GetId()] {
			return nil, kerr.Invalid(fmt.Sprintf("instructions[%d].id", i), "duplicate instruction id %q", x.GetId())
		}
		seen[x.GetId()] = true
		job.Instructions = append(job.Instructions, InstructionOf(x))
	}
	return job, nil
}

// InstructionOf converts one validated proto instruction (payment type
// defaults to DVP).
func InstructionOf(x *clearingv1.SettlementInstruction) dvp.Instruction {
	pt := x.GetPaymentType()
	if pt == "" {
		pt = "DVP"
	}
	return dvp.Instruction{ID: x.GetId(), Direction: x.GetDirection(), Party: x.GetParty(), Counterparty: x.GetCounterparty(),
		ISIN: x.GetIsin(), Currency: x.GetCurrency(), TradeDate: x.GetTradeDate(), ISD: x.GetIntendedSettlementDate(),
		PaymentType: pt, Quantity: x.GetQuantity(), Amount: x.GetAmountMinor()}
}

// DvpSnapshot is the matcher's Snapshot (the Batch output).
func DvpSnapshot(m *dvp.Matcher) *clearingv1.DvpMatchingOutput {
	out := &clearingv1.DvpMatchingOutput{}
	for _, p := range m.Pairs() {
		out.Pairs = append(out.Pairs, &clearingv1.MatchedPair{DeliId: p.Deli, ReceId: p.Rece, AmountDiff: p.AmountDiff, MatchedAmount: p.Matched})
	}
	for _, u := range m.Unmatched() {
		out.Unmatched = append(out.Unmatched, &clearingv1.UnmatchedInstruction{Id: u.ID, Reason: u.Reason})
	}
	if n := m.Submitted(); n > 0 {
		out.MatchRate = 2 * float64(len(out.Pairs)) / float64(n)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
