package circular

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/ring/ringreplay"
)

func tx(id, src, dst string, amount float64, ts int64) *financev1.Transaction {
	return &financev1.Transaction{Id: id, SourceId: src, DestId: dst, Amount: amount, Ts: ts}
}

func data(txs ...*financev1.Transaction) *compliancev1.CircularFlowInput {
	return &compliancev1.CircularFlowInput{Transactions: txs}
}

func configured(t testing.TB, cfg *compliancev1.CircularFlowInput) fold.Handler {
	t.Helper()
	h := RingSpec.New()
	if err := h.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return h
}

// randomStream: transactions among a few accounts that mostly move
// "forward" (to a higher account), so cycles close one at a time as the
// rarer backward transfers arrive; self-loops, repeated pairs and several
// transactions per ts included.
func randomStream(seed uint64, n, accounts int) []*financev1.Transaction {
	r := rand.New(rand.NewPCG(seed, 11))
	txs := make([]*financev1.Transaction, n)
	for i := range txs {
		s := r.IntN(accounts)
		d := s + 1 + r.IntN(3)
		switch x := r.IntN(20); {
		case x == 0:
			d = s
		case x < 3:
			d = r.IntN(accounts)
		}
		txs[i] = tx(fmt.Sprint("t", i), fmt.Sprintf("e%02d", s), fmt.Sprintf("e%02d", d%accounts),
			float64(1+r.IntN(99999))/100, int64(i/3))
	}
	return txs
}

func batch(t testing.TB, cfg *compliancev1.CircularFlowInput, txs []*financev1.Transaction) *compliancev1.CircularFlowOutput {
	t.Helper()
	in := proto.Clone(cfg).(*compliancev1.CircularFlowInput)
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

// sccSize is the brute-force size of src's SCC in txs: the entities src
// reaches that reach it back.
func sccSize(txs []*financev1.Transaction, src string) int32 {
	adj, radj := map[string][]string{}, map[string][]string{}
	for _, t := range txs {
		adj[t.GetSourceId()] = append(adj[t.GetSourceId()], t.GetDestId())
		radj[t.GetDestId()] = append(radj[t.GetDestId()], t.GetSourceId())
	}
	reach := func(g map[string][]string) map[string]bool {
		seen, stack := map[string]bool{src: true}, []string{src}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, w := range g[v] {
				if !seen[w] {
					seen[w] = true
					stack = append(stack, w)
				}
			}
		}
		return seen
	}
	fwd, back := reach(adj), reach(radj)
	n := int32(0)
	for v := range fwd {
		if back[v] {
			n++
		}
	}
	return n
}

