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

func tx(id, src, dst string, amount float64, ts int64) *financev1.Transaction {
	return &financev1.Transaction{Id: id, SourceId: src, DestId: dst, Amount: amount, Ts: ts}
}

func data(txs ...*financev1.Transaction) *compliancev1.ReciprocityFlowInput {
	return &compliancev1.ReciprocityFlowInput{Transactions: txs}
}

func configured(t *testing.T, cfg *compliancev1.ReciprocityFlowInput) fold.Handler {
	t.Helper()
	h := RingSpec.New()
	if err := h.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRingAlert: the alert fires once, at the transaction that makes the
// pair's min reach min_amount with both directions present, carrying the
// sums at that point; a refused message (ts out of order, duplicate id,
// a parameter) changes nothing.
func TestRingAlert(t *testing.T) {
	h := configured(t, &compliancev1.ReciprocityFlowInput{MinAmount: 50})
	rc := foldtest.New(context.Background(), 1)
	steps := []struct {
		in     *compliancev1.ReciprocityFlowInput
		alerts int // total alerts after the step
	}{
		{data(tx("1", "a", "b", 30, 10)), 0},
		{data(tx("2", "b", "a", 60, 11), tx("3", "c", "a", 500, 11)), 0}, // min 30 < 50; c→a one way
		{data(tx("4", "a", "b", 30, 12)), 1},                             // a→b 60, b→a 60: min 60 >= 50
		{data(tx("5", "b", "a", 10, 13), tx("6", "a", "b", 5, 13)), 1},   // still reciprocal: no second alert
		{data(tx("7", "a", "a", 900, 14)), 1},                            // self-loop: ignored
	}
	for i, st := range steps {
		if err := h.Apply(rc, st.in); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if len(rc.Events()) != st.alerts {
			t.Fatalf("step %d: %d alerts, want %d", i, len(rc.Events()), st.alerts)
		}
	}
	want := &compliancev1.ReciprocalPair{A: "a", B: "b", AmountAb: 60, AmountBa: 60, CountAb: 2, CountBa: 1, Reciprocated: 60}
	if rc.Events()[0].Kind != EventAlert || !proto.Equal(rc.Events()[0].Msg, want) {
		t.Fatalf("alert %s %v, want %s %v", rc.Events()[0].Kind, rc.Events()[0].Msg, EventAlert, want)
	}
	before, err := h.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*compliancev1.ReciprocityFlowInput{
		data(tx("8", "a", "b", 1, 14), tx("9", "a", "b", 1, 13)), // ts goes back inside the message
		data(tx("7", "b", "a", 1, 14)),                           // id 7 was applied at ts 14
		data(tx("8", "x", "y", 1, 14), tx("8", "y", "x", 1, 14)), // duplicate inside the message
		{MinAmount: 1, Transactions: []*financev1.Transaction{tx("10", "a", "b", 1, 15)}},
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

// randomInput is a seeded transaction list over a few accounts, with
// repeated ts, self-loops and a window.
func randomInput(seed uint64, n, accounts int) *compliancev1.ReciprocityFlowInput {
	r := rand.New(rand.NewPCG(seed, 7))
	in := &compliancev1.ReciprocityFlowInput{MinAmount: 40, Window: &financev1.TimeWindow{Start: 5, End: int64(n/2 + 5)}}
	for i := range n {
		in.Transactions = append(in.Transactions, tx(fmt.Sprint("t", i), fmt.Sprint("e", r.IntN(accounts)),
			fmt.Sprint("e", r.IntN(accounts)), float64(r.IntN(10000))/100, int64(i/3)))
	}
	return in
}

// TestRingRoundTrip: Snapshot equals Batch after the whole feed, and a
// state restored from MarshalState halfway answers and encodes exactly as
// the handler that never stopped.
func TestRingRoundTrip(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(4) {
		in := randomInput(seed, 600, 12)
		h := RingSpec.New()
		cfg, msgs := h.(interface {
			Split(proto.Message) (proto.Message, []proto.Message)
		}).Split(in)
		if err := h.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		rc := foldtest.New(ctx, 1)
		var restored fold.Handler
		rc2 := foldtest.New(ctx, 1)
		for i, m := range msgs {
			if i == len(msgs)/2 {
				restored = foldtest.Restored(t, h, RingSpec.New)
			}
			if err := h.Apply(rc, m); err != nil {
				t.Fatal(err)
			}
			if restored != nil {
				if err := restored.Apply(rc2, m); err != nil {
					t.Fatal(err)
				}
			}
		}
		a, _ := h.MarshalState()
		b, _ := restored.MarshalState()
		if !bytes.Equal(a, b) {
			t.Fatalf("seed %d: restored state encodes differently", seed)
		}
		j, err := prepare(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Def.CPU(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		for _, hh := range []fold.Handler{h, restored} {
			got, err := hh.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Fatalf("seed %d: snapshot differs from Batch:\nbatch %.300s\nring  %.300s", seed, prototext.Format(want), prototext.Format(got))
			}
		}
		if len(want.Pairs) == 0 {
			t.Fatalf("seed %d: no reciprocal pairs: the case checks nothing", seed)
		}
		// One alert per reported pair, and the later alerts of rc2 are a
		// suffix of rc's (the restored handler kept the alerted flags).
		if len(rc.Events()) < len(want.Pairs) {
			t.Fatalf("seed %d: %d alerts for %d reciprocal pairs", seed, len(rc.Events()), len(want.Pairs))
		}
		all, later := rc.Events(), rc2.Events()
		for i, e := range later {
			if !proto.Equal(e.Msg, all[len(all)-len(later)+i].Msg) {
				t.Fatalf("seed %d: restored handler's alert %d differs", seed, i)
			}
		}
	}
}

// TestRingStateBounded: 30,000 transactions cycling over the same 4 pairs
// (2 per second) with a 60 s id horizon leave a state the size of the one
// after 3,000 (only sums and counts grow in place, and the remembered ids
// are those of the last 60 s: 120, their ids and ts a digit longer), with
// 4 flows.
func TestRingStateBounded(t *testing.T) {
	horizon := int64(60)
	h := configured(t, &compliancev1.ReciprocityFlowInput{IdHorizonSeconds: &horizon})
	rc := foldtest.New(context.Background(), 1)
	pairs := [][2]string{{"a", "b"}, {"b", "a"}, {"c", "d"}, {"d", "c"}}
	var small int
	for i := range 30000 {
		p := pairs[i%len(pairs)]
		if err := h.Apply(rc, data(tx(fmt.Sprint(i), p[0], p[1], 1, int64(i/2)))); err != nil {
			t.Fatal(err)
		}
		if i == 2999 {
			b, _ := h.MarshalState()
			small = len(b)
		}
	}
	b, _ := h.MarshalState()
	if len(b) > small+16+2*120 { // counts gain a digit: 750 → 7500; ids 2999 → 29999, ts 1499 → 14999
		t.Fatalf("state grew from %d to %d bytes", small, len(b))
	}
	s, _ := fold.State[RingState](h)
	if len(s.st.flows) != 4 || s.st.guard.Len() > 120 || s.st.ents.Len() != 4 {
		t.Fatalf("state holds %d flows, %d ids, %d entities", len(s.st.flows), s.st.guard.Len(), s.st.ents.Len())
	}
	if len(rc.Events()) != 2 {
		t.Fatalf("%d alerts, want one per pair (2)", len(rc.Events()))
	}
}

// TestRingIDHorizon: an id repeated at a later ts inside the id horizon is
// refused naming transactions[i].id with the state unchanged (also when
// the repeat comes in the same message, and after a state round trip);
// once the first use has fallen out of the horizon the id is accepted.
func TestRingIDHorizon(t *testing.T) {
	horizon := int64(100)
	h := configured(t, &compliancev1.ReciprocityFlowInput{IdHorizonSeconds: &horizon})
	rc := foldtest.New(context.Background(), 1)
	for _, m := range []*compliancev1.ReciprocityFlowInput{
		data(tx("p", "a", "b", 5, 1000)),
		data(tx("q", "b", "a", 5, 1050)),
	} {
		if err := h.Apply(rc, m); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(h fold.Handler, m *compliancev1.ReciprocityFlowInput, field string) {
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
	refused(h, data(tx("p", "a", "b", 5, 1099)), "transactions[0].id")                             // 99 s after p
	refused(h, data(tx("r", "a", "b", 5, 1060), tx("q", "c", "d", 1, 1149)), "transactions[1].id") // 99 s after q
	refused(h, data(tx("s", "a", "b", 5, 1070), tx("s", "c", "d", 1, 1080)), "transactions[1].id") // within the message
	h2 := foldtest.Restored(t, h, RingSpec.New)
	refused(h2, data(tx("p", "a", "b", 5, 1099)), "transactions[0].id")
	for _, hh := range []fold.Handler{h, h2} {
		// p (ts 1000) is forgotten at 1100; q (1050) is still remembered.
		if err := hh.Apply(rc, data(tx("p", "a", "b", 7, 1100))); err != nil {
			t.Fatalf("id past the horizon refused: %v", err)
		}
		refused(hh, data(tx("q", "a", "b", 5, 1100)), "transactions[0].id")
		if err := hh.Apply(rc, data(tx("q", "a", "b", 5, 1150))); err != nil {
			t.Fatalf("id past the horizon refused: %v", err)
		}
		s, _ := fold.State[RingState](hh)
		if got := s.st.flows[key(0, 1)]; got == nil || got.count != 3 || got.amount != 17 {
			t.Fatalf("a→b flow %+v, want 3 transactions worth 17", got)
		}
		if s.st.guard.Len() != 2 {
			t.Fatalf("%d ids remembered, want 2 (p at 1100, q at 1150)", s.st.guard.Len())
		}
	}
	a, _ := h.MarshalState()
	b2, _ := h2.MarshalState()
	if !bytes.Equal(a, b2) {
		t.Fatal("restored state diverged")
	}
	var zero int64
	if err := RingSpec.New().Configure(context.Background(), &compliancev1.ReciprocityFlowInput{IdHorizonSeconds: &zero}); err == nil {
		t.Fatal("id_horizon_seconds 0 accepted")
	}
}
