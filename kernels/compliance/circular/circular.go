// Package circular is compliance/circular-flow: money moving in circles,
// found as the strongly connected components of the transactions'
// directed multigraph (Tarjan 1972, iterative: graph/components.Strong on
// the aggregated CSR graph).
package circular

import (
	"cmp"
	"context"
	"slices"
	"sync"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/exactsum"
	"github.com/gokernels/gokernels/kernels/finance/flowgraph"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Def declares compliance/circular-flow.
var Def = registry.Def[*compliancev1.CircularFlowInput, *compliancev1.CircularFlowOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/circular-flow",
		Domain:      registry.DomainCompliance,
		Description: "Circular money flows: strongly connected components of the transaction multigraph (Tarjan), circular amount and per-entity circular share (equals networkx strongly_connected_components).",
		Modes:       []registry.Mode{registry.Batch, registry.Ring},
	},
	Prepare: prepare,
	CPU: func(ctx context.Context, j *job) (*compliancev1.CircularFlowOutput, error) {
		// Prepare's flowgraph.Load has refused duplicate ids and put the
		// arcs in ts order: the fold's per-transaction guard is not needed.
		st := &State{p: j.params, g: *j.g}
		out, err := st.Snapshot(ctx)
		j.g.Release() // the output keeps only the names' strings
		return out, err
	},
	Finite: finiteOutput,
	Estimate: func(in *compliancev1.CircularFlowInput) registry.Cost {
		n := int64(len(in.GetTransactions()))
		return registry.Cost{WorkingBytes: 96 * n, OutputBytes: 128 * n, Work: float64(n)}
	},
}

// finiteOutput is the typed check that every float of out is finite
// (registry.Def.Finite): a loop over the entities instead of the
// reflective walk, which took a third of a 1M-transaction request.
func finiteOutput(out *compliancev1.CircularFlowOutput) bool {
	// x-x is 0 for a finite x and NaN for NaN and ±Inf.
	bad := out.TotalAmount - out.TotalAmount + out.CircularAmount - out.CircularAmount + out.CircularRatio - out.CircularRatio
	for _, s := range out.Sccs {
		bad += s.InternalAmount - s.InternalAmount
	}
	for _, e := range out.Entities {
		bad += e.OutAmount - e.OutAmount + e.CircularOutAmount - e.CircularOutAmount + e.Ratio - e.Ratio
	}
	return bad == 0
}

type job struct {
	params Params
	g      *flowgraph.Builder // the arcs in ts order
}

func prepare(ctx context.Context, in *compliancev1.CircularFlowInput) (*job, error) {
	g, err := flowgraph.Load(ctx, "transactions", in.GetTransactions())
	if err != nil {
		return nil, err
	}
	if in.IdHorizonSeconds != nil && in.GetIdHorizonSeconds() < 1 {
		return nil, kerr.Invalid("id_horizon_seconds", "must be >= 1, got %d", in.GetIdHorizonSeconds())
	}
	return &job{params: Params{MinAmount: in.GetMinAmount(), CountSelfLoops: in.GetCountSelfLoops(),
		IDHorizon: registry.Or(in.IdHorizonSeconds, DefaultIDHorizon)}, g: g}, nil
}

// DefaultIDHorizon is the default id_horizon_seconds: one day.
const DefaultIDHorizon = 86_400

// Params are the kernel's options.
type Params struct {
	MinAmount      float64
	CountSelfLoops bool
	IDHorizon      int64 // ring only: seconds a transaction id is remembered
}

// State is the fold: transactions applied in ts order, Snapshot = Batch.
type State struct {
	p     Params
	guard txn.Guard
	g     flowgraph.Builder
}

// New returns an empty state.
func New(p Params) *State { return &State{p: p} }

// Apply adds one transaction.
func (s *State) Apply(tx *financev1.Transaction) error {
	if err := s.guard.Admit(tx); err != nil {
		return err
	}
	s.g.Add(tx.GetSourceId(), tx.GetDestId(), tx.GetAmount())
	return nil
}

