package payments

import (
	"context"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	paymentsv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/payments/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring/ringreplay"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// payments/processing through the runtime with JOURNAL durability on up to
// four fixture inputs fed as Split messages: the Snapshot equals the Batch
// output, the journal alone rebuilds byte-identical state, and the status
// changes emitted before the replies are the Batch's, in order.
func TestRingJournalReplay(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	k, _ := r.Get("payments/processing")
	ctx := context.Background()
	ran := 0
	for _, c := range fixture.KernelFile(t, fixture.DomainFiles(t, "payments"), k.ID).Cases {
		if c.ErrorField != "" || ran == 4 {
			continue
		}
		in := &paymentsv1.ProcessingInput{}
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatal(err)
		}
		want, err := k.RunCPU(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ran++
		got, events := ringreplay.Run(t, r, k.ID, in)
		if !proto.Equal(got, want) {
			t.Fatalf("%s: ring snapshot differs from Batch:\nbatch %.600s\nring  %.600s", c.Name, prototext.Format(want), prototext.Format(got))
		}
		log := want.(*paymentsv1.ProcessingOutput).GetEvents()
		if len(events) != len(log) {
			t.Fatalf("%s: %d events emitted, Batch has %d", c.Name, len(events), len(log))
		}
		for i := range log {
			if events[i].Kind != EventStatusChange || !proto.Equal(events[i].Payload, log[i]) {
				t.Fatalf("%s: event %d %v, Batch %v", c.Name, i, events[i].Payload, log[i])
			}
		}
	}
	if ran == 0 {
		t.Fatal("no fixture case ran")
	}
}

// A live ledger: an account opened by a data message can be funded and
// paid; a queued payment settles when its payer is funded (the ACSC is
// emitted with the Fund); refused messages change nothing.
func TestRingLedgerSession(t *testing.T) {
	ctx := context.Background()
	h := Processing.Ring()
	if err := h.Configure(ctx, &paymentsv1.ProcessingInput{Accounts: []*paymentsv1.PaymentAccount{{Id: "A", Currency: "EUR"}}}); err != nil {
		t.Fatal(err)
	}
	rc := foldtest.New(ctx, 1)
	msg := func(ms ...*paymentsv1.PaymentMessage) *paymentsv1.ProcessingInput {
		return &paymentsv1.ProcessingInput{Messages: ms}
	}
	fund := func(acc string, amt, ts int64) *paymentsv1.PaymentMessage {
		return &paymentsv1.PaymentMessage{Msg: &paymentsv1.PaymentMessage_Fund{Fund: &paymentsv1.Fund{Account: acc, AmountMinor: amt, Ts: ts}}}
	}
	pay := &paymentsv1.PaymentMessage{Msg: &paymentsv1.PaymentMessage_Submit{Submit: &paymentsv1.PaymentSubmit{Id: "p1", Payer: "A",
		Payee: "B", AmountMinor: 700, Currency: "EUR", Type: "INSTANT", Ts: 10}}}
	open := &paymentsv1.ProcessingInput{Accounts: []*paymentsv1.PaymentAccount{{Id: "B", Currency: "EUR"}}}
	for _, m := range []*paymentsv1.ProcessingInput{open, msg(fund("A", 500, 5)), msg(pay)} {
		if err := h.Apply(rc, m); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := h.MarshalState()
	for _, bad := range []struct {
		in    *paymentsv1.ProcessingInput
		field string
	}{
		{msg(fund("Z", 1, 11)), "messages[0].fund.account"},
		{msg(fund("A", 1, 9)), "messages[0]"},
		{open, "accounts[0].id"},
		{&paymentsv1.ProcessingInput{Config: &paymentsv1.ProcessingConfig{}}, "config"},
	} {
		err := h.Apply(rc, bad.in)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != bad.field {
			t.Errorf("error %v, want a field error on %s", err, bad.field)
		}
		if after, _ := h.MarshalState(); string(after) != string(before) {
			t.Fatal("a refused message changed the state")
		}
	}
	if err := h.Apply(rc, msg(fund("A", 300, 12))); err != nil {
		t.Fatal(err)
	}
	out, _ := h.Snapshot(ctx)
	o := out.(*paymentsv1.ProcessingOutput)
	bal := map[string]int64{}
	for _, a := range o.GetAccounts() {
		bal[a.GetId()] = a.GetBalanceMinor()
	}
	if bal["A"] != 100 || bal["B"] != 700 || len(rc.Kinds()) != 2 || o.GetPayments()[0].GetStatus() != "ACSC" {
		t.Fatalf("balances %v, events %v, payments %v", bal, rc.Kinds(), o.GetPayments())
	}
}
