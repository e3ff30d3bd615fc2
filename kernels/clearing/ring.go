package clearing

import (
	"context"
	"fmt"

	clearingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/clearing/v1"
	"github.com/gokernels/gokernels/kernels/clearing/dvp"
	"github.com/gokernels/gokernels/kernels/clearing/settlement"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/enginefold"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// Ring event kinds.
const (
	// EventMatched carries a MatchedPair, emitted when a submitted
	// instruction matches.
	EventMatched = "Matched"
	// EventSettled and EventPartiallySettled carry a SettlementEvent, one
	// per settlement of a RunCycle, in settlement order.
	EventSettled          = "Settled"
	EventPartiallySettled = "PartiallySettled"
)

type (
	dvpIn   = *clearingv1.DvpMatchingInput
	dvpOut  = *clearingv1.DvpMatchingOutput
	settIn  = *clearingv1.SettlementInput
	settOut = *clearingv1.SettlementOutput
)

// dvpRing runs clearing/dvp-matching as a ring: Configure sets the
// tolerances; a data message cancels, then submits, instructions.
var dvpRing = enginefold.Kernel[dvpIn, dvpOut]{
	Messages: fold.Messages{
		Reply:    &clearingv1.DvpMatchingOutput{},
		ReplyDoc: "The pairs this message's instructions matched, in DvpMatchingOutput.pairs.",
		Events: []fold.EventType{
			{Kind: EventMatched, Message: &clearingv1.MatchedPair{}, Doc: "A submitted instruction matched a pending " +
				"counterpart: the delivery and receipt ids, the amount difference and the matched amount."},
		},
	},
	New: func(ctx context.Context, in dvpIn) (enginefold.Engine[dvpIn, dvpOut], error) {
		if len(in.GetInstructions()) > 0 || len(in.GetCancel()) > 0 {
			return nil, kerr.Invalid("instructions", "Configure takes the tolerances only; send instructions as data messages")
		}
		job, err := prepareDvp(ctx, in)
		if err != nil {
			return nil, err
		}
		return &ringDvp{m: dvp.New(job.Tolerance), ids: map[string]bool{}}, nil
	},
	Split: func(in dvpIn) (dvpIn, []dvpIn) {
		cfg := &clearingv1.DvpMatchingInput{ToleranceHigh: in.ToleranceHigh, ToleranceLow: in.ToleranceLow, BandThreshold: in.BandThreshold}
		data := make([]dvpIn, len(in.GetInstructions()))
		for i, x := range in.GetInstructions() {
			data[i] = &clearingv1.DvpMatchingInput{Instructions: []*clearingv1.SettlementInstruction{x}}
		}
		return cfg, data
	},
}

type ringDvp struct {
	m   *dvp.Matcher
	ids map[string]bool // every id ever submitted: ids stay unique
}

func (r *ringDvp) Apply(ctx context.Context, emit enginefold.Emit, in dvpIn) error {
	if in.ToleranceHigh != nil || in.ToleranceLow != nil || in.BandThreshold != nil {
		return kerr.Invalid("tolerance_high", "tolerances are set by Configure only")
	}
	gone := map[string]bool{}
	for i, id := range in.GetCancel() {
		if !r.m.Pending(id) || gone[id] {
			return kerr.Invalid(fmt.Sprintf("cancel[%d]", i), "%q is not an unmatched instruction", id)
		}
		gone[id] = true
	}
	seen := map[string]bool{}
	for i, x := range in.GetInstructions() {
		if r.ids[x.GetId()] || seen[x.GetId()] {
			return kerr.Invalid(fmt.Sprintf("instructions[%d].id", i), "duplicate instruction id %q", x.GetId())
		}
		seen[x.GetId()] = true
	}
	for _, id := range in.GetCancel() {
		r.m.Cancel(id)
	}
	// The reply's output: the pairs this message's instructions matched.
	out := &clearingv1.DvpMatchingOutput{}
	for _, x := range in.GetInstructions() {
		r.ids[x.GetId()] = true
		if p, ok := r.m.Submit(InstructionOf(x)); ok {
			mp := &clearingv1.MatchedPair{DeliId: p.Deli, ReceId: p.Rece, AmountDiff: p.AmountDiff, MatchedAmount: p.Matched}
			emit(EventMatched, mp)
			out.Pairs = append(out.Pairs, mp)
		}
	}
	fold.Reply(ctx, out)
	return nil
}

func (r *ringDvp) Snapshot(context.Context) (dvpOut, error) { return DvpSnapshot(r.m), nil }

// settlementRing runs clearing/settlement as a ring: Configure sets the
// eligible parties; each data message applies its parts in the Batch
// order (SetBalance, Credit, Hold, Release, AdvanceDate, AddTransaction)
// and, with run_cycle, a RunCycle whose settlements are emitted.
var settlementRing = enginefold.Kernel[settIn, settOut]{
	Messages: fold.Messages{
		Reply:    &clearingv1.SettlementOutput{},
		ReplyDoc: "The settlements of this message's cycle (run_cycle), in SettlementOutput.events; empty otherwise.",
		Events: []fold.EventType{
			{Kind: EventSettled, Message: &clearingv1.SettlementEvent{}, Doc: "A transaction settled in full during " +
				"a RunCycle, in settlement order: its id, quantity, amount and the cycle pass."},
			{Kind: EventPartiallySettled, Message: &clearingv1.SettlementEvent{}, Doc: "A transaction settled in " +
				"part during a RunCycle (the part the balances allowed), in settlement order."},
		},
	},
	New: func(_ context.Context, in settIn) (enginefold.Engine[settIn, settOut], error) {
		if len(in.GetTransactions())+len(in.GetSecurities())+len(in.GetCash())+len(in.GetCreditLimits())+
			len(in.GetOnHold())+len(in.GetRelease()) > 0 || in.GetBusinessDate() != "" || in.GetRunCycle() {
			return nil, kerr.Invalid("eligible_parties", "Configure takes eligible_parties only; send balances, "+
				"holds, dates and transactions as data messages")
		}
		var eligible []string
		if len(in.GetEligibleParties()) > 0 {
			eligible = in.GetEligibleParties()
		}
		return &ringSettlement{e: settlement.New(eligible)}, nil
	},
	Split: func(in settIn) (settIn, []settIn) {
		cfg := &clearingv1.SettlementInput{EligibleParties: in.GetEligibleParties()}
		data := []settIn{{Securities: in.GetSecurities(), Cash: in.GetCash(), CreditLimits: in.GetCreditLimits(),
			OnHold: in.GetOnHold(), BusinessDate: in.GetBusinessDate()}}
		for _, t := range in.GetTransactions() {
			data = append(data, &clearingv1.SettlementInput{Transactions: []*clearingv1.SettlementTx{t}})
		}
		return cfg, append(data, &clearingv1.SettlementInput{RunCycle: true})
	},
}

type ringSettlement struct{ e *settlement.Engine }

func (r *ringSettlement) Apply(ctx context.Context, emit enginefold.Emit, in settIn) error {
	if len(in.GetEligibleParties()) > 0 {
		return kerr.Invalid("eligible_parties", "is set by Configure only")
	}
	// The Batch checks run on the message alone (a placeholder date when
	// the message leaves the date unchanged) …
	// Cash is checked below, against the credit limits of the state.
	chk := &clearingv1.SettlementInput{Transactions: in.GetTransactions(), Securities: in.GetSecurities(),
		CreditLimits: in.GetCreditLimits(), OnHold: in.GetOnHold(), BusinessDate: in.GetBusinessDate()}
	if chk.BusinessDate == "" {
		chk.BusinessDate = "1970-01-01"
	}
	if _, err := prepareSettlement(ctx, chk); err != nil {
		return err
	}
	// … then against the state: ids stay unique, and a cash balance must
	// respect the credit limit that will hold after this message.
	for i, t := range in.GetTransactions() {
		if r.e.Has(t.GetId()) {
			return kerr.Invalid(fmt.Sprintf("transactions[%d].id", i), "duplicate id %q", t.GetId())
		}
	}
	type key struct{ p, c string }
	seen := map[key]bool{}
	for i, c := range in.GetCash() {
		k := key{c.GetParty(), c.GetCurrency()}
		if seen[k] {
			return kerr.Invalid(fmt.Sprintf("cash[%d]", i), "duplicate balance for (%s, %s)", k.p, k.c)
		}
		seen[k] = true
		limit := r.e.CreditLimit(c.GetParty(), c.GetCurrency())
		for _, l := range in.GetCreditLimits() {
			if l.GetParty() == c.GetParty() && l.GetCurrency() == c.GetCurrency() {
				limit = l.GetAmountMinor()
			}
		}
		if c.GetAmountMinor() < -limit {
			return kerr.Invalid(fmt.Sprintf("cash[%d].amount_minor", i), "%d is below the credit limit −%d", c.GetAmountMinor(), limit)
		}
	}
	e := r.e
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
	for _, p := range in.GetRelease() {
		e.Release(p)
	}
	if d := in.GetBusinessDate(); d != "" {
		e.AdvanceDate(d)
	}
	for _, t := range in.GetTransactions() {
		e.Add(TxOf(t))
	}
	// The reply's output: the settlements of this message's cycle.
	out := &clearingv1.SettlementOutput{}
	if in.GetRunCycle() {
		for _, ev := range e.RunCycle() {
			kind := EventSettled
			if ev.Kind == "PARTIALLY_SETTLED" {
				kind = EventPartiallySettled
			}
			se := &clearingv1.SettlementEvent{Kind: ev.Kind, Id: ev.ID, Qty: ev.Qty, Amount: ev.Amount, Pass: int32(ev.Pass)}
			emit(kind, se)
			out.Events = append(out.Events, se)
		}
	}
	fold.Reply(ctx, out)
	return nil
}

func (r *ringSettlement) Snapshot(context.Context) (settOut, error) {
	return SettlementSnapshot(r.e), nil
}
