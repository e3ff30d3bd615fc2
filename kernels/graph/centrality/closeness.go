package centrality

import (
	"context"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/sssp"
	"github.com/gokernels/gokernels/kernels/par"
)

// Closeness is nx.closeness_centrality(G, distance="weight" if weighted,
// wf_improved=wfImproved): for node u with r nodes (itself included) able to
// reach it at total distance T,
//
//	C(u) = (r-1)/T            (times (r-1)/(n-1) when wfImproved)
//
// and 0 when T is 0 or n is 1. In directed graphs distances are measured
// towards u (incoming paths), as networkx does by reversing the graph.
// Weights are distances and must be non-negative.
func Closeness(ctx context.Context, g *csr.Graph, wfImproved bool) ([]float64, error) {
	n := g.N
	out := make([]float64, n)
	err := eachIncoming(ctx, g, func(u int32, s *sssp.Searcher) {
		total := 0.0
		for _, v := range s.Reached {
			total += s.Dist[v]
		}
		if total <= 0 || n <= 1 {
			return
		}
		r := float64(len(s.Reached) - 1)
		c := r / total
		if wfImproved {
			c *= r / float64(n-1)
		}
		out[u] = c
	})
	return out, err
}

// Harmonic is nx.harmonic_centrality(G, distance="weight" if weighted): the
// sum over the other nodes v of 1/d(v, u), skipping unreachable nodes and
// zero distances. With normalized it is divided by n-1, which puts it in
// [0, 1] like closeness (0 when n is 1).
func Harmonic(ctx context.Context, g *csr.Graph, normalized bool) ([]float64, error) {
	n := g.N
	out := make([]float64, n)
	err := eachIncoming(ctx, g, func(u int32, s *sssp.Searcher) {
		h := 0.0
		for _, v := range s.Reached {
			if d := s.Dist[v]; d != 0 {
				h += 1 / d
			}
		}
		if normalized {
			if n <= 1 {
				h = 0
			} else {
				h /= float64(n - 1)
			}
		}
		out[u] = h
	})
	return out, err
}

// eachIncoming runs a search along reversed arcs from every node in
// parallel and hands each result to fn, which must write only u's slot.
func eachIncoming(ctx context.Context, g *csr.Graph, fn func(u int32, s *sssp.Searcher)) error {
	workers := par.Workers(g.N)
	searchers := make([]*sssp.Searcher, workers)
	return par.Dynamic(ctx, g.N, 16, workers, func(w, lo, hi int) error {
		s := searchers[w]
		if s == nil {
			s = sssp.New(g, true, false)
			searchers[w] = s
		}
		for u := lo; u < hi; u++ {
			s.From(int32(u))
			fn(int32(u), s)
		}
		return nil
	})
}
