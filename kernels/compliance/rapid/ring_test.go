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
	"github.com/gokernels/gokernels/kernels/kerr"
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
				r := foldtest.Restored(t, h, RingSpec.New)
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

// TestRingIDWindow: the ring remembers the ids of the transactions inside
// the window W: an id repeated at a later ts less than W after its first
// use is refused naming transactions[i].id with the state unchanged (also
// after a state round trip); at W or later it is accepted; and the ids
// held never outnumber one window's transactions.
func TestRingIDWindow(t *testing.T) {
	ctx := context.Background()
	w := int64(50)
	h := RingSpec.New()
	if err := h.Configure(ctx, &compliancev1.RapidMovementInput{WindowSeconds: &w}); err != nil {
		t.Fatal(err)
	}
	tx := func(id string, ts int64) *financev1.Transaction {
		return &financev1.Transaction{Id: id, SourceId: "a", DestId: "b", Amount: 10, Ts: ts}
	}
	data := func(txs ...*financev1.Transaction) *compliancev1.RapidMovementInput {
		return &compliancev1.RapidMovementInput{Transactions: txs}
	}
	rc := foldtest.New(ctx, 1)
	if err := h.Apply(rc, data(tx("p", 100), tx("q", 120))); err != nil {
		t.Fatal(err)
	}
	refused := func(h fold.Handler, m *compliancev1.RapidMovementInput, field string) {
		t.Helper()
		before, _ := h.MarshalState()
		err := h.Apply(rc, m)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != field {
			t.Fatalf("%v: error %v, want one naming %s", m, err, field)
		}
		after, _ := h.MarshalState()
		if !bytes.Equal(before, after) {
			t.Fatalf("refused %v changed the state", m)
		}
	}
	refused(h, data(tx("p", 149)), "transactions[0].id")
	refused(h, data(tx("r", 130), tx("q", 169)), "transactions[1].id")
	h2 := foldtest.Restored(t, h, RingSpec.New)
	for _, hh := range []fold.Handler{h, h2} {
		refused(hh, data(tx("p", 149)), "transactions[0].id")
		if err := hh.Apply(rc, data(tx("p", 150))); err != nil { // 100 + W: p has left the window
			t.Fatalf("id past the window refused: %v", err)
		}
		refused(hh, data(tx("q", 160)), "transactions[0].id")
		if err := hh.Apply(rc, data(tx("q", 170))); err != nil {
			t.Fatalf("id past the window refused: %v", err)
		}
		got, err := hh.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if a := got.(*compliancev1.RapidMovementOutput).Entities[0]; a.OutAmount != 40 {
			t.Fatalf("a's out_amount %v, want 40 (four transactions)", a.OutAmount)
		}
	}
	a, _ := h.MarshalState()
	b2, _ := h2.MarshalState()
	if !bytes.Equal(a, b2) {
		t.Fatal("restored state diverged")
	}
	// Bounded: 3 transactions per 7 s with W = 50 leave at most 3*ceil(50/7)
	// = 24 ids remembered.
	in := randomInput(5, 20000, 4)
	h3 := RingSpec.New()
	cfg, msgs := h3.Split(in)
	if err := h3.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := h3.Apply(rc, m); err != nil {
			t.Fatal(err)
		}
		if s, _ := fold.State[RingState](h3); s.st.guard.Len() > 24 {
			t.Fatalf("%d ids remembered, more than one window's 24", s.st.guard.Len())
		}
	}
}
