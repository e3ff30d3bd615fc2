// Package circular is compliance/circular-flow: money moving in circles,
// found as the strongly connected components of the transactions'
// directed multigraph (Tarjan 1972, iterative: graph/components.Strong on
// the aggregated CSR graph).
package circular

import (
	"cmp"
	"context"
	"slices"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/flowgraph"
	"github.com/gokernels/gokernels/kernels/finance/txn"
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
		return st.Snapshot(ctx)
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
func (s *State) Snapshot(ctx context.Context) (*compliancev1.CircularFlowOutput, error) {
	out := &compliancev1.CircularFlowOutput{}
	n := s.g.Entities.Len()
	if n == 0 {
		return out, nil
	}
	scc, err := s.g.SCC(ctx)
	if err != nil {
		return nil, err
	}
	k := scc.Count()
	selfLoop := make([]bool, k)
	internal := make([]float64, k)
	internalCount := make([]int32, k)
	outAmt := make([]float64, n)
	for i := range s.g.Src {
		u, v, a := s.g.Src[i], s.g.Dst[i], s.g.Amount[i]
		out.TotalAmount += a
		outAmt[u] += a
		if u == v {
			if !s.p.CountSelfLoops {
				continue
			}
			selfLoop[scc.Labels[u]] = true
		}
		if c := scc.Labels[u]; c == scc.Labels[v] {
			internal[c] += a
			internalCount[c]++
		}
	}
	reported := make([]bool, k)
	var comps []int32
	for c := range int32(k) {
		if (scc.Sizes[c] >= 2 || selfLoop[c]) && internal[c] >= s.p.MinAmount {
			reported[c] = true
			comps = append(comps, c)
		}
	}
	circOut := make([]float64, n)
	for i := range s.g.Src {
		u, v := s.g.Src[i], s.g.Dst[i]
		if u == v && !s.p.CountSelfLoops {
			continue
		}
		if c := scc.Labels[u]; c == scc.Labels[v] && reported[c] {
			circOut[u] += s.g.Amount[i]
		}
	}
	members := make([][]string, k)
	byName := s.g.Entities.ByName()
	for _, u := range byName { // members come out sorted
		if c := scc.Labels[u]; reported[c] {
			members[c] = append(members[c], s.g.Entities.Names[u])
		}
	}
	slices.SortFunc(comps, func(a, b int32) int {
		if c := cmp.Compare(internal[b], internal[a]); c != 0 {
			return c
		}
		return cmp.Compare(members[a][0], members[b][0])
	})
	for _, c := range comps {
		out.Sccs = append(out.Sccs, &compliancev1.StronglyConnectedFlow{
			Members: members[c], InternalAmount: internal[c], InternalTxCount: internalCount[c],
		})
		out.CircularAmount += internal[c]
	}
	out.CircularRatio = txn.Ratio(out.CircularAmount, out.TotalAmount)
	// One allocation for all n entity messages instead of n.
	ents := make([]compliancev1.CircularEntity, n)
	out.Entities = make([]*compliancev1.CircularEntity, n)
	for i, u := range byName {
		e := &ents[i]
		e.Id, e.OutAmount, e.CircularOutAmount = s.g.Entities.Names[u], outAmt[u], circOut[u]
		e.Ratio = txn.Ratio(circOut[u], outAmt[u])
		out.Entities[i] = e
	}
	return out, nil
}
