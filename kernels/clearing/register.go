// Package clearing registers the Clearing kernels: the glue between
// proto/gokernels/kernels/clearing/v1 and the engines in the sub-packages.
// Money is int64 minor units throughout.
package clearing

import (
	"context"
	"errors"
	"fmt"
	"time"

	clearingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/clearing/v1"
	"github.com/gokernels/gokernels/kernels/clearing/netting"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds the clearing kernels to r.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, Netting),
		registry.Register(r, Settlement),
		registry.Register(r, Validation),
		registry.Register(r, DvpMatching),
		registry.Register(r, ZeroBalance),
	)
}

// NettingJob is the eligible trades and the bilateral flag.
type NettingJob struct {
	Trades    []netting.Trade
	Bilateral bool
}

// Netting is clearing/netting.
var Netting = registry.Def[*clearingv1.NettingInput, *clearingv1.NettingOutput, NettingJob]{
	Meta: registry.Meta{
		ID: "clearing/netting", Domain: registry.DomainClearing,
		Description: "CCP multilateral netting with novation: net securities per (party, isin, date), net cash per " +
			"(party, currency, date) across securities (equals a pandas groupby, exact integers).",
	},
	Prepare: prepareNetting,
	CPU: func(_ context.Context, job NettingJob) (*clearingv1.NettingOutput, error) {
		return nettingOutput(netting.Net(job.Trades, job.Bilateral), job.Bilateral), nil
	},
	Estimate: func(in *clearingv1.NettingInput) registry.Cost {
		n := int64(len(in.GetTrades()))
		return registry.Cost{WorkingBytes: 600 * n, OutputBytes: 400 * n, Work: float64(n)}
	},
}

func prepareNetting(ctx context.Context, in *clearingv1.NettingInput) (NettingJob, error) {
	if err := limits.Check("trades", len(in.GetTrades()), limits.From(ctx).MaxSamples); err != nil {
		return NettingJob{}, err
	}
	eligible := map[string]bool{"PENDING": true, "VALIDATED": true, "MATCHED": true, "FAILED": in.GetIncludeFailed()}
	seen := make(map[string]bool, len(in.GetTrades()))
	job := NettingJob{Bilateral: in.GetBilateral()}
	for i, t := range in.GetTrades() {
		f := func(name string) string { return fmt.Sprintf("trades[%d].%s", i, name) }
		if seen[t.GetId()] {
			return NettingJob{}, kerr.Invalid(f("id"), "duplicate trade id %q", t.GetId())
		}
		seen[t.GetId()] = true
		if !eligible[t.GetStatus()] {
			continue
		}
		var err error
		switch {
		case t.GetQuantity() <= 0:
			err = kerr.Invalid(f("quantity"), "must be > 0 for netting, got %d", t.GetQuantity())
		case t.GetAmountMinor() <= 0:
			err = kerr.Invalid(f("amount_minor"), "must be > 0 for netting, got %d", t.GetAmountMinor())
		case t.GetBuyer() == "":
			err = kerr.Invalid(f("buyer"), "must not be empty")
		case t.GetSeller() == "":
			err = kerr.Invalid(f("seller"), "must not be empty")
		case t.GetIsin() == "":
			err = kerr.Invalid(f("isin"), "must not be empty")
		case t.GetCurrency() == "":
			err = kerr.Invalid(f("currency"), "must not be empty")
		default:
			err = civilDate(f("settlement_date"), t.GetSettlementDate())
		}
		if err != nil {
			return NettingJob{}, err
		}
		job.Trades = append(job.Trades, netting.Trade{ISIN: t.GetIsin(), Buyer: t.GetBuyer(), Seller: t.GetSeller(),
			Currency: t.GetCurrency(), SettlementDate: t.GetSettlementDate(), Quantity: t.GetQuantity(), Amount: t.GetAmountMinor()})
	}
	return job, nil
}

func nettingOutput(r netting.Result, bilateral bool) *clearingv1.NettingOutput {
	out := &clearingv1.NettingOutput{
		TradesNetted: int32(r.Trades), GrossInstructions: r.GrossInstr, NetInstructions: r.NetInstr,
		InstructionReduction: r.Reduction,
	}
	for _, p := range r.Securities {
		out.Securities = append(out.Securities, &clearingv1.SecurityPosition{Party: p.Key.Party, Isin: p.Key.ISIN,
			SettlementDate: p.Key.Date, NetQty: p.Net})
	}
	for _, p := range r.Cash {
		out.Cash = append(out.Cash, &clearingv1.CashPosition{Party: p.Key.Party, Currency: p.Key.Currency,
			SettlementDate: p.Key.Date, NetMinor: p.Net})
	}
	for _, s := range r.Summaries {
		out.Summaries = append(out.Summaries, &clearingv1.PartySummary{Party: s.Key.Party, Currency: s.Key.Currency,
			GrossIn: s.GrossIn, GrossOut: s.GrossOut, Net: s.GrossIn - s.GrossOut})
	}
	if bilateral {
		for _, p := range r.Bilateral {
			out.Bilateral = append(out.Bilateral, &clearingv1.BilateralPosition{PartyA: p.Key.A, PartyB: p.Key.B,
				Currency: p.Key.Currency, SettlementDate: p.Key.Date, NetMinor: p.Net})
		}
	}
	for _, c := range r.Currencies {
		out.Currencies = append(out.Currencies, &clearingv1.CurrencyMetrics{Currency: c.Currency, GrossCash: c.Gross,
			NetCash: c.Net, CashNettingEfficiency: c.Efficiency, BilateralNetCash: c.BiNet})
	}
	return out
}

// civilDate checks a YYYY-MM-DD calendar date.
func civilDate(field, s string) error {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return kerr.Invalid(field, "must be a calendar date YYYY-MM-DD, got %q", s)
	}
	return nil
}