// Snapshot computes the Batch output over the transactions applied so far.
// It does not change the state.
//
// The strongly connected components are computed on one core while the
// other sorts the names and sums the out amounts (in ts order); edgeSums
// then sums each component's internal amounts and each entity's outgoing
// internal amount (circular_out_amount once its component is reported)
// per edge first, in an order the ring's per-edge state reproduces, so
// Batch, the fold and the ring agree to the bit. The working arrays come
// from txn's free lists.
func (s *State) Snapshot(ctx context.Context) (*compliancev1.CircularFlowOutput, error) {
	out := &compliancev1.CircularFlowOutput{}
	n := s.g.Entities.Len()
	if n == 0 {
		return out, nil
	}
	if s.g.Exact() {
		return s.exactSnapshot(ctx, out)
	}
	outAmt, circOut := txn.F64.Get(n), txn.F64.Get(n)
	defer txn.F64.Put(outAmt, circOut)
	clear(outAmt)
	clear(circOut)
	var (
		scc    components.Result
		sccErr error
		byName []int32
		wg     sync.WaitGroup
	)
	wg.Go(func() { scc, sccErr = s.g.SCC(ctx) })
	byName = s.g.Entities.ByName()
	for i, u := range s.g.Src {
		a := s.g.Amount[i]
		out.TotalAmount += a
		outAmt[u] += a
	}
	wg.Wait()
	if sccErr != nil {
		return nil, sccErr
	}
	k := scc.Count()
	internal, internalCount := txn.F64.Get(k), txn.I32.Get(k)
	defer txn.F64.Put(internal)
	defer txn.I32.Put(internalCount)
	clear(internal)
	clear(internalCount)
	selfLoop := make([]bool, k)
	edgeSums(&s.g, scc.Labels, byName, s.p.CountSelfLoops, selfLoop, internal, internalCount, circOut)
	return assemble(out, &s.p, s.g.Entities.Names, byName, scc, selfLoop, internal, nil, internalCount, circOut, outAmt), nil
}

// exactSnapshot is Snapshot when every amount qualifies for exactsum and
// the total fits (the Builder is Exact): every sum is exact and rounded
// once, so it does not depend on the order of the arcs, and the ring,
// which keeps exact sums per edge and entity, rounds to the same bits.
//
// The arcs are bucketed by source (on two cores); the components are
// computed on one core while the other sorts the names; then each half of
// the entities sums its own buckets (out and internal amounts, one
// sequential pass), and the per-SCC sums are the members' exact sums.
func (s *State) exactSnapshot(ctx context.Context, out *compliancev1.CircularFlowOutput) (*compliancev1.CircularFlowOutput, error) {
	g := &s.g
	n := g.Entities.Len()
	out.TotalAmount = g.Total.Float64()
	arcs := g.BySource(true)
	defer arcs.Release()
	var (
		scc    components.Result
		sccErr error
		wg     sync.WaitGroup
	)
	wg.Go(func() { scc, sccErr = arcs.SCC(ctx) })
	// Meanwhile: the names' order and the out amounts.
	byName := g.Entities.ByName()
	outAmt, circOut := txn.F64.Get(n), txn.F64.Get(n)
	defer txn.F64.Put(outAmt, circOut)
	for u := range n {
		var o exactsum.Sum // no overflow: every sum is at most the total
		for _, a := range arcs.Amount[arcs.Ptr[u]:arcs.Ptr[u+1]] {
			o.AddFloat(a)
		}
		outAmt[u] = o.Float64()
	}
	wg.Wait()
	if sccErr != nil {
		return nil, sccErr
	}
	k, labels := scc.Count(), scc.Labels
	cnt := txn.I32.Get(n)
	defer txn.I32.Put(cnt)
	circX, loops := make([]exactsum.Sum, n), make([]bool, n)
	sum := func(lo, hi int32) {
		for u := lo; u < hi; u++ {
			c := labels[u]
			var ci exactsum.Sum
			nc := int32(0)
			for e := arcs.Ptr[u]; e < arcs.Ptr[u+1]; e++ {
				if v := arcs.Dst[e]; labels[v] == c && (u != v || s.p.CountSelfLoops) {
					ci.AddFloat(arcs.Amount[e])
					nc++
					loops[u] = loops[u] || u == v
				}
			}
			circOut[u], circX[u], cnt[u] = ci.Float64(), ci, nc
		}
	}
	// Two halves of about equal arc counts.
	mid, _ := slices.BinarySearch(arcs.Ptr, arcs.Ptr[n]/2)
	mid = min(mid, n)
	wg.Go(func() { sum(0, int32(mid)) })
	sum(int32(mid), int32(n))
	wg.Wait()
	internalX, count, selfLoop := make([]exactsum.Sum, k), txn.I32.Get(k), make([]bool, k)
	defer txn.I32.Put(count)
	clear(count)
	for u, c := range labels {
		internalX[c].Add(circX[u])
		count[c] += cnt[u]
		selfLoop[c] = selfLoop[c] || loops[u]
	}
	internal := txn.F64.Get(k)
	defer txn.F64.Put(internal)
	for c := range internal {
		internal[c] = internalX[c].Float64()
	}
	return assemble(out, &s.p, g.Entities.Names, byName, scc, selfLoop, internal, internalX, count, circOut, outAmt), nil
}

