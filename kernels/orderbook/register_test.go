package orderbook

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/orderbook/book"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// The Go engine reproduces the Python reference engine's event log, order
// rows and book exactly (scripts/fixtures/markets_orderbook.py); registered
// kernels and fixture files match one to one.
func TestFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "orderbook", nil)
}

// Replay law: applying the messages one at a time to a fresh engine (a Ring
// session) and taking Snapshot after any prefix equals the Batch output of
// that prefix; out-of-order ts in a Batch input are applied in ts order.
func TestReplayLaw(t *testing.T) {
	files := fixture.DomainFiles(t, "orderbook")
	f := fixture.KernelFile(t, files, "orderbook/matching")
	ctx := context.Background()
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		in := &orderbookv1.MatchingInput{}
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatal(err)
		}
		cfg, err := Config(in.GetConfig())
		if err != nil {
			t.Fatal(err)
		}
		session := book.New(cfg)
		for i, m := range in.GetMessages() {
			msg := Msg(m)
			session.Apply(&msg)
			if i%37 != 0 && i != len(in.GetMessages())-1 {
				continue
			}
			prefix := &orderbookv1.MatchingInput{Config: in.GetConfig(), Messages: in.GetMessages()[:i+1]}
			job, err := prepare(ctx, prefix)
			if err != nil {
				t.Fatal(err)
			}
			batch, err := run(ctx, job)
			if err != nil {
				t.Fatal(err)
			}
			if got := Output(session); !proto.Equal(got, batch) {
				t.Fatalf("%s: after %d messages the session snapshot differs from the batch output", c.Name, i+1)
			}
		}
	}
	// ts order wins over list order in a batch input.
	sub := func(id uint64, side string, ts int64) *orderbookv1.OrderMessage {
		return &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Submit{Submit: &orderbookv1.Submit{
			OrderId: id, Symbol: "X", Side: side, Type: "LIMIT", Price: 10, Qty: 1, Ts: ts}}}
	}
	job, err := prepare(ctx, &orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{sub(2, "BUY", 5), sub(1, "SELL", 3)}})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := run(ctx, job)
	ex := out.GetEvents()[2].GetExecuted()
	if ex == nil || ex.GetMakerId() != 1 || ex.GetTakerId() != 2 {
		t.Fatalf("events %v: want order 1 (ts 3) resting and order 2 (ts 5) taking", out.GetEvents())
	}
}
