package circular

import (
	"context"
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/internal/replay"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/registry/finitetest"
)

type batchFold struct{ *State }

func (f batchFold) Snapshot() (*compliancev1.CircularFlowOutput, error) {
	return f.State.Snapshot(context.Background())
}

func newIn() *compliancev1.CircularFlowInput { return &compliancev1.CircularFlowInput{} }

// TestReplayLaw: transactions applied in ts order, Snapshot after some of
// them, equal the Batch output of each prefix and of the whole input.
func TestReplayLaw(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, newIn) {
		t.Run(name, func(t *testing.T) {
			j, err := prepare(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			batch := func(txs []*financev1.Transaction) (*compliancev1.CircularFlowOutput, error) {
				jj, err := prepare(ctx, &compliancev1.CircularFlowInput{Transactions: txs,
					MinAmount: in.GetMinAmount(), CountSelfLoops: in.GetCountSelfLoops()})
				if err != nil {
					return nil, err
				}
				return Def.CPU(ctx, jj)
			}
			order, err := txn.Check(ctx, "transactions", in.GetTransactions())
			if err != nil {
				t.Fatal(err)
			}
			replay.Check(t, batchFold{New(j.params)}, txn.Sorted(in.GetTransactions(), order), batch, func(k int) bool { return k%37 == 0 })
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b)) }

// TestInvariants: 0 <= ratio <= 1; every reported SCC is strongly
// connected over its internal transactions; circular_amount = sum of
// internal amounts = sum of circular_out_amount.
func TestInvariants(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, newIn) {
		j, err := prepare(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Def.CPU(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		if out.CircularRatio < 0 || out.CircularRatio > 1 {
			t.Errorf("%s: ratio %v", name, out.CircularRatio)
		}
		var internal, circOut float64
		for _, s := range out.Sccs {
			internal += s.InternalAmount
			if !stronglyConnected(s.Members, in.GetTransactions()) {
				t.Errorf("%s: SCC %v is not strongly connected", name, s.Members)
			}
		}
		for _, e := range out.Entities {
			circOut += e.CircularOutAmount
			if e.Ratio < 0 || e.Ratio > 1+1e-12 {
				t.Errorf("%s/%s: ratio %v", name, e.Id, e.Ratio)
			}
		}
		if !near(internal, out.CircularAmount) || !near(circOut, out.CircularAmount) {
			t.Errorf("%s: circular %v, internal %v, circular_out %v", name, out.CircularAmount, internal, circOut)
		}
	}
}

// stronglyConnected checks by forward and backward search over the arcs
// with both ends in members that every member reaches and is reached by
// the first.
func stronglyConnected(members []string, txs []*financev1.Transaction) bool {
	in := map[string]bool{}
	for _, m := range members {
		in[m] = true
	}
	if len(members) == 1 {
		for _, tx := range txs {
			if tx.GetSourceId() == members[0] && tx.GetDestId() == members[0] {
				return true
			}
		}
		return false
	}
	fwd, back := map[string][]string{}, map[string][]string{}
	for _, tx := range txs {
		if in[tx.GetSourceId()] && in[tx.GetDestId()] {
			fwd[tx.GetSourceId()] = append(fwd[tx.GetSourceId()], tx.GetDestId())
			back[tx.GetDestId()] = append(back[tx.GetDestId()], tx.GetSourceId())
		}
	}
	reach := func(adj map[string][]string) int {
		seen := map[string]bool{members[0]: true}
		stack := []string{members[0]}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, w := range adj[v] {
				if !seen[w] {
					seen[w] = true
					stack = append(stack, w)
				}
			}
		}
		return len(seen)
	}
	return reach(fwd) == len(members) && reach(back) == len(members)
}

// TestLongChainIsIterative: a 200 000-node cycle would overflow a
// recursive Tarjan's goroutine stack budget; the iterative one finds one
// SCC holding every node.
func TestLongChainIsIterative(t *testing.T) {
	const n = 200_000
	st := New(Params{})
	id := func(i int) string { return "n" + itoa(i) }
	for i := range n {
		if err := st.Apply(&financev1.Transaction{Id: itoa(i), SourceId: id(i), DestId: id((i + 1) % n), Amount: 1, Ts: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := st.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Sccs) != 1 || len(out.Sccs[0].Members) != n || out.CircularRatio != 1 {
		t.Fatalf("got %d SCCs, ratio %v", len(out.Sccs), out.CircularRatio)
	}
}

func itoa(i int) string {
	var b [20]byte
	p := len(b)
	for {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[p:])
		}
	}
}

// TestFiniteOutput: the typed finiteness check sees NaN and ±Inf in every
// float field of the output (registry/finitetest plants them one by one).
func TestFiniteOutput(t *testing.T) {
	out := batch(t, &compliancev1.CircularFlowInput{}, []*financev1.Transaction{
		tx("t1", "a", "b", 5, 1), tx("t2", "b", "a", 7, 2), tx("t3", "a", "c", 1, 3)})
	if len(out.Sccs) == 0 || len(out.Entities) == 0 {
		t.Fatalf("the output lacks a list to plant in: %v", out)
	}
	finitetest.Covers(t, finiteOutput, out)
}

// TestParallelFill: the entity messages filled on two goroutines equal the
// sequential fill, on every fixture input and on both sides of the split.
func TestParallelFill(t *testing.T) {
	defer func(v int) { parallelFill = v }(parallelFill)
	for name, in := range replay.Inputs(t, Def.ID, newIn) {
		run := func(threshold int) *compliancev1.CircularFlowOutput {
			parallelFill = threshold
			return batch(t, in, in.GetTransactions())
		}
		seq, par := run(1<<30), run(1)
		if len(seq.GetEntities()) < 2 {
			continue
		}
		if !proto.Equal(seq, par) {
			t.Fatalf("%s: parallel fill differs:\n%v\n%v", name, seq.GetEntities(), par.GetEntities())
		}
	}
}
