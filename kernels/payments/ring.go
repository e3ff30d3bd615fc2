package payments

import (
	"context"
	"fmt"
	"slices"

	paymentsv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/payments/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/enginefold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/payments/ledger"
)

// EventStatusChange carries a StatusChange, one per status change of a
// payment in the order the ledger made them (a settlement can release
// queued payments of other payers: their ACSCs follow in the same reply).
const EventStatusChange = "StatusChange"

type (
	procIn  = *paymentsv1.ProcessingInput
	procOut = *paymentsv1.ProcessingOutput
)

// ringLedger runs payments/processing as a ring: Configure sets config and
// the opening accounts; a data message opens accounts (OpenAccount), then
// applies its messages (non-decreasing ts).
var ringLedger = enginefold.Kernel[procIn, procOut]{
	Messages: fold.Messages{
		Reply: &paymentsv1.ProcessingOutput{},
		ReplyDoc: "The status changes this message caused, in order (its instructions' results and any queued " +
			"payments it released), in ProcessingOutput.events.",
		Events: []fold.EventType{
			{Kind: EventStatusChange, Message: &paymentsv1.StatusChange{}, Doc: "A payment changed status " +
				"(ACSC settled, PDNG queued, RJCT rejected, with the ISO 20022 reason), one per change in the order " +
				"the ledger made them; a settlement may release queued payments of other payers in the same message."},
		},
	},
	New: func(ctx context.Context, in procIn) (enginefold.Engine[procIn, procOut], error) {
		if len(in.GetMessages()) > 0 {
			return nil, kerr.Invalid("messages", "Configure takes config and accounts only; send messages as data messages")
		}
		job, err := prepare(ctx, in)
		if err != nil {
			return nil, err
		}
		return &liveLedger{l: ledger.New(job.Config, job.Accounts)}, nil
	},
	Split: func(in procIn) (procIn, []procIn) {
		msgs := slices.Clone(in.GetMessages())
		slices.SortStableFunc(msgs, func(a, b *paymentsv1.PaymentMessage) int {
			switch ta, tb := ts(a), ts(b); {
			case ta < tb:
				return -1
			case ta > tb:
				return 1
			}
			return 0
		})
		data := make([]procIn, len(msgs))
		for i, m := range msgs {
			data[i] = &paymentsv1.ProcessingInput{Messages: []*paymentsv1.PaymentMessage{m}}
		}
		return &paymentsv1.ProcessingInput{Config: in.GetConfig(), Accounts: in.GetAccounts()}, data
	},
}

type liveLedger struct {
	l      *ledger.Ledger
	lastTS int64
	seen   bool
}

func (r *liveLedger) Apply(ctx context.Context, emit enginefold.Emit, in procIn) error {
	if in.GetConfig() != nil {
		return kerr.Invalid("config", "is set by Configure only (before the first message, or after Reset)")
	}
	// The accounts' own checks are the Batch ones; ids must also be new.
	job, err := prepare(ctx, &paymentsv1.ProcessingInput{Accounts: in.GetAccounts()})
	if err != nil {
		return err
	}
	opened := map[string]bool{}
	for i, a := range job.Accounts {
		if r.l.HasAccount(a.ID) {
			return kerr.Invalid(fmt.Sprintf("accounts[%d].id", i), "account %q is already open", a.ID)
		}
		opened[a.ID] = true
	}
	last, seen := r.lastTS, r.seen
	for i, m := range in.GetMessages() {
		if m.GetMsg() == nil {
			return kerr.Invalid(fmt.Sprintf("messages[%d]", i), "no message set")
		}
		if f := m.GetFund(); f != nil && !r.l.HasAccount(f.GetAccount()) && !opened[f.GetAccount()] {
			return kerr.Invalid(fmt.Sprintf("messages[%d].fund.account", i), "unknown account %q", f.GetAccount())
		}
		if t := ts(m); seen && t < last {
			return kerr.Invalid(fmt.Sprintf("messages[%d]", i), "ts %d is before the ledger's latest ts %d", t, last)
		} else {
			last, seen = t, true
		}
	}
	for _, a := range job.Accounts {
		r.l.Open(a)
	}
	// The reply's output: the status changes this message caused, in order
	// (its instructions' results, and any queued payments it released).
	out := &paymentsv1.ProcessingOutput{}
	for _, m := range in.GetMessages() {
		n := len(r.l.Events())
		Apply(r.l, m)
		for _, e := range r.l.Events()[n:] {
			c := &paymentsv1.StatusChange{Id: e.ID, Status: e.Status, Reason: e.Reason}
			emit(EventStatusChange, c)
			out.Events = append(out.Events, c)
		}
	}
	r.lastTS, r.seen = last, seen
	fold.Reply(ctx, out)
	return nil
}

func (r *liveLedger) Snapshot(context.Context) (procOut, error) { return Snapshot(r.l), nil }
