package amlpatterns

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
	"github.com/gokernels/gokernels/kernels/compliance/internal/replay"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/ring/ringreplay"
)

func tx(id, src, dst string, amount float64, ts int64) *financev1.Transaction {
	return &financev1.Transaction{Id: id, SourceId: src, DestId: dst, Amount: amount, Ts: ts}
}

func data(txs ...*financev1.Transaction) *compliancev1.AmlPatternsInput {
	return &compliancev1.AmlPatternsInput{Transactions: txs}
}

func batchOut(t testing.TB, cfg *compliancev1.AmlPatternsInput, txs []*financev1.Transaction) *compliancev1.AmlPatternsOutput {
	t.Helper()
	in := proto.Clone(cfg).(*compliancev1.AmlPatternsInput)
	in.Transactions = txs
	j, err := prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Def.CPU(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// detKey names a detection by what never changes once it exists: its
// pattern, anchor and first transaction.
func detKey(d *compliancev1.AmlDetection) string {
	return d.Pattern + "/" + d.Anchor + "/" + d.TxIds[0]
}

// randomStream: transactions among a few accounts, amounts clustered near
// a few values (so paths keep within the tolerance) and near the threshold
// (structuring), several per ts, self-loops included.
func randomStream(seed uint64, n, accounts int) []*financev1.Transaction {
	r := rand.New(rand.NewPCG(seed, 17))
	bases := []float64{800, 5000, 9000, 9500, 20000}
	txs := make([]*financev1.Transaction, n)
	ts := int64(1000)
	for i := range txs {
		ts += int64(r.IntN(3)) * int64(r.IntN(40))
		s, d := r.IntN(accounts), r.IntN(accounts)
		if r.IntN(25) == 0 {
			d = s
		}
		a := bases[r.IntN(len(bases))] * (0.95 + r.Float64()*0.1)
		txs[i] = tx(fmt.Sprint("t", i), fmt.Sprintf("e%02d", s), fmt.Sprintf("e%02d", d), float64(int64(a*100))/100, ts)
	}
	return txs
}

func configs() []*compliancev1.AmlPatternsInput {
	w, hops, fan := int64(600), int32(4), int32(3)
	w2, hops2, mc := int64(250), int32(5), int32(2)
	near := 0.3
	return []*compliancev1.AmlPatternsInput{
		{WindowSeconds: &w, MaxHops: &hops, FanDegree: &fan},
		{WindowSeconds: &w2, MaxHops: &hops2, MinStructuringCount: &mc, NearFraction: &near, Patterns: []string{"LAYERING", "ROUND_TRIP", "STRUCTURING"}},
		{Patterns: []string{"FUNNEL", "FAN_OUT"}},
	}
}

// TestRingMatchesBatchPrefixes: one transaction per message; after each,
// Snapshot equals the Batch output over the prefix, and the alerts emitted
// are exactly the detections that output has and the previous prefix's had
// not (by pattern, anchor and first transaction), each as that output
// lists it (tx ids cut to 64, amounts alongside).
func TestRingMatchesBatchPrefixes(t *testing.T) {
	ctx := context.Background()
	alerts := map[string]int{}
	for seed := range uint64(3) {
		for ci, cfg := range configs() {
			txs := randomStream(seed, 260, 9)
			h := RingSpec.New()
			if err := h.Configure(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			prev := map[string]bool{}
			for k, x := range txs {
				rc := foldtest.New(ctx, uint64(k+1))
				if err := h.Apply(rc, data(x)); err != nil {
					t.Fatal(err)
				}
				want := batchOut(t, cfg, txs[:k+1])
				got, err := h.Snapshot(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(got, want) {
					t.Fatalf("seed %d cfg %d tx %d: snapshot differs from Batch:\nbatch %s\nring  %s", seed, ci, k, prototext.Format(want), prototext.Format(got))
				}
				fresh := map[string]*compliancev1.AmlDetection{}
				now := map[string]bool{}
				for _, d := range want.Detections {
					now[detKey(d)] = true
					if !prev[detKey(d)] {
						fresh[detKey(d)] = d
					}
				}
				prev = now
				evs := foldtest.Emitted[*compliancev1.AmlPatternAlert](rc, EventAlert)
				if len(evs) != len(fresh) {
					t.Fatalf("seed %d cfg %d tx %d: %d alerts, Batch gained %d detections", seed, ci, k, len(evs), len(fresh))
				}
				for _, a := range evs {
					d := fresh[detKey(a.Detection)]
					if d == nil || !proto.Equal(a.Detection, d) || a.TxId != x.GetId() || int(a.TxCount) != len(d.TxIds) || len(a.Amounts) != len(d.TxIds) {
						t.Fatalf("seed %d cfg %d tx %d: alert %v, Batch detection %v", seed, ci, k, a, d)
					}
					alerts[d.Pattern]++
				}
				reply, _ := rc.Reply().(*compliancev1.AmlPatternsReply)
				if reply == nil || int(reply.NewDetections) != len(evs) || (len(evs) > 0 && reply.PatternsMatched == 0) {
					t.Fatalf("seed %d cfg %d tx %d: reply %v with %d alerts", seed, ci, k, reply, len(evs))
				}
			}
		}
	}
	for _, p := range []string{"STRUCTURING", "FUNNEL", "FAN_OUT", "ROUND_TRIP", "LAYERING"} {
		if alerts[p] < 3 {
			t.Errorf("only %d %s alerts over the streams: they check little (%v)", alerts[p], p, alerts)
		}
	}
}

// TestRingFixturesAndRestore: every fixture input fed in messages of 1 to
// 4 transactions, through the handler and through handlers restored from
// MarshalState along the way, gives the Batch output and equal encodings.
func TestRingFixturesAndRestore(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, newIn) {
		h := RingSpec.New()
		cfg, msgs := h.Split(in)
		if err := h.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(3, 3))
		var restored []fold.Handler
		for i := 0; i < len(msgs); {
			j := min(len(msgs), i+1+r.IntN(4))
			m := data()
			for _, mm := range msgs[i:j] {
				m.Transactions = append(m.Transactions, mm.(*compliancev1.AmlPatternsInput).Transactions...)
			}
			for _, hh := range append([]fold.Handler{h}, restored...) {
				if err := hh.Apply(foldtest.New(ctx, 1), m); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			if r.IntN(6) == 0 {
				hh := foldtest.Restored(t, h, RingSpec.New)
				restored = append(restored, hh)
			}
			i = j
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
			got, err := hh.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Fatalf("%s handler %d: snapshot differs from Batch:\nbatch %.600s\nring  %.600s", name, k, prototext.Format(want), prototext.Format(got))
			}
			if b, _ := hh.MarshalState(); !bytes.Equal(b, final) {
				t.Fatalf("%s: handler %d encodes differently", name, k)
			}
		}
	}
}

// TestRingStateBounded: 60,000 transactions among 40 accounts with a 100 s
// window, one per second, keep one window of traffic: the encoded state
// after 60,000 is within a few percent of the one after 20,000 when no
// pattern fires (thresholds out of reach), and the per-anchor candidates
// and in-edge index never hold more than a window's transactions.
func TestRingStateBounded(t *testing.T) {
	ctx := context.Background()
	w, fan, hops := int64(100), int32(1000), int32(3)
	tol := 0.0
	h := RingSpec.New()
	if err := h.Configure(ctx, &compliancev1.AmlPatternsInput{WindowSeconds: &w, FanDegree: &fan, MaxHops: &hops, AmountTolerance: &tol}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 4))
	rc := foldtest.New(ctx, 1)
	var small int
	for i := range 60_000 {
		// Distinct amounts (tolerance 0: no path), never near the threshold.
		x := tx(fmt.Sprint(i), fmt.Sprint("a", r.IntN(40)), fmt.Sprint("a", r.IntN(40)), 1+float64(i)/1e4, int64(i))
		if err := h.Apply(rc, data(x)); err != nil {
			t.Fatal(err)
		}
		if i == 19_999 {
			b, _ := h.MarshalState()
			small = len(b)
		}
	}
	b, _ := h.MarshalState()
	if len(b) > small+small/20 {
		t.Fatalf("state grew from %d to %d bytes", small, len(b))
	}
	s, _ := fold.State[RingState](h)
	held := 0
	for _, l := range s.into {
		held += len(l)
	}
	for _, m := range s.anchors {
		for _, as := range m {
			held += len(as.cand)
		}
	}
	// Each transaction sits in at most one in-list and two anchors' windows
	// (FUNNEL, FAN_OUT), for a window of 100 and some stale idle entries.
	if held > 3*(100+40*4) || len(s.dets) != 0 || s.guard.Len() > 101 {
		t.Fatalf("state holds %d transactions, %d detections, %d ids", held, len(s.dets), s.guard.Len())
	}
	if len(rc.Events()) != 0 {
		t.Fatalf("%d alerts, want none", len(rc.Events()))
	}
}

// TestRingRefused: a message that goes back in time, repeats an id within
// the window, sets a parameter or exceeds the path-search budget is refused
// naming the field, and leaves the state as it was.
func TestRingRefused(t *testing.T) {
	ctx := context.Background()
	w := int64(50)
	h := RingSpec.New()
	if err := h.Configure(ctx, &compliancev1.AmlPatternsInput{WindowSeconds: &w}); err != nil {
		t.Fatal(err)
	}
	rc := foldtest.New(ctx, 1)
	if err := h.Apply(rc, data(tx("1", "a", "b", 100, 10), tx("2", "b", "c", 100, 11), tx("3", "c", "a", 100, 12))); err != nil {
		t.Fatal(err)
	}
	// a→b→c→a is a round trip of a (the window patterns need more).
	if as := foldtest.Emitted[*compliancev1.AmlPatternAlert](rc, EventAlert); len(as) != 1 || as[0].Detection.Pattern != "ROUND_TRIP" || as[0].TxCount != 3 {
		t.Fatalf("alerts %v, want the round trip", as)
	}
	before, _ := h.MarshalState()
	lim := limits.Default()
	lim.MaxIterations = 1 // a budget of 16 search steps
	tight := RingSpec.New()
	if err := tight.Configure(limits.With(ctx, lim), &compliancev1.AmlPatternsInput{WindowSeconds: &w}); err != nil {
		t.Fatal(err)
	}
	var fan []*financev1.Transaction
	for i := range 20 {
		fan = append(fan, tx(fmt.Sprint("f", i), fmt.Sprint("s", i), "hub", 100, 20))
	}
	if err := tight.Apply(rc, data(fan...)); err != nil {
		t.Fatal(err)
	}
	tightBefore, _ := tight.MarshalState()
	for _, c := range []struct {
		h     fold.Handler
		m     *compliancev1.AmlPatternsInput
		field string
		was   []byte
	}{
		{h, data(tx("4", "a", "b", 1, 13), tx("5", "b", "a", 1, 12)), "transactions[1].ts", before},
		{h, data(tx("6", "c", "d", 1, 11)), "transactions[0].ts", before},
		{h, data(tx("1", "d", "a", 1, 40)), "transactions[0].id", before}, // id 1 at ts 10: 40-10 < 50
		{h, data(tx("7", "a", "d", 1, 13), tx("7", "d", "a", 1, 14)), "transactions[1].id", before},
		{h, &compliancev1.AmlPatternsInput{Threshold: &w2f, Transactions: []*financev1.Transaction{tx("8", "a", "b", 1, 13)}}, "threshold", before},
		{tight, data(tx("g", "hub", "x", 100, 21)), "transactions", tightBefore},
	} {
		err := c.h.Apply(rc, c.m)
		fe, ok := kerr.AsField(err)
		if !ok || fe.Field != c.field {
			t.Fatalf("%v: error %v, want one naming %s", c.m, err, c.field)
		}
		if after, _ := c.h.MarshalState(); !bytes.Equal(c.was, after) {
			t.Fatalf("refused %v changed the state", c.m)
		}
	}
	// Id 1 is forgotten once 50 s have passed.
	if err := h.Apply(rc, data(tx("1", "d", "a", 1, 60))); err != nil {
		t.Fatal(err)
	}
}

var w2f = 5000.0

// BenchmarkRingApply: one transaction per message among 500 accounts, one
// per second, a one-hour window and the default patterns, after 10k and
// 100k prior messages; equal costs mean Apply does not grow with the
// history (only the window's traffic).
func BenchmarkRingApply(b *testing.B) {
	w := int64(3600)
	msg := func(i int) proto.Message {
		r := rand.New(rand.NewPCG(uint64(i), 98))
		return data(tx(fmt.Sprint("t", i), fmt.Sprint("a", r.IntN(500)), fmt.Sprint("a", r.IntN(500)),
			float64(100+r.IntN(2_000_000))/100, int64(i)))
	}
	for _, prior := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint("prior=", prior), func(b *testing.B) {
			ringreplay.BenchApply(b, RingSpec.New(), &compliancev1.AmlPatternsInput{WindowSeconds: &w}, prior, msg)
		})
	}
}
