// Package undirected builds the simple undirected view of a graph: for every
// node the sorted set of its distinct neighbours in either direction, with
// self-loops dropped.
//
// Several structural kernels (triad census, cliques, star scores, undirected
// cycles) reason about "is there any edge between a and b" and must not see a
// node as its own neighbour; building this view once lets them walk plain
// sorted slices instead of merging in- and out-lists again in every inner loop.
package undirected

import (
	"context"
	"slices"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Graph is an immutable simple undirected graph in CSR form: the neighbours
// of u are Idx[Ptr[u]:Ptr[u+1]], ascending, never containing u.
type Graph struct {
	N   int
	Ptr []int
	Idx []int32
}

// Neighbors returns u's neighbours, ascending.
func (g *Graph) Neighbors(u int) []int32 { return g.Idx[g.Ptr[u]:g.Ptr[u+1]] }

// Degree is the number of distinct neighbours of u.
func (g *Graph) Degree(u int) int { return g.Ptr[u+1] - g.Ptr[u] }

// HasEdge reports whether a and b are adjacent.
func (g *Graph) HasEdge(a, b int) bool {
	_, ok := slices.BinarySearch(g.Neighbors(a), int32(b))
	return ok
}

// Of returns the simple undirected view of g. For an undirected g it drops
// self-loops; for a directed g it merges each node's in- and out-neighbours.
func Of(ctx context.Context, g *csr.Graph) (*Graph, error) {
	n := g.N
	deg := make([]int, n)
	workers := par.Workers(n)
	// Pass 1 sizes every list, pass 2 fills it: both are per-node and write
	// only their own slots, so chunks can go to any worker.
	err := par.Dynamic(ctx, n, 1024, workers, func(_, lo, hi int) error {
		for u := lo; u < hi; u++ {
			deg[u] = mergeInto(nil, g, u, true)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ptr := make([]int, n+1)
	for u := 0; u < n; u++ {
		ptr[u+1] = ptr[u] + deg[u]
	}
	idx := make([]int32, ptr[n])
	err = par.Dynamic(ctx, n, 1024, workers, func(_, lo, hi int) error {
		for u := lo; u < hi; u++ {
			mergeInto(idx[ptr[u]:ptr[u+1]], g, u, false)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Graph{N: n, Ptr: ptr, Idx: idx}, nil
}

// mergeInto writes the sorted union of u's out- and in-neighbours minus u
// into dst (or only counts it when countOnly) and returns its size.
func mergeInto(dst []int32, g *csr.Graph, u int, countOnly bool) int {
	out := g.Neighbors(u)
	var in []int32
	if g.Directed {
		in = g.InNeighbors(u)
	}
	k := 0
	emit := func(v int32) {
		if int(v) == u {
			return
		}
		if !countOnly {
			dst[k] = v
		}
		k++
	}
	i, j := 0, 0
	for i < len(out) || j < len(in) {
		switch {
		case j == len(in) || (i < len(out) && out[i] < in[j]):
			emit(out[i])
			i++
		case i == len(out) || in[j] < out[i]:
			emit(in[j])
			j++
		default: // equal: u->v and v->u are one undirected edge
			emit(out[i])
			i++
			j++
		}
	}
	return k
}
