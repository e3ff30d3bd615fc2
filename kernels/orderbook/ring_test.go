package orderbook

import (
	"context"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/ring/ringreplay"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// Every fixture stream (the Python engine's cases) fed to a JOURNAL ring
// one order per message: the Snapshot equals the Batch output, the journal
// alone rebuilds byte-identical state, and the events emitted before the
// replies are exactly the Batch event log in order, each order message
// followed by its order's state.
func TestRingJournalReplay(t *testing.T) {
	r := newRegistry(t)
	k, _ := r.Get("orderbook/matching")
	ctx := context.Background()
	ran := 0
	for _, c := range fixture.KernelFile(t, fixture.DomainFiles(t, "orderbook"), "orderbook/matching").Cases {
		if c.ErrorField != "" || ran == 4 {
			continue
		}
		in := &orderbookv1.MatchingInput{}
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
		log := want.(*orderbookv1.MatchingOutput).GetEvents()
		var i, states int
		for _, ev := range events {
			if ev.Kind == EventOrderState {
				states++
				continue
			}
			if i >= len(log) || !proto.Equal(ev.Payload, log[i]) {
				t.Fatalf("%s: emitted event %d %s %v, Batch log has %v", c.Name, i, ev.Kind, ev.Payload, log[i])
			}
			i++
		}
		if i != len(log) {
			t.Fatalf("%s: %d events emitted, Batch log has %d", c.Name, i, len(log))
		}
		if states == 0 {
			t.Fatalf("%s: no OrderState events", c.Name)
		}
	}
	if ran == 0 {
		t.Fatal("no fixture case ran")
	}
}

// A refused data message changes nothing: out-of-order ts, an empty
// message or config in a data message are 400s naming the field, and the
// book after them equals the book without them.
func TestRingRefusesWithoutChange(t *testing.T) {
	h := ringHandler()
	ctx := context.Background()
	if err := h.Configure(ctx, &orderbookv1.MatchingInput{Config: &orderbookv1.MatchingConfig{Symbols: []string{"X"}}}); err != nil {
		t.Fatal(err)
	}
	sub := func(id uint64, side string, price, qty, ts int64) *orderbookv1.MatchingInput {
		return &orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{{Msg: &orderbookv1.OrderMessage_Submit{
			Submit: &orderbookv1.Submit{OrderId: id, Symbol: "X", TraderId: "t-" + side, Side: side, Type: "LIMIT", Price: price, Qty: qty, Tif: "GTC", Ts: ts}}}}}
	}
	rc := foldtest.New(ctx, 1)
	if err := h.Apply(rc, sub(1, "BUY", 100, 5, 10)); err != nil {
		t.Fatal(err)
	}
	before, _ := h.MarshalState()
	two := sub(2, "SELL", 100, 5, 11)
	two.Messages = append(two.Messages, sub(3, "SELL", 99, 1, 9).Messages...) // second one goes back in time
	for _, bad := range []struct {
		msg   *orderbookv1.MatchingInput
		field string
	}{
		{two, "messages[1].ts"},
		{&orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{{}}}, "messages[0]"},
		{&orderbookv1.MatchingInput{Config: &orderbookv1.MatchingConfig{}}, "config"},
	} {
		err := h.Apply(rc, bad.msg)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != bad.field {
			t.Errorf("error %v, want a field error on %s", err, bad.field)
		}
		if after, _ := h.MarshalState(); string(after) != string(before) {
			t.Fatalf("state changed by a refused message")
		}
	}
	if err := h.Apply(rc, sub(2, "SELL", 100, 3, 11)); err != nil {
		t.Fatal(err)
	}
	// The fill is emitted before the taker's state.
	kinds := rc.Kinds()
	want := []string{EventAccepted, EventOrderState, EventAccepted, EventExecuted, EventOrderState}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
	}
}

func ringHandler() fold.Handler { return Matching.Ring() }
