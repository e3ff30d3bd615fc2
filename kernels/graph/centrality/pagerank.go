package centrality

import (
	"context"
	"math"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// PageRank is nx.pagerank(G, alpha=damping, max_iter=maxIter, tol=tol,
// weight="weight" if weighted) with uniform personalization and uniform
// redistribution of dangling nodes' rank:
//
//	x' = damping * (xᵀ P + (Σ_dangling x) / n) + (1 - damping) / n
//
// where P is the adjacency matrix with each row divided by the node's
// out-strength (sum of out-edge weights; a self-loop counts once). A node
// with no out-strength is dangling. Starting from x = 1/n, iteration stops
// when Σ|x' - x| < n·tol. Weights must be non-negative.
//
// It runs as a pull-based sparse matrix-vector product over the in-arcs, in
// parallel over blocks of target nodes.
func PageRank(ctx context.Context, g *csr.Graph, damping float64, maxIter int, tol float64) (Iterative, error) {
	n := g.N
	nf := float64(n)
	inv, dangling := OutStrengthInverse(g)
	x := make([]float64, n)
	for i := range x {
		x[i] = 1 / nf
	}
	next := make([]float64, n)
	y := make([]float64, n) // x[u] / out-strength(u)
	partial := make([]float64, numBlocks(n))
	ptr, idx, w := g.InPtr, g.InIdx, g.InW
	teleport := (1 - damping) / nf

	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return Iterative{}, err
		}
		for u, xu := range x {
			y[u] = xu * inv[u]
		}
		dsum := 0.0
		for _, u := range dangling {
			dsum += x[u]
		}
		base := damping*dsum/nf + teleport
		diff, err := blockSums(ctx, n, partial, func(lo, hi int) float64 {
			d := 0.0
			for v := lo; v < hi; v++ {
				s := 0.0
				if w == nil {
					for _, u := range idx[ptr[v]:ptr[v+1]] {
						s += y[u]
					}
				} else {
					for e := ptr[v]; e < ptr[v+1]; e++ {
						s += y[idx[e]] * w[e]
					}
				}
				nv := damping*s + base
				next[v] = nv
				d += math.Abs(nv - x[v])
			}
			return d
		})
		if err != nil {
			return Iterative{}, err
		}
		x, next = next, x
		if diff < nf*tol {
			return Iterative{Scores: x, Iterations: it, Converged: true}, nil
		}
	}
	return Iterative{Scores: x, Iterations: maxIter}, nil
}

// OutStrengthInverse returns 1/out-strength per node (0 for dangling
// nodes) and the dangling nodes, ascending: PageRank's row normalisation,
// shared with the GPU path (cuda/).
func OutStrengthInverse(g *csr.Graph) (inv []float64, dangling []int32) {
	inv = make([]float64, g.N)
	dangling = make([]int32, 0)
	for u := 0; u < g.N; u++ {
		s := 0.0
		if w := g.Weights(u); w != nil {
			for _, x := range w {
				s += x
			}
		} else {
			s = float64(g.OutDegree(u))
		}
		if s != 0 {
			inv[u] = 1 / s
		} else {
			dangling = append(dangling, int32(u))
		}
	}
	return inv, dangling
}
