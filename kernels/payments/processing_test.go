package payments

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	paymentsv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/payments/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/payments/ledger"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

func TestProcessingFixtures(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	k, _ := r.Get("payments/processing")
	if k.Domain != registry.DomainPayments || !k.HasMode(registry.Ring) || !k.SupportsBatch() {
		t.Fatalf("meta %+v", k.Meta)
	}
	f := fixture.KernelFile(t, fixture.DomainFiles(t, "payments"), "payments/processing")
	fixture.RunKernelCases(t, r, f, func(t *testing.T, c fixture.Case, _ map[string]any) { checkLaws(t, c) })
}

// checkLaws replays a case message by message (a Ring session) and asserts
// after every message: Σ balances per currency = opening + external
// funding; balance ≥ −credit_line; daily_used ≤ daily_limit; an id settles
// at most once; without bypass no payment settles while a payment of the
// same payer with higher priority is queued. The final snapshot equals the
// batch output (replay law).
func checkLaws(t *testing.T, c fixture.Case) {
	in := &paymentsv1.ProcessingInput{}
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	job, err := Processing.Prepare(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := Processing.CPU(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(job.Config, job.Accounts)
	want := map[string]int64{}
	ccy := map[string]string{}
	for _, a := range job.Accounts {
		want[a.Currency] += a.Balance
		ccy[a.ID] = a.Currency
	}
	settled := map[string]bool{}
	for i, m := range job.Msgs {
		// Queues before the message, to judge its settlements.
		before := map[string][]ledger.Payment{}
		for _, a := range l.Accounts() {
			for _, p := range l.Queued(a.ID) {
				before[a.ID] = append(before[a.ID], *p)
			}
		}
		n := len(l.Events())
		Apply(l, m)
		if f := m.GetFund(); f != nil {
			want[ccy[f.GetAccount()]] += f.GetAmountMinor()
		}
		got := map[string]int64{}
		for _, a := range l.Accounts() {
			got[a.Currency] += a.Balance
			if a.Balance < -a.CreditLine {
				t.Fatalf("message %d: account %s balance %d below −%d", i, a.ID, a.Balance, a.CreditLine)
			}
			if a.DailyLimit >= 0 && a.DailyUsed > a.DailyLimit {
				t.Fatalf("message %d: account %s daily_used %d > limit %d", i, a.ID, a.DailyUsed, a.DailyLimit)
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("message %d: %s balances sum to %d, want %d", i, k, got[k], v)
			}
		}
		for _, ev := range l.Events()[n:] {
			if ev.Status != "ACSC" {
				continue
			}
			if settled[ev.ID] {
				t.Fatalf("message %d: %s settled twice", i, ev.ID)
			}
			settled[ev.ID] = true
			if job.Config.FIFOBypass {
				continue
			}
			var p *ledger.Payment
			for _, q := range l.Payments() {
				if q.ID == ev.ID {
					p = q
				}
			}
			for _, q := range before[p.Payer] {
				if q.Rank < p.Rank && q.ID != p.ID && stillQueued(l, p.Payer, q.ID) {
					t.Fatalf("message %d: %s settled while %s (higher priority) stays queued", i, p.ID, q.ID)
				}
			}
		}
	}
	if got := Snapshot(l); !proto.Equal(got, batch) {
		t.Fatal("the session snapshot differs from the batch output")
	}
}

func stillQueued(l *ledger.Ledger, account, id string) bool {
	for _, p := range l.Queued(account) {
		if p.ID == id {
			return true
		}
	}
	return false
}
