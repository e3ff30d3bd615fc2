// Package degreeratio computes every node's in- and out-degree, their
// weighted versions (strengths) and the in/out ratio, as networkx 2.8's
// G.in_degree / G.out_degree.
package degreeratio

import (
	"context"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Result has one entry per node in each slice.
type Result struct {
	InDegree, OutDegree     []int32
	Ratio                   []float64 // InDegree / max(OutDegree, 1)
	InStrength, OutStrength []float64 // summed edge weights (= degrees when unweighted)
}

// Compute fills Result for g. For a directed graph a self-loop counts once
// in each direction (networkx's DiGraph). For an undirected graph every edge
// counts both ways: in = out = G.degree(v), a self-loop counting twice.
func Compute(ctx context.Context, g *csr.Graph) (*Result, error) {
	n := g.N
	r := &Result{
		InDegree: make([]int32, n), OutDegree: make([]int32, n), Ratio: make([]float64, n),
		InStrength: make([]float64, n), OutStrength: make([]float64, n),
	}
	err := par.Dynamic(ctx, n, 4096, par.Workers(n), func(_, lo, hi int) error {
		for v := lo; v < hi; v++ {
			var in, out int
			var sin, sout float64
			if g.Directed {
				in, out = g.InDegree(v), g.OutDegree(v)
				sin, sout = strength(g.InWeights(v), in), strength(g.Weights(v), out)
			} else {
				out = g.Degree(v)
				sout = strength(g.Weights(v), g.OutDegree(v))
				if w, ok := g.EdgeWeight(v, v); ok {
					sout += w // networkx's degree counts a self-loop twice
				}
				in, sin = out, sout
			}
			r.InDegree[v], r.OutDegree[v] = int32(in), int32(out)
			r.InStrength[v], r.OutStrength[v] = sin, sout
			// A node without out-edges divides by 1, so sinks score their
			// in-degree and isolated nodes 0: the output is always finite.
			r.Ratio[v] = float64(in) / float64(max(out, 1))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// strength sums weights, or counts the edges when the graph is unweighted.
func strength(ws []float64, count int) float64 {
	if ws == nil {
		return float64(count)
	}
	var s float64
	for _, w := range ws {
		s += w
	}
	return s
}
