// Package paths answers shortest-path questions on a csr.Graph: distances
// and predecessors from one source, the all-pairs distance matrix, and the
// average shortest path length. Unweighted graphs use BFS (hop counts),
// weighted ones Dijkstra; weights must be non-negative (the caller rejects
// negative ones). Directed graphs follow arc direction.
//
// Unreachable targets have distance Unreachable (-1) in every output.
package paths

import (
	"context"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/sssp"
	"github.com/gokernels/gokernels/kernels/par"
)

// Unreachable marks the distance to a node no path reaches.
const Unreachable = -1.0

// SingleSource returns the distance from src to every node
// (nx.single_source_shortest_path_length / nx.single_source_dijkstra_path_length,
// Unreachable where those omit the node) and each node's predecessor on a
// shortest path: the smallest id among the predecessors networkx lists
// (nx.predecessor / nx.dijkstra_predecessor_and_distance), -1 for src and
// for unreachable nodes.
func SingleSource(ctx context.Context, g *csr.Graph, src int32) ([]float64, []int32, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s := sssp.New(g, false, true)
	s.From(src)
	dist := s.Dist
	for i, d := range dist {
		if d == sssp.Unreached {
			dist[i] = Unreachable
		}
	}
	return dist, s.Pred, ctx.Err()
}

// AllPairs returns the n×n distance matrix, row-major (row = source), as
// nx.all_pairs_dijkstra_path_length / nx.all_pairs_shortest_path_length
// with Unreachable for missing pairs. Rows are computed in parallel.
func AllPairs(ctx context.Context, g *csr.Graph) ([]float64, error) {
	n := g.N
	out := make([]float64, n*n)
	err := eachSource(ctx, g, func(u int32, s *sssp.Searcher) {
		row := out[int(u)*n : int(u+1)*n]
		for i := range row {
			row[i] = Unreachable
		}
		for _, v := range s.Reached {
			row[v] = s.Dist[v]
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PathSums are the totals behind the average shortest path length.
type PathSums struct {
	N int
	// Total is the sum of d(u, v) over ordered pairs u != v with v reachable
	// from u.
	Total float64
	// Pairs is the number of such reachable ordered pairs.
	Pairs int64
	// Diameter is the largest finite d(u, v) (0 without any pair).
	Diameter float64
}

// NetworkX is nx.average_shortest_path_length's value, Total / (n(n-1)),
// which networkx computes once the graph is connected (weakly, for directed
// graphs, so unreachable ordered pairs then count as 0); 0 when n = 1.
func (p PathSums) NetworkX() float64 {
	if p.N <= 1 {
		return 0
	}
	return p.Total / (float64(p.N) * float64(p.N-1))
}

// Reachable is the mean over reachable ordered pairs only, Total / Pairs,
// as igraph's Graph.average_path_length(unconn=True); 0 without pairs.
func (p PathSums) Reachable() float64 {
	if p.Pairs == 0 {
		return 0
	}
	return p.Total / float64(p.Pairs)
}

// Sums runs a search from every node (in parallel) and totals the
// distances. Per-source sums are added in node order, so the result does
// not depend on scheduling.
func Sums(ctx context.Context, g *csr.Graph) (PathSums, error) {
	n := g.N
	totals := make([]float64, n)
	counts := make([]int32, n)
	far := make([]float64, n)
	err := eachSource(ctx, g, func(u int32, s *sssp.Searcher) {
		t, m := 0.0, 0.0
		for _, v := range s.Reached {
			d := s.Dist[v]
			t += d
			m = max(m, d)
		}
		totals[u] = t
		counts[u] = int32(len(s.Reached) - 1)
		far[u] = m
	})
	if err != nil {
		return PathSums{}, err
	}
	p := PathSums{N: n}
	for u := 0; u < n; u++ {
		p.Total += totals[u]
		p.Pairs += int64(counts[u])
		p.Diameter = max(p.Diameter, far[u])
	}
	return p, nil
}

// eachSource runs a forward search from every node in parallel and hands
// each result to fn, which must write only u's own output.
func eachSource(ctx context.Context, g *csr.Graph, fn func(u int32, s *sssp.Searcher)) error {
	workers := par.Workers(g.N)
	searchers := make([]*sssp.Searcher, workers)
	return par.Dynamic(ctx, g.N, 16, workers, func(w, lo, hi int) error {
		s := searchers[w]
		if s == nil {
			s = sssp.New(g, false, false)
			searchers[w] = s
		}
		for u := lo; u < hi; u++ {
			s.From(int32(u))
			fn(int32(u), s)
		}
		return nil
	})
}