// parallelFill is the entity count from which assemble fills the entity
// messages on two goroutines (a variable so a test can compare both ways
// on a small input).
var parallelFill = 1 << 14

// assemble finishes the output (Batch and ring alike) from the per-SCC
// internal sums and counts, the per-entity outgoing internal sums
// (circOut, kept only for reported SCCs) and out amounts; out holds
// total_amount already. With exact sums (internalExact, else nil)
// circular_amount is the exact sum of the reported internal amounts,
// rounded once; otherwise their float64 sum in output order.
func assemble(out *compliancev1.CircularFlowOutput, p *Params, names []string, byName []int32, scc components.Result,
	selfLoop []bool, internal []float64, internalExact []exactsum.Sum, internalCount []int32, circOut, outAmt []float64) *compliancev1.CircularFlowOutput {
	k, n, labels := scc.Count(), len(names), scc.Labels
	pos := txn.I32.Get(k)
	defer txn.I32.Put(pos)
	// pos[c] is the reported component's index in comps, -1 if not reported.
	var comps []int32
	for c := range int32(k) {
		pos[c] = -1
		if (scc.Sizes[c] >= 2 || selfLoop[c]) && internal[c] >= p.MinAmount {
			pos[c] = int32(len(comps))
			comps = append(comps, c)
		}
	}
	members := make([][]string, len(comps))
	for p, c := range comps {
		members[p] = make([]string, 0, scc.Sizes[c])
	}
	for _, u := range byName { // members come out sorted
		if p := pos[labels[u]]; p >= 0 {
			members[p] = append(members[p], names[u])
		}
	}
	order := make([]int32, len(comps)) // positions in comps
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(internal[comps[b]], internal[comps[a]]); c != 0 {
			return c
		}
		return cmp.Compare(members[a][0], members[b][0])
	})
	var circular exactsum.Sum
	for _, p := range order {
		c := comps[p]
		out.Sccs = append(out.Sccs, &compliancev1.StronglyConnectedFlow{
			Members: members[p], InternalAmount: internal[c], InternalTxCount: internalCount[c],
		})
		if internalExact != nil {
			circular.Add(internalExact[c]) // at most the total: no overflow
		} else {
			out.CircularAmount += internal[c]
		}
	}
	if internalExact != nil {
		out.CircularAmount = circular.Float64()
	}
	// The circular and total sums add the same amounts in different orders
	// (per edge, per entity, per SCC versus ts order), so when everything is
	// circular their ratio can round to just above 1: ratios are clamped.
	out.CircularRatio = min(1, txn.Ratio(out.CircularAmount, out.TotalAmount))
	// One allocation for all n entity messages instead of n, filled in
	// two halves on two cores when there are many.
	ents := make([]compliancev1.CircularEntity, n)
	out.Entities = make([]*compliancev1.CircularEntity, n)
	fill := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			u, e := byName[i], &ents[i]
			e.Id, e.OutAmount = names[u], outAmt[u]
			if pos[labels[u]] >= 0 {
				e.CircularOutAmount = circOut[u]
			}
			e.Ratio = min(1, txn.Ratio(e.CircularOutAmount, outAmt[u]))
			out.Entities[i] = e
		}
	}
	if n < parallelFill {
		fill(0, n)
		return out
	}
	var wg sync.WaitGroup
	wg.Go(func() { fill(0, n/2) })
	fill(n/2, n)
	wg.Wait()
	return out
}

