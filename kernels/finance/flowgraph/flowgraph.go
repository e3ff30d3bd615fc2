// Package flowgraph is the aggregated directed multigraph of a transaction
// list: entities interned to dense ids, one arc per transaction, and the
// graph algorithms the transaction-graph kernels share (strongly connected
// components on the graph domain's CSR, bounded elementary circuits,
// δ-temporal paths).
package flowgraph

import (
	"context"
	"math"
	"slices"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
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
//
// Tarjan needs only each node's out-arcs, and parallel arcs do not change
// its result, so the arcs are bucketed by source with one counting pass
// and one scatter instead of building the simple graph (Graph sorts every
// bucket to collapse parallel arcs and builds the in-arcs too). The
// multigraph is handed to components.Strong as a csr.Graph with only Ptr
// and Idx set; TestSCCMultigraph checks it against Graph().
func (b *Builder) SCC(ctx context.Context) (components.Result, error) {
	n := b.Entities.Len()
	if n == 0 {
		return components.Result{}, nil
	}
	ptr := make([]int32, n+1)
	for _, u := range b.Src {
		ptr[u+1]++
	}
	for u := range n {
		ptr[u+1] += ptr[u]
	}
	idx := make([]int32, len(b.Src))
	fill := slices.Clone(ptr[:n])
	for i, u := range b.Src {
		idx[fill[u]] = b.Dst[i]
		fill[u]++
	}
	return components.Strong(ctx, &csr.Graph{N: n, Directed: true, Ptr: ptr, Idx: idx, NumEdges: len(idx)})
}

// Load is txn.Check followed by Add over every transaction in ts order,
// for a Batch request: it refuses more than limits.MaxEdges transactions
// (field names the list) and duplicate ids, and returns the builder with
// one arc per transaction in the §1.5 order.
//
// It reads each message once, in input order: the messages lie in memory
// roughly in that order while the ts order jumps around, so one sequential
// pass hashes the id, takes the ts and amount and interns both names (in
// batches, so the table's cache misses overlap); the duplicate check, the
// ts sort and the permutation into ts order then run on flat arrays.
// Entity indexes are in order of first appearance in the input rather than
// in ts order, which no output depends on (outputs are sorted by name).
func Load(ctx context.Context, field string, txs []*financev1.Transaction) (*Builder, error) {
	if err := txn.CheckSize(ctx, field, txs); err != nil {
		return nil, err
	}
	n := len(txs)
	// Working arrays, from txn's pool: ids' hashes, ts, the radix sort's
	// scratch, (src, dst) packed in one word, amounts as float64 bits.
	hsP, tsP, scratchP, arcP, amtP := txn.Scratch(n), txn.Scratch(n), txn.Scratch(n), txn.Scratch(n), txn.Scratch(n)
	defer txn.Release(hsP, tsP, scratchP, arcP, amtP)
	hs, ts, scratch, arc, amt := *hsP, *tsP, *scratchP, *arcP, *amtP
	b := &Builder{}
	b.Entities.Grow(min(n, 1<<16))
	var names [32]string
	var ids [32]int32
	for lo := 0; lo < n; lo += len(names) / 2 {
		if lo%txn.CheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		chunk := txs[lo:min(n, lo+len(names)/2)]
		for k, tx := range chunk {
			hs[lo+k] = txn.HashID(tx.GetId())
			ts[lo+k] = uint64(tx.GetTs())
			amt[lo+k] = math.Float64bits(tx.GetAmount())
			names[2*k], names[2*k+1] = tx.GetSourceId(), tx.GetDestId()
		}
		b.Entities.IDs(names[:2*len(chunk)], ids[:])
		for k := range chunk {
			arc[lo+k] = uint64(uint32(ids[2*k])) | uint64(uint32(ids[2*k+1]))<<32
		}
	}
	if err := txn.CheckIDHashes(ctx, field, txs, hs, scratch); err != nil {
		return nil, err
	}
	order := txn.SortTS(ts, scratch)
	b.Src, b.Dst, b.Amount = make([]int32, n), make([]int32, n), make([]float64, n)
	for k, j := range order {
		b.Src[k], b.Dst[k], b.Amount[k] = int32(uint32(arc[j])), int32(arc[j]>>32), math.Float64frombits(amt[j])
	}
	return b, nil
}