// TestRingAlertsMatchBatch: one transaction per message; after each, the
// alerts emitted are exactly the SCC member sets that the Batch output over
// the prefix has and the Batch output over the previous prefix had not,
// each with the Batch row's internal amount and count bit for bit; the
// reply's SCC size is the brute-force one; Snapshot equals Batch at random
// points and at the end.
func TestRingAlertsMatchBatch(t *testing.T) {
	ctx := context.Background()
	cfgs := []*compliancev1.CircularFlowInput{
		{},
		{MinAmount: 1500, CountSelfLoops: true},
		{MinAmount: 6000},
	}
	alerts, closed := 0, 0
	for seed := range uint64(3) {
		for ci, cfg := range cfgs {
			txs := randomStream(seed, 240, 24)
			h := configured(t, cfg)
			pick := rand.New(rand.NewPCG(seed, uint64(ci)))
			prev := map[string]bool{}
			for k, x := range txs {
				rc := foldtest.New(ctx, uint64(k+1))
				if err := h.Apply(rc, data(x)); err != nil {
					t.Fatal(err)
				}
				want := batch(t, cfg, txs[:k+1])
				now, fresh := map[string]bool{}, map[string]*compliancev1.StronglyConnectedFlow{}
				for _, s := range want.Sccs {
					key := strings.Join(s.Members, ",")
					now[key] = true
					if !prev[key] {
						fresh[key] = s
					}
				}
				prev = now
				got := foldtest.Emitted[*compliancev1.CircularFlowAlert](rc, EventAlert)
				if len(got) != len(fresh) {
					t.Fatalf("seed %d cfg %d tx %d: %d alerts, Batch gained %d SCCs", seed, ci, k, len(got), len(fresh))
				}
				for _, a := range got {
					s := fresh[strings.Join(a.Members, ",")]
					if s == nil || a.InternalAmount != s.InternalAmount || a.InternalTxCount != s.InternalTxCount ||
						a.TxId != x.GetId() || a.Ts != x.GetTs() {
						t.Fatalf("seed %d cfg %d tx %d: alert %v, Batch row %v", seed, ci, k, a, s)
					}
					alerts++
					if a.CycleClosed {
						closed++
					}
				}
				reply, _ := rc.Reply().(*compliancev1.CircularFlowReply)
				if reply == nil || len(reply.SccSizes) != 1 || reply.SccSizes[0] != sccSize(txs[:k+1], x.GetSourceId()) ||
					len(reply.Alerts) != len(got) {
					t.Fatalf("seed %d cfg %d tx %d: reply %v, brute-force SCC size %d", seed, ci, k, reply, sccSize(txs[:k+1], x.GetSourceId()))
				}
				if pick.IntN(10) == 0 || k == len(txs)-1 {
					snap, err := h.Snapshot(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if !proto.Equal(snap, want) {
						t.Fatalf("seed %d cfg %d tx %d: snapshot differs from Batch:\nbatch %.400s\nring  %.400s", seed, ci, k, prototext.Format(want), prototext.Format(snap))
					}
				}
			}
		}
	}
	if alerts < 20 || closed < 10 || closed == alerts {
		t.Fatalf("%d alerts (%d closing a cycle): the streams check little", alerts, closed)
	}
}

// TestRingMessagesAndRestore: the same stream fed in messages of 1 to 5
// transactions, and through handlers restored from MarshalState at many
// points, emits the same alerts and reaches the same encoded state and the
// Batch Snapshot.
func TestRingMessagesAndRestore(t *testing.T) {
	ctx := context.Background()
	cfg := &compliancev1.CircularFlowInput{MinAmount: 800, CountSelfLoops: true}
	txs := randomStream(5, 900, 40)
	one := configured(t, cfg)
	rc1 := foldtest.New(ctx, 1)
	for _, x := range txs {
		if err := one.Apply(rc1, data(x)); err != nil {
			t.Fatal(err)
		}
	}
	grouped := configured(t, cfg)
	rc2 := foldtest.New(ctx, 1)
	r := rand.New(rand.NewPCG(5, 5))
	var restored []fold.Handler
	for i := 0; i < len(txs); {
		j := min(len(txs), i+1+r.IntN(5))
		m := data(txs[i:j]...)
		for _, h := range append([]fold.Handler{grouped}, restored...) {
			rc := rc2
			if h != grouped {
				rc = foldtest.New(ctx, 1)
			}
			if err := h.Apply(rc, m); err != nil {
				t.Fatal(err)
			}
		}
		if r.IntN(8) == 0 {
			h := foldtest.Restored(t, grouped, RingSpec.New)
			restored = append(restored, h)
		}
		i = j
	}
	if len(rc1.Events()) != len(rc2.Events()) || len(rc1.Events()) < 5 {
		t.Fatalf("%d alerts one by one, %d grouped", len(rc1.Events()), len(rc2.Events()))
	}
	for i := range rc1.Events() {
		if !proto.Equal(rc1.Events()[i].Msg, rc2.Events()[i].Msg) {
			t.Fatalf("alert %d differs: %v vs %v", i, rc1.Events()[i].Msg, rc2.Events()[i].Msg)
		}
	}
	want := batch(t, cfg, txs)
	final, _ := one.MarshalState()
	for k, h := range append([]fold.Handler{grouped}, restored...) {
		b, _ := h.MarshalState()
		if !bytes.Equal(b, final) {
			t.Fatalf("handler %d encodes differently", k)
		}
		snap, err := h.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(snap, want) {
			t.Fatalf("handler %d: snapshot differs from Batch", k)
		}
	}
	if len(restored) < 5 || len(want.Sccs) == 0 {
		t.Fatalf("%d restores, %d SCCs: the case checks little", len(restored), len(want.Sccs))
	}
}

// TestRingStateBounded: 100,000 transactions among 50 accounts leave a
// state of at most the 2,500 directed pairs (plus the ids of the last
// id_horizon_seconds): its encoding after 100,000 is within a few percent
// of the one after 20,000 (sums and counts only gain digits).
func TestRingStateBounded(t *testing.T) {
	ctx := context.Background()
	horizon := int64(100)
	h := configured(t, &compliancev1.CircularFlowInput{MinAmount: 1e6, IdHorizonSeconds: &horizon})
	r := rand.New(rand.NewPCG(1, 2))
	rc := foldtest.New(ctx, 1)
	var small int
	for i := range 100_000 {
		x := tx(fmt.Sprint(i), fmt.Sprint("a", r.IntN(50)), fmt.Sprint("a", r.IntN(50)), float64(1+r.IntN(10000))/100, int64(i/4))
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
	if len(s.eu) > 2500 || s.ents.Len() != 50 || s.guard.Len() > 4*100 {
		t.Fatalf("state holds %d edges, %d entities, %d ids", len(s.eu), s.ents.Len(), s.guard.Len())
	}
	if len(rc.Events()) != 1 {
		t.Fatalf("%d alerts, want 1 (all 50 accounts form one SCC, once its internal amount reaches 1e6)", len(rc.Events()))
	}
}

// TestRingRefused: a message that goes back in time, repeats an id within
// the id horizon, sets a parameter or would exceed the server's edge limit
// is refused naming the field, and leaves the state as it was; an id older
// than the horizon is accepted again.
func TestRingRefused(t *testing.T) {
	horizon := int64(5)
	h := configured(t, &compliancev1.CircularFlowInput{IdHorizonSeconds: &horizon})
	rc := foldtest.New(context.Background(), 1)
	for _, m := range []*compliancev1.CircularFlowInput{
		data(tx("1", "a", "b", 5, 10), tx("2", "b", "c", 5, 10)),
		data(tx("3", "c", "a", 5, 11)),
	} {
		if err := h.Apply(rc, m); err != nil {
			t.Fatal(err)
		}
	}
	if len(rc.Events()) != 1 {
		t.Fatalf("%d alerts, want 1 (a-b-c closed)", len(rc.Events()))
	}
	before, _ := h.MarshalState()
	lim := limits.Default()
	lim.MaxEdges = 4
	tight := foldtest.New(limits.With(context.Background(), lim), 2)
	for _, c := range []struct {
		rc    *foldtest.Context
		m     *compliancev1.CircularFlowInput
		field string
	}{
		{rc, data(tx("4", "a", "b", 1, 12), tx("5", "b", "a", 1, 11)), "transactions[1].ts"},
		{rc, data(tx("6", "c", "d", 1, 9)), "transactions[0].ts"},
		{rc, data(tx("7", "a", "d", 1, 11), tx("3", "d", "a", 1, 11)), "transactions[1].id"},
		{rc, data(tx("1", "d", "a", 1, 14)), "transactions[0].id"}, // id 1 at ts 10: 14-10 < 5
		{rc, data(tx("7", "a", "d", 1, 12), tx("7", "d", "a", 1, 13)), "transactions[1].id"},
		{rc, &compliancev1.CircularFlowInput{MinAmount: 1, Transactions: []*financev1.Transaction{tx("8", "a", "b", 1, 12)}}, "min_amount"},
		{rc, &compliancev1.CircularFlowInput{CountSelfLoops: true}, "count_self_loops"},
		{tight, data(tx("9", "a", "b", 1, 12), tx("10", "c", "d", 1, 12), tx("11", "d", "e", 1, 12)), "transactions"},
	} {
		err := h.Apply(c.rc, c.m)
		fe, ok := kerr.AsField(err)
		if !ok || fe.Field != c.field {
			t.Fatalf("%v: error %v, want one naming %s", c.m, err, c.field)
		}
		after, _ := h.MarshalState()
		if !bytes.Equal(before, after) {
			t.Fatalf("refused %v changed the state", c.m)
		}
	}
	// The same pairs within the limit are fine: a→b exists, c→d is one new
	// pair; id 1 (ts 10) is forgotten at ts 15.
	if err := h.Apply(tight, data(tx("9", "a", "b", 1, 12), tx("10", "c", "d", 1, 12), tx("1", "a", "b", 1, 15))); err != nil {
		t.Fatal(err)
	}
}

// TestRingLongCycle: a 50,000-entity chain closed by its last edge merges
// everything in one iterative search, with one alert naming every member.
func TestRingLongCycle(t *testing.T) {
	const n = 50_000
	h := configured(t, &compliancev1.CircularFlowInput{})
	rc := foldtest.New(context.Background(), 1)
	for i := range n {
		if err := h.Apply(rc, data(tx(itoa(i), "n"+itoa(i), "n"+itoa((i+1)%n), 1, int64(i)))); err != nil {
			t.Fatal(err)
		}
	}
	as := foldtest.Emitted[*compliancev1.CircularFlowAlert](rc, EventAlert)
	if len(as) != 1 || len(as[0].Members) != n || !as[0].CycleClosed || as[0].InternalTxCount != n || as[0].TxId != itoa(n-1) {
		t.Fatalf("%d alerts; first %v members, closed %v", len(as), len(as[0].Members), as[0].CycleClosed)
	}
	if !slices.IsSorted(as[0].Members) {
		t.Fatal("alert members are not sorted")
	}
}

// BenchmarkRingApply: one transaction per message among 20,000 accounts
// (benchInput's shape: 70% uniform, 30% to a near account, so new edges
// keep arriving and SCCs keep merging) after 10k and 100k prior messages;
// equal costs mean Apply does not grow with the history.
func BenchmarkRingApply(b *testing.B) {
	const accounts = 20_000
	msg := func(i int) proto.Message {
		r := rand.New(rand.NewPCG(uint64(i), 99))
		s, d := r.IntN(accounts), r.IntN(accounts)
		if r.Float64() >= 0.7 {
			d = (s + 1 + r.IntN(49)) % accounts
		}
		return data(tx(itoa(i), "A"+itoa(s), "A"+itoa(d), 1+r.Float64()*9999, int64(i)))
	}
	for _, prior := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint("prior=", prior), func(b *testing.B) {
			ringreplay.BenchApply(b, RingSpec.New(), &compliancev1.CircularFlowInput{}, prior, msg)
		})
	}
}