// edgeSums fills, per SCC label, the sum and count of the internal
// transactions (both ends in the SCC; a self-loop only with selfLoops)
// and whether it holds a counted self-loop, and per entity the sum of its
// outgoing internal transactions (circOut, zeroed first). internal and
// count must be zero.
//
// The sums are taken per edge first, then per entity and then per SCC in
// a fixed order: an entity's circular outflow adds its internal out-edges'
// sums in order of each edge's first transaction (ts order), each edge's
// amounts in ts order; an SCC's internal amount adds its members' circular
// outflows by member id. That order depends only on the aggregated graph
// (per-edge sums in ts order, edges in order of creation), which is what
// the ring keeps instead of the transactions, so its Snapshot rounds every
// sum exactly as this does. (Summing the arcs in ts order, one pass, is
// cheaper, but the ring would then have to keep every transaction.)
func edgeSums(g *flowgraph.Builder, labels, byName []int32, selfLoops bool, selfLoop []bool, internal []float64, count []int32, circOut []float64) {
	n, m := g.Entities.Len(), len(g.Src)
	// Internal arcs bucketed by source, keeping ts order inside a bucket:
	// each one's (dest, amount), so the summing pass reads its bucket
	// sequentially.
	ptr, mark := txn.I32.Get(n+1), txn.I32.Get(n)
	defer txn.I32.Put(ptr, mark)
	clear(ptr)
	clear(mark)
	inside := make([]bool, m)
	for i, u := range g.Src {
		v := g.Dst[i]
		if u == v && !selfLoops {
			continue
		}
		if c := labels[u]; c == labels[v] {
			inside[i] = true
			ptr[u+1]++
			if u == v {
				selfLoop[c] = true
			}
		}
	}
	for u := range n {
		ptr[u+1] += ptr[u]
	}
	dst, fill := txn.I32.Get(int(ptr[n])), txn.I32.Get(n)
	amt, acc := txn.F64.Get(int(ptr[n])), txn.F64.Get(n)
	defer txn.I32.Put(dst, fill)
	defer txn.F64.Put(amt, acc)
	copy(fill, ptr[:n])
	for i, u := range g.Src {
		if inside[i] {
			dst[fill[u]], amt[fill[u]] = g.Dst[i], g.Amount[i]
			fill[u]++
		}
	}
	var dests []int32
	for u := range int32(n) { // mark[v] = u+1 while v is an out-neighbour of u being summed
		dests = dests[:0]
		circOut[u] = 0
		for k := ptr[u]; k < ptr[u+1]; k++ {
			v := dst[k]
			if mark[v] != u+1 {
				mark[v] = u + 1
				acc[v] = 0
				dests = append(dests, v)
			}
			acc[v] += amt[k]
		}
		for _, v := range dests {
			circOut[u] += acc[v]
		}
		count[labels[u]] += ptr[u+1] - ptr[u]
	}
	for _, u := range byName {
		internal[labels[u]] += circOut[u]
	}
}
