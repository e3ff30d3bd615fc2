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
	"github.com/gokernels/gokernels/kernels/finance/flowgraph"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/graph/components"
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
	Estimate: func(in *compliancev1.CircularFlowInput) registry.Cost {
		n := int64(len(in.GetTransactions()))
		return registry.Cost{WorkingBytes: 96 * n, OutputBytes: 128 * n, Work: float64(n)}
	},
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
	return &job{params: Params{MinAmount: in.GetMinAmount(), CountSelfLoops: in.GetCountSelfLoops()}, g: g}, nil
}

// Params are the kernel's options.
type Params struct {
	MinAmount      float64
	CountSelfLoops bool
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
// other sorts the names and sums the out amounts; one pass over the arcs
// then sums each component's internal amounts and each entity's outgoing
// internal amount (circular_out_amount once its component is reported).
// Every sum runs over the arcs in ts order, so Batch and the fold agree to
// the bit. The working arrays come from txn's free lists.
func (s *State) Snapshot(ctx context.Context) (*compliancev1.CircularFlowOutput, error) {
	out := &compliancev1.CircularFlowOutput{}
	n := s.g.Entities.Len()
	if n == 0 {
		return out, nil
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
	internal, internalCount, pos := txn.F64.Get(k), txn.I32.Get(k), txn.I32.Get(k)
	defer txn.F64.Put(internal)
	defer txn.I32.Put(internalCount, pos)
	clear(internal)
	clear(internalCount)
	selfLoop := make([]bool, k)
	labels := scc.Labels
	for i, u := range s.g.Src {
		v := s.g.Dst[i]
		if u == v {
			if !s.p.CountSelfLoops {
				continue
			}
			selfLoop[labels[u]] = true
		}
		if c := labels[u]; c == labels[v] {
			a := s.g.Amount[i]
			internal[c] += a
			internalCount[c]++
			circOut[u] += a
		}
	}
	// pos[c] is the reported component's index in comps, -1 if not reported.
	var comps []int32
	for c := range int32(k) {
		pos[c] = -1
		if (scc.Sizes[c] >= 2 || selfLoop[c]) && internal[c] >= s.p.MinAmount {
			pos[c] = int32(len(comps))
			comps = append(comps, c)
		}
	}
	members := make([][]string, len(comps))
	for _, u := range byName { // members come out sorted
		if p := pos[labels[u]]; p >= 0 {
			members[p] = append(members[p], s.g.Entities.Names[u])
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
	for _, p := range order {
		c := comps[p]
		out.Sccs = append(out.Sccs, &compliancev1.StronglyConnectedFlow{
			Members: members[p], InternalAmount: internal[c], InternalTxCount: internalCount[c],
		})
		out.CircularAmount += internal[c]
	}
	out.CircularRatio = txn.Ratio(out.CircularAmount, out.TotalAmount)
	// One allocation for all n entity messages instead of n.
	ents := make([]compliancev1.CircularEntity, n)
	out.Entities = make([]*compliancev1.CircularEntity, n)
	for i, u := range byName {
		e := &ents[i]
		e.Id, e.OutAmount = s.g.Entities.Names[u], outAmt[u]
		if pos[labels[u]] >= 0 {
			e.CircularOutAmount = circOut[u]
		}
		e.Ratio = txn.Ratio(e.CircularOutAmount, outAmt[u])
		out.Entities[i] = e
	}
	return out, nil
}
