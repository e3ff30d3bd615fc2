package banking

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	bankingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/banking/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/banking/fraud"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring/ringreplay"
	"github.com/gokernels/gokernels/server/jsoninput"
)

func fixtureInputs(t *testing.T, k *registry.Kernel) []proto.Message {
	var out []proto.Message
	for _, c := range fixture.KernelFile(t, fixture.DomainFiles(t, "banking"), k.ID).Cases {
		if c.ErrorField != "" {
			continue
		}
		in := k.NewInput()
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatal(err)
		}
		out = append(out, in)
	}
	return out
}

// TestRingReplayLaw: every fixture input, fed to the handler as Split's
// messages with a MarshalState/UnmarshalState round trip half-way, then
// Snapshot, equals Batch; each message emits its result, and an alert
// exactly for HOLD and BLOCK; a repeated or older transaction is refused
// and leaves the state as it was.
func TestRingReplayLaw(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k, _ := r.Get(fraud.Def.ID)
	for ci, in := range fixtureInputs(t, k) {
		want, err := k.RunCPU(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		results := want.(*bankingv1.FraudPatternMatchOutput).Results
		h, _ := k.RingHandler()
		cfg, data := h.Split(in)
		if err := h.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		for i, msg := range data {
			if i == len(data)/2 {
				st, err := h.MarshalState()
				if err != nil {
					t.Fatal(err)
				}
				h, _ = k.RingHandler()
				if err := h.UnmarshalState(st); err != nil {
					t.Fatal(err)
				}
				again, _ := h.MarshalState()
				if !bytes.Equal(st, again) {
					t.Fatalf("case %d: state encoding is not stable across a round trip", ci)
				}
			}
			rc := foldtest.New(ctx, uint64(i+1))
			if err := h.Apply(rc, msg); err != nil {
				t.Fatalf("case %d: apply %d: %v", ci, i, err)
			}
			wantEvents := []string{fraud.EventResult}
			if a := results[i].Action; a == "HOLD" || a == "BLOCK_AND_ALERT" {
				wantEvents = append(wantEvents, fraud.EventAlert)
			}
			if len(rc.Kinds()) != len(wantEvents) || rc.Kinds()[0] != wantEvents[0] || rc.Kinds()[len(rc.Kinds())-1] != wantEvents[len(wantEvents)-1] {
				t.Fatalf("case %d tx %d (%s): events %v, want %v", ci, i, results[i].Action, rc.Kinds(), wantEvents)
			}
		}
		got, err := h.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("case %d: ring snapshot differs from Batch", ci)
		}
		if len(data) > 1 {
			before, _ := h.MarshalState()
			if err := h.Apply(foldtest.New(ctx, 1<<30), data[len(data)-1]); err == nil {
				t.Fatalf("case %d: a repeated transaction was accepted", ci)
			}
			old := proto.Clone(data[0]).(*bankingv1.FraudPatternMatchInput)
			old.Transactions[0].Id = "fresh-id"
			old.Transactions[0].Ts = -1 << 40
			if err := h.Apply(foldtest.New(ctx, 1<<30), old); err == nil {
				t.Fatalf("case %d: a transaction older than the last was accepted", ci)
			}
			after, _ := h.MarshalState()
			if !bytes.Equal(before, after) {
				t.Fatalf("case %d: a refused message changed the state", ci)
			}
		}
	}
}

// TestRingJournalReplay: through the runtime with JOURNAL durability the
// snapshot equals Batch and the journal alone rebuilds the same state
// bytes; the result events are the Batch results in order.
func TestRingJournalReplay(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	k, _ := r.Get(fraud.Def.ID)
	ran := 0
	for ci, in := range fixtureInputs(t, k) {
		if ran == 3 {
			break
		}
		want, err := k.RunCPU(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		results := want.(*bankingv1.FraudPatternMatchOutput).Results
		if len(results) < 2 {
			continue
		}
		ran++
		got, events := ringreplay.Run(t, r, fraud.Def.ID, in)
		if !proto.Equal(got, want) {
			t.Fatalf("case %d: ring snapshot differs from Batch", ci)
		}
		n := 0
		for _, ev := range events {
			if ev.Kind == fraud.EventResult {
				if !proto.Equal(ev.Payload, results[n]) {
					t.Fatalf("case %d: result event %d differs from Batch", ci, n)
				}
				n++
			}
		}
		if n != len(results) {
			t.Fatalf("case %d: %d result events for %d transactions", ci, n, len(results))
		}
	}
	if ran == 0 {
		t.Fatal("no fixture case ran")
	}
}

// TestRingHistoryIsBounded: a day-long window over a month of hourly
// transactions keeps at most a day of history, while every transaction is
// still scored as Batch scores it.
func TestRingHistoryIsBounded(t *testing.T) {
	in := &bankingv1.FraudPatternMatchInput{Patterns: []*bankingv1.FraudPattern{
		{Id: "s", Type: "RAPID_SPLIT", Weight: 100},
		{Id: "c", Type: "CIRCULAR_FLOW", Weight: 100},
		{Id: "l", Type: "LAYERING", Weight: 50},
	}}
	accounts := []string{"a", "b", "c", "d"}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 24 * 30 {
		in.Transactions = append(in.Transactions, &financev1.Transaction{
			Id: fmt.Sprintf("t%04d", i), SourceId: accounts[rng.IntN(4)], DestId: accounts[rng.IntN(4)],
			Amount: 8000 + float64(rng.IntN(2000)), Ts: int64(i) * 3600,
		})
	}
	ctx := context.Background()
	j, err := fraud.Def.Prepare(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := fraud.Def.CPU(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	h := fraud.RingSpec.New()
	cfg, data := h.Split(in)
	if err := h.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	maxHist := 0
	for i, m := range data {
		if err := h.Apply(foldtest.New(ctx, uint64(i+1)), m); err != nil {
			t.Fatal(err)
		}
		st, _ := fold.State[fraud.RingState](h)
		maxHist = max(maxHist, st.HistoryLen())
	}
	if maxHist > 24 {
		t.Fatalf("history held %d transactions; a 24 h window over hourly transactions needs at most 24", maxHist)
	}
	got, _ := h.Snapshot(ctx)
	if !proto.Equal(got, want) {
		t.Fatal("bounded ring differs from Batch")
	}
}
