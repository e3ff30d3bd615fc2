package clearing

import (
	"context"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	clearingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/clearing/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/ring"
	"github.com/gokernels/gokernels/ring/ringreplay"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// Both clearing Ring ids through the runtime with JOURNAL durability, on
// up to four fixture inputs each fed as Split messages: the Snapshot equals
// the Batch output, the journal alone rebuilds byte-identical state, and
// the emitted events are the Batch's matches (dvp) or settlements
// (settlement), in order.
func TestRingJournalReplay(t *testing.T) {
	r := newRegistry(t)
	ctx := context.Background()
	files := fixture.DomainFiles(t, "clearing")
	for _, id := range []string{"clearing/dvp-matching", "clearing/settlement"} {
		t.Run(id, func(t *testing.T) {
			k, _ := r.Get(id)
			ran := 0
			for _, c := range fixture.KernelFile(t, files, id).Cases {
				if c.ErrorField != "" || ran == 4 {
					continue
				}
				in := k.NewInput()
				if err := jsoninput.Decode(c.Input, in); err != nil {
					t.Fatal(err)
				}
				want, err := k.RunCPU(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				ran++
				got, events := ringreplay.Run(t, r, id, in)
				if !proto.Equal(got, want) {
					t.Fatalf("%s: ring snapshot differs from Batch:\nbatch %.600s\nring  %.600s", c.Name, prototext.Format(want), prototext.Format(got))
				}
				var log []proto.Message
				switch out := want.(type) {
				case *clearingv1.DvpMatchingOutput:
					for _, p := range out.GetPairs() {
						log = append(log, p)
					}
				case *clearingv1.SettlementOutput:
					for _, e := range out.GetEvents() {
						log = append(log, e)
					}
				}
				sameEvents(t, c.Name, events, log)
			}
			if ran == 0 {
				t.Fatal("no fixture case ran")
			}
		})
	}
}

func sameEvents(t *testing.T, name string, events []ring.Event, log []proto.Message) {
	t.Helper()
	if len(events) != len(log) {
		t.Fatalf("%s: %d events emitted, Batch has %d", name, len(events), len(log))
	}
	for i := range log {
		if !proto.Equal(events[i].Payload, log[i]) {
			t.Fatalf("%s: event %d (%s) %v, Batch %v", name, i, events[i].Kind, events[i].Payload, log[i])
		}
	}
}

// Settlement as a live ring: balances arrive, a transaction is added, a
// cycle settles it (emitted, both legs moved), a hold and a release work
// across messages, and refused messages change nothing.
func TestSettlementRingSession(t *testing.T) {
	ctx := context.Background()
	h := Settlement.Ring()
	if err := h.Configure(ctx, &clearingv1.SettlementInput{}); err != nil {
		t.Fatal(err)
	}
	rc := foldtest.New(ctx, 1)
	apply := func(in *clearingv1.SettlementInput) error { return h.Apply(rc, in) }
	must := func(in *clearingv1.SettlementInput) {
		t.Helper()
		if err := apply(in); err != nil {
			t.Fatal(err)
		}
	}
	must(&clearingv1.SettlementInput{BusinessDate: "2025-01-02",
		Securities: []*clearingv1.SecurityBalance{{Party: "S", Isin: "X", Quantity: 100}},
		Cash:       []*clearingv1.CashBalance{{Party: "B", Currency: "EUR", AmountMinor: 5000}},
		OnHold:     []string{"B"}})
	tx := &clearingv1.SettlementTx{Id: "t1", Deliverer: "S", Receiver: "B", Isin: "X", Quantity: 60, AmountMinor: 3000,
		Currency: "EUR", IntendedSettlementDate: "2025-01-02"}
	must(&clearingv1.SettlementInput{Transactions: []*clearingv1.SettlementTx{tx}, RunCycle: true})
	if len(rc.Kinds()) != 0 {
		t.Fatalf("settled while the receiver is on hold: %v", rc.Kinds())
	}
	before, _ := h.MarshalState()
	for _, bad := range []struct {
		in    *clearingv1.SettlementInput
		field string
	}{
		{&clearingv1.SettlementInput{Transactions: []*clearingv1.SettlementTx{tx}}, "transactions[0].id"},
		{&clearingv1.SettlementInput{Cash: []*clearingv1.CashBalance{{Party: "B", Currency: "EUR", AmountMinor: -1}}}, "cash[0].amount_minor"},
		{&clearingv1.SettlementInput{EligibleParties: []string{"B"}}, "eligible_parties"},
		{&clearingv1.SettlementInput{BusinessDate: "2025-02-30"}, "business_date"},
	} {
		err := apply(bad.in)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != bad.field {
			t.Errorf("error %v, want a field error on %s", err, bad.field)
		}
		if after, _ := h.MarshalState(); string(after) != string(before) {
			t.Fatal("a refused message changed the state")
		}
	}
	must(&clearingv1.SettlementInput{Release: []string{"B"}, RunCycle: true})
	if len(rc.Kinds()) != 1 || rc.Kinds()[0] != EventSettled {
		t.Fatalf("events %v, want one Settled", rc.Kinds())
	}
	out, err := h.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o := out.(*clearingv1.SettlementOutput)
	bal := map[string]int64{}
	for _, b := range o.GetSecurities() {
		bal[b.GetParty()+"/"+b.GetIsin()] = b.GetQuantity()
	}
	for _, c := range o.GetCash() {
		bal[c.GetParty()+"/"+c.GetCurrency()] = c.GetAmountMinor()
	}
	if bal["S/X"] != 40 || bal["B/X"] != 60 || bal["B/EUR"] != 2000 || bal["S/EUR"] != 3000 {
		t.Fatalf("balances %v after the settlement", bal)
	}
}

// DVP as a live ring: an instruction is cancelled, so its would-be
// counterpart matches the next one; a matched id cannot be cancelled.
func TestDvpRingCancel(t *testing.T) {
	ctx := context.Background()
	h := DvpMatching.Ring()
	if err := h.Configure(ctx, &clearingv1.DvpMatchingInput{}); err != nil {
		t.Fatal(err)
	}
	rc := foldtest.New(ctx, 1)
	ins := func(id, dir, party, cp string) *clearingv1.DvpMatchingInput {
		return &clearingv1.DvpMatchingInput{Instructions: []*clearingv1.SettlementInstruction{{Id: id, Direction: dir, Party: party,
			Counterparty: cp, Isin: "US0378331005", Quantity: 10, AmountMinor: 1000, Currency: "USD", TradeDate: "2025-01-02",
			IntendedSettlementDate: "2025-01-03"}}}
	}
	for _, m := range []*clearingv1.DvpMatchingInput{ins("d1", "DELI", "A", "B"), {Cancel: []string{"d1"}}, ins("d2", "DELI", "A", "B"), ins("r1", "RECE", "B", "A")} {
		if err := h.Apply(rc, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Apply(rc, &clearingv1.DvpMatchingInput{Cancel: []string{"d2"}}); err == nil {
		t.Fatal("cancelling a matched instruction was accepted")
	}
	out, _ := h.Snapshot(ctx)
	p := out.(*clearingv1.DvpMatchingOutput).GetPairs()
	if len(p) != 1 || p[0].GetDeliId() != "d2" || p[0].GetReceId() != "r1" || len(rc.Kinds()) != 1 {
		t.Fatalf("pairs %v, events %v", p, rc.Kinds())
	}
}

// The Ring-only fields are 400s naming them in a Batch input.
func TestBatchRefusesRingOnlyFields(t *testing.T) {
	ctx := context.Background()
	_, err := Settlement.Prepare(ctx, &clearingv1.SettlementInput{BusinessDate: "2025-01-02", Release: []string{"A"}})
	if fe, ok := kerr.AsField(err); !ok || fe.Field != "release" {
		t.Errorf("settlement with release: %v", err)
	}
	_, err = DvpMatching.Prepare(ctx, &clearingv1.DvpMatchingInput{Cancel: []string{"x"}})
	if fe, ok := kerr.AsField(err); !ok || fe.Field != "cancel" {
		t.Errorf("dvp with cancel: %v", err)
	}
}
