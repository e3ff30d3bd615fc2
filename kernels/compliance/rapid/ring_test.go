package rapid

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
)

// randomInput: mule-like chains over a few accounts, several transactions
// per ts (inflows and outflows at equal ts), a window of 50 s.
func randomInput(seed uint64, n, accounts int) *compliancev1.RapidMovementInput {
	r := rand.New(rand.NewPCG(seed, 3))
	w, v := int64(50), int32(6)
	in := &compliancev1.RapidMovementInput{WindowSeconds: &w, VelocityThreshold: &v}
	for i := range n {
		in.Transactions = append(in.Transactions, &financev1.Transaction{
			Id: fmt.Sprint("t", i), SourceId: fmt.Sprint("e", r.IntN(accounts)), DestId: fmt.Sprint("e", r.IntN(accounts)),
			Amount: float64(r.IntN(100000)) / 100, Ts: int64(i / 3 * 7),
		})
	}
	return in
}

// TestRingRoundTrip: a state restored from MarshalState at any point (also
// inside a group of equal ts, with transactions pending) goes on exactly
// as the handler that never stopped, and both Snapshots equal Batch.
func TestRingRoundTrip(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(3) {
		in := randomInput(seed, 900, 10)
		h := RingSpec.New()
		cfg, msgs := h.Split(in)
		if err := h.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		rc := foldtest.New(ctx, 1)
		var restored []fold.Handler
		for i, m := range msgs {
			if i%97 == 1 {
				b, err := h.MarshalState()
				if err != nil {
					t.Fatal(err)
				}
				r := RingSpec.New()
				if err := r.UnmarshalState(b); err != nil {
					t.Fatal(err)
				}
				restored = append(restored, r)
			}
			for _, hh := range append([]fold.Handler{h}, restored...) {
				if err := hh.Apply(rc, m); err != nil {
					t.Fatal(err)
				}
			}
		}
		j, err := prepare(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Def.CPU(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		final, _ := h.MarshalState()
		for k, hh := range append([]fold.Handler{h}, restored...) {
			b, _ := hh.MarshalState()
			if !bytes.Equal(b, final) {
				t.Fatalf("seed %d: handler %d encodes differently", seed, k)
			}
			got, err := hh.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Fatalf("seed %d handler %d: snapshot differs from Batch:\nbatch %.300s\nring  %.300s", seed, k, prototext.Format(want), prototext.Format(got))
			}
		}
		if want.RapidAmount == 0 {
			t.Fatalf("seed %d: no rapid amount: the case checks nothing", seed)
		}
	}
}

// TestRingStateBounded: 40,000 transactions among 3 accounts over a long
// time (window 50 s, 7 s apart) leave each entity at most the events and
// lots of one window plus one merged aged lot; the encoded state after
// 40,000 is within a few bytes of the one after 4,000.
func TestRingStateBounded(t *testing.T) {
	ctx := context.Background()
	in := randomInput(9, 40000, 3)
	h := RingSpec.New()
	cfg, msgs := h.Split(in)
	if err := h.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	var small int
	for i, m := range msgs {
		if err := h.Apply(foldtest.New(ctx, 1), m); err != nil {
			t.Fatal(err)
		}
		if i == 3999 {
			b, _ := h.MarshalState()
			small = len(b)
		}
	}
	s, _ := fold.State[RingState](h)
	// 3 transactions per 7 s, each touching two entities: at most
	// 3*ceil(50/7)=24 events in a window per entity.
	for i, e := range s.st.rows {
		if n := len(e.open) - e.head; n > 24 {
			t.Errorf("entity %d holds %d open events", i, n)
		}
		if n := e.fifo.Len(); n > 25 {
			t.Errorf("entity %d holds %d lots", i, n)
		}
	}
	b, _ := h.MarshalState()
	if len(b) > small+small/10 {
		t.Fatalf("state grew from %d to %d bytes", small, len(b))
	}
}

// TestRingAlerts: after every message, the alerts emitted are exactly the
// Snapshot rows that turned flagged on since the previous message (the
// Snapshot before and after, compared entity by entity), in any order.
func TestRingAlerts(t *testing.T) {
	ctx := context.Background()
	total := 0
	for seed := range uint64(3) {
		in := randomInput(seed+20, 400, 8)
		a := 3000.0
		in.AmountThreshold = &a
		h := RingSpec.New()
		cfg, msgs := h.Split(in)
		if err := h.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		flagged := map[string]bool{}
		for k, m := range msgs {
			rc := foldtest.New(ctx, uint64(k+1))
			if err := h.Apply(rc, m); err != nil {
				t.Fatal(err)
			}
			snap, err := h.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]*compliancev1.RapidMovementEntity{}
			for _, r := range snap.(*compliancev1.RapidMovementOutput).Entities {
				if r.Flagged && !flagged[r.Id] {
					want[r.Id] = r
				}
				flagged[r.Id] = r.Flagged
			}
			alerts := foldtest.Emitted[*compliancev1.RapidMovementEntity](rc, EventAlert)
			if len(alerts) != len(want) {
				t.Fatalf("seed %d msg %d: %d alerts, want %d", seed, k, len(alerts), len(want))
			}
			for _, r := range alerts {
				if !proto.Equal(r, want[r.Id]) {
					t.Fatalf("seed %d msg %d: alert %v, want %v", seed, k, r, want[r.Id])
				}
			}
			total += len(alerts)
		}
	}
	if total < 5 {
		t.Fatalf("only %d alerts over the cases: they check little", total)
	}
}
