package payments

// payments/processing: the glue between
// proto/gokernels/kernels/payments/v1/processing.proto and the RTGS ledger
// in payments/ledger.

import (
	"context"
	"fmt"
	"slices"

	paymentsv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/payments/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/enginefold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/payments/ledger"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Job is the validated ledger and the messages in ts order.
type Job struct {
	Config   ledger.Config
	Accounts []ledger.Account
	Msgs     []*paymentsv1.PaymentMessage
}

// Processing is payments/processing.
var Processing = registry.Def[*paymentsv1.ProcessingInput, *paymentsv1.ProcessingOutput, *Job]{
	Meta: registry.Meta{
		ID: "payments/processing", Domain: registry.DomainPayments,
		Modes: []registry.Mode{registry.Batch, registry.Ring},
		Description: "RTGS ledger with TARGET2-style queues: atomic debit/credit, ISO 20022 reason codes, " +
			"priority queues with FIFO retry, settlement window and end-of-day policies.",
	},
	Prepare: prepare,
	Ring:    func() fold.Handler { return enginefold.Spec(ringLedger).New() },
	CPU: func(ctx context.Context, job *Job) (*paymentsv1.ProcessingOutput, error) {
		l := ledger.New(job.Config, job.Accounts)
		for i, m := range job.Msgs {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			Apply(l, m)
		}
		return Snapshot(l), nil
	},
	Estimate: func(in *paymentsv1.ProcessingInput) registry.Cost {
		n := int64(len(in.GetMessages()) + len(in.GetAccounts()))
		return registry.Cost{WorkingBytes: 400 * n, OutputBytes: 200 * n, Work: float64(n)}
	},
}

func ts(m *paymentsv1.PaymentMessage) int64 {
	switch x := m.GetMsg().(type) {
	case *paymentsv1.PaymentMessage_Fund:
		return x.Fund.GetTs()
	case *paymentsv1.PaymentMessage_Submit:
		return x.Submit.GetTs()
	case *paymentsv1.PaymentMessage_Cancel:
		return x.Cancel.GetTs()
	case *paymentsv1.PaymentMessage_Tick:
		return x.Tick.GetNow()
	default:
		return m.GetEndOfDay().GetTs()
	}
}

// ConfigOf applies the defaults of a validated proto configuration.
func ConfigOf(c *paymentsv1.ProcessingConfig) ledger.Config {
	cfg := ledger.Config{
		Queueing: c == nil || c.Queueing == nil || c.GetQueueing(), FIFOBypass: c.GetFifoBypass(),
		EODReject: c.GetEodPolicy() == "REJECT", RealTime: map[string]bool{}, Min: 1, Max: 1_000_000_000_000_000,
		Fees: map[string]ledger.Fee{}, FeeAccount: c.GetFeeAccount(),
	}
	if c != nil && c.MinAmount != nil {
		cfg.Min = c.GetMinAmount()
	}
	if c != nil && c.MaxAmount != nil {
		cfg.Max = c.GetMaxAmount()
	}
	rt := c.GetRealTimeTypes()
	if len(rt) == 0 {
		rt = []string{"INSTANT"}
	}
	for _, t := range rt {
		cfg.RealTime[t] = true
	}
	if w := c.GetWindow(); w != nil {
		win := &ledger.Window{Open: int64(w.GetOpenSeconds()), Close: int64(w.GetCloseSeconds()), TZ: int64(w.GetTzOffsetSeconds())}
		days := w.GetWeekdays()
		if len(days) == 0 {
			days = []int32{1, 2, 3, 4, 5}
		}
		for _, d := range days {
			win.Weekdays[d] = true
		}
		cfg.Window = win
	}
	for _, f := range c.GetFees() {
		cfg.Fees[f.GetType()] = ledger.Fee{Fixed: f.GetFixedMinor(), BP: f.GetBp()}
	}
	return cfg
}

func prepare(ctx context.Context, in *paymentsv1.ProcessingInput) (*Job, error) {
	lim := limits.From(ctx).MaxSamples
	if err := limits.Check("messages", len(in.GetMessages()), lim); err != nil {
		return nil, err
	}
	if err := limits.Check("accounts", len(in.GetAccounts()), lim); err != nil {
		return nil, err
	}
	job := &Job{Config: ConfigOf(in.GetConfig())}
	ids := map[string]bool{}
	for i, a := range in.GetAccounts() {
		if ids[a.GetId()] {
			return nil, kerr.Invalid(fmt.Sprintf("accounts[%d].id", i), "duplicate account id %q", a.GetId())
		}
		ids[a.GetId()] = true
		if a.GetBalanceMinor() < -a.GetCreditLine() {
			return nil, kerr.Invalid(fmt.Sprintf("accounts[%d].balance_minor", i), "%d is below −credit_line %d",
				a.GetBalanceMinor(), a.GetCreditLine())
		}
		acc := ledger.Account{ID: a.GetId(), Currency: a.GetCurrency(), Status: a.GetStatus(), Balance: a.GetBalanceMinor(),
			CreditLine: a.GetCreditLine(), DailyLimit: -1}
		if acc.Status == "" {
			acc.Status = "ACTIVE"
		}
		if a.DailyLimit != nil {
			acc.DailyLimit = a.GetDailyLimit()
		}
		job.Accounts = append(job.Accounts, acc)
	}
	c := in.GetConfig()
	if len(c.GetFees()) > 0 && !ids[c.GetFeeAccount()] {
		return nil, kerr.Invalid("config.fee_account", "must name an account when fees are given, got %q", c.GetFeeAccount())
	}
	if c.GetMinAmount() > 0 && c.MaxAmount != nil && c.GetMinAmount() > c.GetMaxAmount() {
		return nil, kerr.Invalid("config.min_amount", "%d exceeds max_amount %d", c.GetMinAmount(), c.GetMaxAmount())
	}
	seenFee := map[string]bool{}
	for i, f := range c.GetFees() {
		if seenFee[f.GetType()] {
			return nil, kerr.Invalid(fmt.Sprintf("config.fees[%d].type", i), "duplicate fee type %q", f.GetType())
		}
		seenFee[f.GetType()] = true
	}
	for i, m := range in.GetMessages() {
		if f := m.GetFund(); f != nil && !ids[f.GetAccount()] {
			return nil, kerr.Invalid(fmt.Sprintf("messages[%d].fund.account", i), "unknown account %q", f.GetAccount())
		}
	}
	// §1.5: stable by ts, so a session fed in ts order replays the batch.
	job.Msgs = slices.Clone(in.GetMessages())
	slices.SortStableFunc(job.Msgs, func(a, b *paymentsv1.PaymentMessage) int {
		switch ta, tb := ts(a), ts(b); {
		case ta < tb:
			return -1
		case ta > tb:
			return 1
		}
		return 0
	})
	return job, nil
}

// Apply folds one validated data message into the ledger.
func Apply(l *ledger.Ledger, m *paymentsv1.PaymentMessage) {
	switch x := m.GetMsg().(type) {
	case *paymentsv1.PaymentMessage_Fund:
		l.Fund(x.Fund.GetAccount(), x.Fund.GetAmountMinor())
	case *paymentsv1.PaymentMessage_Submit:
		s := x.Submit
		l.Submit(ledger.Payment{ID: s.GetId(), Payer: s.GetPayer(), Payee: s.GetPayee(), Currency: s.GetCurrency(),
			Type: s.GetType(), Amount: s.GetAmountMinor(), Rank: ledger.Ranks[s.GetPriority()]}, s.GetTs())
	case *paymentsv1.PaymentMessage_Cancel:
		l.Cancel(x.Cancel.GetId())
	case *paymentsv1.PaymentMessage_Tick:
		l.Tick(x.Tick.GetNow())
	case *paymentsv1.PaymentMessage_EndOfDay:
		l.EndOfDay()
	}
}

// Snapshot is the ledger's full state (the Batch output).
func Snapshot(l *ledger.Ledger) *paymentsv1.ProcessingOutput {
	out := &paymentsv1.ProcessingOutput{}
	for _, e := range l.Events() {
		out.Events = append(out.Events, &paymentsv1.StatusChange{Id: e.ID, Status: e.Status, Reason: e.Reason})
	}
	for _, p := range l.Payments() {
		ps := &paymentsv1.PaymentState{Id: p.ID, Status: p.Status, Reason: p.Reason}
		if p.Status == "ACSC" {
			ps.FeeMinor = p.Fee
		}
		out.Payments = append(out.Payments, ps)
	}
	for _, a := range l.Accounts() {
		out.Accounts = append(out.Accounts, &paymentsv1.AccountState{Id: a.ID, BalanceMinor: a.Balance, DailyUsed: a.DailyUsed})
	}
	return out
}
