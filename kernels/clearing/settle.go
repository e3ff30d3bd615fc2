package clearing

import (
	"context"
	"fmt"

	clearingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/clearing/v1"
	"github.com/gokernels/gokernels/kernels/clearing/settlement"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/enginefold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Settlement is clearing/settlement, a Ring kernel whose Batch twin folds
// its input through the engine's messages.
var Settlement = registry.Def[*clearingv1.SettlementInput, *clearingv1.SettlementOutput, *clearingv1.SettlementInput]{
	Meta: registry.Meta{
		ID: "clearing/settlement", Domain: registry.DomainClearing,
		Modes: []registry.Mode{registry.Batch, registry.Ring},
		Description: "Atomic DVP settlement (BIS Model 1) with recycling passes and T2S partial settlement (MSU, SUM); " +
			"balances move, money and securities are conserved.",
	},
	Prepare: func(ctx context.Context, in *clearingv1.SettlementInput) (*clearingv1.SettlementInput, error) {
		if len(in.GetRelease()) > 0 {
			return nil, kerr.Invalid("release", "is a Ring data message (Release); a Batch input sets on_hold only")
		}
		return prepareSettlement(ctx, in)
	},
	Ring: func() fold.Handler { return enginefold.Spec(settlementRing).New() },
	CPU: func(ctx context.Context, in *clearingv1.SettlementInput) (*clearingv1.SettlementOutput, error) {
		e := Fold(in)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return SettlementSnapshot(e), nil
	},
	Estimate: func(in *clearingv1.SettlementInput) registry.Cost {
		n := int64(len(in.GetTransactions()) + len(in.GetSecurities()) + len(in.GetCash()))
		return registry.Cost{WorkingBytes: 500 * n, OutputBytes: 300 * n, Work: float64(n)}
	},
}

func prepareSettlement(ctx context.Context, in *clearingv1.SettlementInput) (*clearingv1.SettlementInput, error) {
	lim := limits.From(ctx).MaxSamples
	if err := limits.Check("transactions", len(in.GetTransactions()), lim); err != nil {
		return nil, err
	}
	if err := limits.Check("securities", len(in.GetSecurities())+len(in.GetCash())+len(in.GetCreditLimits()), lim); err != nil {
		return nil, err
	}
	if err := civilDate("business_date", in.GetBusinessDate()); err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for i, t := range in.GetTransactions() {
		if ids[t.GetId()] {
			return nil, kerr.Invalid(fmt.Sprintf("transactions[%d].id", i), "duplicate id %q", t.GetId())
		}
		ids[t.GetId()] = true
		if err := civilDate(fmt.Sprintf("transactions[%d].intended_settlement_date", i), t.GetIntendedSettlementDate()); err != nil {
			return nil, err
		}
	}
	type key struct{ p, a string }
	seen := map[key]bool{}
	for i, b := range in.GetSecurities() {
		k := key{b.GetParty(), b.GetIsin()}
		if seen[k] {
			return nil, kerr.Invalid(fmt.Sprintf("securities[%d]", i), "duplicate balance for (%s, %s)", k.p, k.a)
		}
		seen[k] = true
	}
	credit := map[key]int64{}
	for i, c := range in.GetCreditLimits() {
		k := key{c.GetParty(), c.GetCurrency()}
		if _, dup := credit[k]; dup {
			return nil, kerr.Invalid(fmt.Sprintf("credit_limits[%d]", i), "duplicate limit for (%s, %s)", k.p, k.a)
		}
		if c.GetAmountMinor() < 0 {
			return nil, kerr.Invalid(fmt.Sprintf("credit_limits[%d].amount_minor", i), "must be ≥ 0, got %d", c.GetAmountMinor())
		}
		credit[k] = c.GetAmountMinor()
	}
	seen = map[key]bool{}
	for i, c := range in.GetCash() {
		k := key{c.GetParty(), c.GetCurrency()}
		if seen[k] {
			return nil, kerr.Invalid(fmt.Sprintf("cash[%d]", i), "duplicate balance for (%s, %s)", k.p, k.a)
		}
		seen[k] = true
		if c.GetAmountMinor() < -credit[k] {
			return nil, kerr.Invalid(fmt.Sprintf("cash[%d].amount_minor", i), "%d is below the credit limit −%d", c.GetAmountMinor(), credit[k])
		}
	}
	return in, nil
}

// Fold applies a validated Batch input as Ring messages — Configure
// (eligible parties), SetBalance, Credit, Hold, AdvanceDate,
// AddTransaction, then one RunCycle — and returns the engine.
func Fold(in *clearingv1.SettlementInput) *settlement.Engine {
	var eligible []string
	if len(in.GetEligibleParties()) > 0 {
		eligible = in.GetEligibleParties()
	}
	e := settlement.New(eligible)
	for _, b := range in.GetSecurities() {
		e.SetSecurities(b.GetParty(), b.GetIsin(), b.GetQuantity())
	}
	for _, c := range in.GetCash() {
		e.SetCash(c.GetParty(), c.GetCurrency(), c.GetAmountMinor())
	}
	for _, c := range in.GetCreditLimits() {
		e.Credit(c.GetParty(), c.GetCurrency(), c.GetAmountMinor())
	}
	for _, p := range in.GetOnHold() {
		e.Hold(p)
	}
	e.AdvanceDate(in.GetBusinessDate())
	for _, t := range in.GetTransactions() {
		e.Add(TxOf(t))
	}
	e.RunCycle()
	return e
}

// TxOf converts one proto transaction.
func TxOf(t *clearingv1.SettlementTx) settlement.Tx {
	sum := int64(1)
	if t.Sum != nil {
		sum = t.GetSum()
	}
	return settlement.Tx{ID: t.GetId(), Deliverer: t.GetDeliverer(), Receiver: t.GetReceiver(), ISIN: t.GetIsin(),
		Currency: t.GetCurrency(), ISD: t.GetIntendedSettlementDate(), Qty: t.GetQuantity(), Amount: t.GetAmountMinor(),
		Priority: int(t.GetPriority()), Partial: t.GetPartialAllowed(), MSU: t.GetMsu(), SUM: sum}
}

// SettlementSnapshot is the engine's Snapshot (the Batch output).
func SettlementSnapshot(e *settlement.Engine) *clearingv1.SettlementOutput {
	out := &clearingv1.SettlementOutput{Totals: &clearingv1.SettlementTotals{}, Passes: int32(e.Passes())}
	settled := 0
	for _, r := range e.Results() {
		out.Transactions = append(out.Transactions, &clearingv1.TxResult{Id: r.ID, Status: r.Status, Reason: r.Reason,
			SettledQty: r.SettledQty, SettledAmount: r.SettledAmount})
		out.Totals.SettledValue += r.SettledAmount
		out.Totals.SettledVolume += r.SettledQty
		if r.Status == "SETTLED" {
			settled++
		}
	}
	if n := len(out.Transactions); n > 0 {
		out.Totals.Rate = float64(settled) / float64(n)
	}
	for _, ev := range e.Events() {
		out.Events = append(out.Events, &clearingv1.SettlementEvent{Kind: ev.Kind, Id: ev.ID, Qty: ev.Qty,
			Amount: ev.Amount, Pass: int32(ev.Pass)})
	}
	for _, b := range e.Securities() {
		out.Securities = append(out.Securities, &clearingv1.SecurityBalance{Party: b.Key.Party, Isin: b.Key.Asset, Quantity: b.Amount})
	}
	for _, b := range e.Cash() {
		out.Cash = append(out.Cash, &clearingv1.CashBalance{Party: b.Key.Party, Currency: b.Key.Asset, AmountMinor: b.Amount})
	}
	return out
}
