// Package flowgraph is the aggregated directed multigraph of a transaction
// list: entities interned to dense ids, one arc per transaction, and the
// graph algorithms the transaction-graph kernels share (strongly connected
// components on the graph domain's CSR, bounded elementary circuits,
// δ-temporal paths).
package flowgraph

import (
	"context"
	"slices"

	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// Builder accumulates transactions as parallel arc arrays.
type Builder struct {
	Entities txn.Interner
	Src, Dst []int32
	Amount   []float64
}

// Grow reserves room for n more arcs.
func (b *Builder) Grow(n int) {
	b.Src = slices.Grow(b.Src, n)
	b.Dst = slices.Grow(b.Dst, n)
	b.Amount = slices.Grow(b.Amount, n)
}

// Add appends the arc source -> dest with amount a.
func (b *Builder) Add(source, dest string, a float64) {
	b.Src = append(b.Src, b.Entities.ID(source))
	b.Dst = append(b.Dst, b.Entities.ID(dest))
	b.Amount = append(b.Amount, a)
}

// Graph returns the simple directed CSR graph of the arcs (parallel arcs
// collapse; self-loops are kept), or nil without entities.
func (b *Builder) Graph() *csr.Graph {
	n := b.Entities.Len()
	if n == 0 {
		return nil
	}
	g, err := csr.Build(n, b.Src, b.Dst, nil, true)
	if err != nil { // ids are dense by construction
		panic(err)
	}
	return g
}

// SCC labels the strongly connected components (iterative Tarjan).
func (b *Builder) SCC(ctx context.Context) (components.Result, error) {
	g := b.Graph()
	if g == nil {
		return components.Result{}, nil
	}
	return components.Strong(ctx, g)
}
