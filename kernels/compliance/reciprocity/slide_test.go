package reciprocity

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

// batchWindow is the Batch output over txs with window [now-W+1, now+1).
func batchWindow(t *testing.T, txs []*financev1.Transaction, minAmount float64, w, now int64) *compliancev1.ReciprocityFlowOutput {
	t.Helper()
	ctx := context.Background()
	j, err := prepare(ctx, &compliancev1.ReciprocityFlowInput{Transactions: txs, MinAmount: minAmount,
		Window: &financev1.TimeWindow{Start: now - w + 1, End: now + 1}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Def.CPU(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func reciprocal(out *compliancev1.ReciprocityFlowOutput, a, b string) *compliancev1.ReciprocalPair {
	if a > b {
		a, b = b, a
	}
	for _, p := range out.Pairs {
		if p.A == a && p.B == b {
			return p
		}
	}
	return nil
}

// TestRingSlidingMatchesBatch: on random streams (repeated ts, self-loops,
// integer and fractional amounts, random message sizes), the sliding
// ring's Snapshot at random points equals Batch with window [now-W+1,
// now+1) over everything so far, bit for bit; a state restored halfway
// continues identically; and the alerts are exactly the transactions that
// turn their pair from not reciprocal (in the window just before it) to
// reciprocal (just after it), each carrying Batch's pair row.
func TestRingSlidingMatchesBatch(t *testing.T) {
	ctx := context.Background()
	checked, totalAlerts := 0, 0
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 11))
		w := []int64{1, 3, 10, 40}[seed%4]
		minAmount := float64(r.IntN(60))
		n, accounts := 400, 3+r.IntN(6)
		var txs []*financev1.Transaction
		ts := int64(1000)
		for i := range n {
			ts += int64(r.IntN(3)) // repeats and gaps
			if r.IntN(40) == 0 {
				ts += w // a gap that empties the window
			}
			amount := float64(1 + r.IntN(50))
			if seed%2 == 1 {
				amount = float64(r.IntN(10000)+1) / 100 // fractional: the re-add path
			}
			txs = append(txs, tx(fmt.Sprint("t", i), fmt.Sprint("e", r.IntN(accounts)), fmt.Sprint("e", r.IntN(accounts)), amount, ts))
		}
		ws := w
		h := configured(t, &compliancev1.ReciprocityFlowInput{MinAmount: minAmount, WindowSeconds: &ws})
		rc := foldtest.New(ctx, 1)
		var restored fold.Handler
		rc2 := foldtest.New(ctx, 1)
		wantAlerts := 0
		for i := 0; i < n; {
			k := min(n-i, 1+r.IntN(4))
			m := data(txs[i : i+k]...)
			before := len(rc.Events())
			if err := h.Apply(rc, m); err != nil {
				t.Fatal(err)
			}
			if restored != nil {
				if err := restored.Apply(rc2, m); err != nil {
					t.Fatal(err)
				}
			}
			// Brute-force alerts of this message, in order.
			var want []*compliancev1.ReciprocalPair
			for j := i; j < i+k; j++ {
				x := txs[j]
				if x.SourceId == x.DestId {
					continue
				}
				pre := reciprocal(batchWindow(t, txs[:j], minAmount, w, x.Ts), x.SourceId, x.DestId)
				post := reciprocal(batchWindow(t, txs[:j+1], minAmount, w, x.Ts), x.SourceId, x.DestId)
				if pre == nil && post != nil {
					want = append(want, post)
				}
			}
			got := rc.Events()[before:]
			if len(got) != len(want) {
				t.Fatalf("seed %d txs %d..%d: %d alerts, want %d", seed, i, i+k, len(got), len(want))
			}
			for a := range got {
				if !proto.Equal(got[a].Msg, want[a]) {
					t.Fatalf("seed %d: alert %v, want %v", seed, got[a].Msg, want[a])
				}
			}
			wantAlerts += len(want)
			i += k
			if r.IntN(5) == 0 || i == n {
				want := batchWindow(t, txs[:i], minAmount, w, txs[i-1].Ts)
				for _, hh := range []fold.Handler{h, restored} {
					if hh == nil {
						continue
					}
					got, err := hh.Snapshot(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if !proto.Equal(got, want) {
						t.Fatalf("seed %d after %d txs: snapshot differs from Batch:\nbatch %.400s\nring  %.400s", seed, i, prototext.Format(want), prototext.Format(got))
					}
					checked++
				}
			}
			if restored == nil && i >= n/2 {
				restored = foldtest.Restored(t, h, RingSpec.New)
			}
		}
		a, _ := h.MarshalState()
		b, _ := restored.MarshalState()
		if !bytes.Equal(a, b) {
			t.Fatalf("seed %d: restored state encodes differently", seed)
		}
		if wantAlerts < 1 {
			t.Fatalf("seed %d: no alert: the case checks too little", seed)
		}
		totalAlerts += wantAlerts
	}
	if checked < 40 || totalAlerts < 30 {
		t.Fatalf("only %d snapshot checks, %d alerts", checked, totalAlerts)
	}
}

// TestRingSlidingBounded: 100,000 transactions, 2 per second, over pairs
// of ever new entities (each pair lives ~50 s) with W = 30 s keep the
// state the size of one window's traffic, and the interned names with it;
// once everything has expired the state holds no flow, no queued
// transaction and no amount: expiry subtracted exactly (fractional
// amounts included).
func TestRingSlidingBounded(t *testing.T) {
	w, horizon := int64(30), int64(30)
	h := configured(t, &compliancev1.ReciprocityFlowInput{WindowSeconds: &w, IdHorizonSeconds: &horizon})
	rc := foldtest.New(context.Background(), 1)
	var small, peak int
	var all []*financev1.Transaction
	var restored fold.Handler
	rc2 := foldtest.New(context.Background(), 1)
	for i := range 100_000 {
		g := i / 100 // a new group of entities every 50 s
		src, dst := fmt.Sprint("g", g, "a", i%3), fmt.Sprint("g", g, "a", (i+1)%3)
		if i%2 == 1 {
			src, dst = dst, src
		}
		amount := float64(1+i%7) + float64(i%10)/10 // mixes integers and fractions
		x := tx(fmt.Sprint(i), src, dst, amount, int64(i/2))
		all = append(all, x)
		if err := h.Apply(rc, data(x)); err != nil {
			t.Fatal(err)
		}
		if restored != nil {
			if err := restored.Apply(rc2, data(x)); err != nil {
				t.Fatal(err)
			}
		}
		if i == 50_000 { // restore across many compactions
			restored = foldtest.Restored(t, h, RingSpec.New)
		}
		if i%1000 == 999 {
			b, _ := h.MarshalState()
			if i == 9999 {
				small = len(b)
			}
			peak = max(peak, len(b))
		}
	}
	if peak > small*3/2 {
		t.Fatalf("state grew from %d bytes (10k tx) to %d", small, peak)
	}
	a, _ := h.MarshalState()
	b, _ := restored.MarshalState()
	if !bytes.Equal(a, b) {
		t.Fatal("restored state encodes differently")
	}
	want := batchWindow(t, all, 0, w, all[len(all)-1].Ts)
	for _, hh := range []fold.Handler{h, restored} {
		got, _ := hh.Snapshot(context.Background())
		if !proto.Equal(got, want) || len(want.Pairs) == 0 {
			t.Fatalf("snapshot differs from Batch over the last window (%d pairs)", len(want.Pairs))
		}
	}
	s, _ := fold.State[RingState](h)
	st := s.st
	if q := len(st.queue) - st.qhead; q > 2*int(w) {
		t.Fatalf("%d queued transactions, want <= %d", q, 2*w)
	}
	if st.ents.Len() > 2*st.live+64 || len(st.queue) > 4*int(w)+128 {
		t.Fatalf("%d names for %d live entities, queue capacity %d", st.ents.Len(), st.live, len(st.queue))
	}
	if len(rc.Events()) < 900 {
		t.Fatalf("%d alerts: each group should alert", len(rc.Events()))
	}
	// A self-loop far later expires everything.
	if err := h.Apply(rc, data(tx("end", "z", "z", 1, 1_000_000))); err != nil {
		t.Fatal(err)
	}
	if len(st.flows) != 0 || st.qhead != len(st.queue) || st.live != 0 {
		t.Fatalf("after expiry: %d flows, %d queued, %d live entities", len(st.flows), len(st.queue)-st.qhead, st.live)
	}
	out, _ := h.Snapshot(context.Background())
	if got := out.(*compliancev1.ReciprocityFlowOutput); got.TotalAmount != 0 || len(got.Entities) != 0 || len(got.Pairs) != 0 {
		t.Fatalf("snapshot after expiry %v, want empty", got)
	}
}

// TestRingSlidingExact: integer amounts are subtracted in place and stay
// exact; a pair that expires out of reciprocity alerts again when it is
// reciprocal again; a refused message (even one whose ts would expire
// transactions) leaves the state unchanged.
func TestRingSlidingExact(t *testing.T) {
	w := int64(10)
	h := configured(t, &compliancev1.ReciprocityFlowInput{WindowSeconds: &w, MinAmount: 5})
	rc := foldtest.New(context.Background(), 1)
	steps := []struct {
		in     *compliancev1.ReciprocityFlowInput
		alerts int
	}{
		{data(tx("1", "a", "b", 5, 100), tx("2", "b", "a", 5, 101)), 1},
		{data(tx("3", "a", "b", 1<<52, 105)), 1},
		{data(tx("4", "a", "b", 3, 110)), 1}, // tx 1 expires: a→b 2^52+3, b→a 5: still reciprocal
		{data(tx("5", "x", "y", 1, 111)), 1}, // tx 2 expires: b→a gone, re-armed
		{data(tx("6", "b", "a", 4, 112)), 1}, // min 4 < 5
		{data(tx("7", "b", "a", 1, 113)), 2}, // min 5: alerts again
		{data(tx("8", "x", "y", 1, 115)), 2}, // tx 3 expires: a→b 3 < 5, re-armed
		{data(tx("9", "a", "b", 2, 116)), 3}, // a→b 5: third alert
	}
	for i, st := range steps {
		if err := h.Apply(rc, st.in); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if len(rc.Events()) != st.alerts {
			t.Fatalf("step %d: %d alerts, want %d", i, len(rc.Events()), st.alerts)
		}
	}
	s, _ := fold.State[RingState](h)
	ab, _ := s.st.ents.Lookup("a")
	bb, _ := s.st.ents.Lookup("b")
	if f := s.st.flows[key(ab, bb)]; f == nil || f.amount != 5 || f.count != 2 {
		t.Fatalf("a→b %+v, want 5 over 2 transactions", f)
	}
	before, _ := h.MarshalState()
	for _, bad := range []*compliancev1.ReciprocityFlowInput{
		data(tx("10", "a", "b", 1, 500), tx("9", "a", "b", 1, 500)),  // id 9 repeated
		data(tx("11", "a", "b", 1, 500), tx("12", "a", "b", 1, 400)), // ts goes back
		{WindowSeconds: &w, Transactions: []*financev1.Transaction{tx("13", "a", "b", 1, 500)}},
	} {
		if err := h.Apply(rc, bad); err == nil {
			t.Fatalf("%v accepted", bad)
		}
		after, _ := h.MarshalState()
		if !bytes.Equal(before, after) {
			t.Fatalf("refused %v changed the state", bad)
		}
	}
}

// TestRingSlidingConfigure: window_seconds must be >= 1 and not set with
// window (400 naming window_seconds); Batch ignores it.
func TestRingSlidingConfigure(t *testing.T) {
	ctx := context.Background()
	zero, ten := int64(0), int64(10)
	for _, cfg := range []*compliancev1.ReciprocityFlowInput{
		{WindowSeconds: &zero},
		{WindowSeconds: &ten, Window: &financev1.TimeWindow{Start: 0, End: 5}},
	} {
		err := RingSpec.New().Configure(ctx, cfg)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != "window_seconds" {
			t.Fatalf("%v: error %v, want one naming window_seconds", cfg, err)
		}
	}
	in := randomInput(3, 200, 6)
	in.Window = nil
	want := batchWindow(t, in.Transactions, in.MinAmount, 1<<41, 1<<40)
	in.WindowSeconds = &ten
	j, err := prepare(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Def.CPU(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) || len(want.Pairs) == 0 {
		t.Fatalf("Batch with window_seconds differs from Batch over everything (%d pairs)", len(want.Pairs))
	}
}
