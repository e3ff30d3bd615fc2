package centrality

import (
	"context"
	"math"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// Eigenvector is nx.eigenvector_centrality(G, max_iter=maxIter, tol=tol,
// weight="weight" if weighted): power iteration on A + I (the identity
// shift keeps bipartite graphs from oscillating) starting from x = 1/n,
//
//	x'[v] = x[v] + Σ_{u→v} w(u,v)·x[u],   then x' /= ‖x'‖₂ (‖x'‖ = 0 → 1)
//
// stopping when Σ|x' - x| < n·tol. In directed graphs a node's score comes
// from its in-neighbours (the left eigenvector). A self-loop adds its weight
// once. Weights must be non-negative.
func Eigenvector(ctx context.Context, g *csr.Graph, maxIter int, tol float64) (Iterative, error) {
	n := g.N
	nf := float64(n)
	x := make([]float64, n)
	for i := range x {
		x[i] = 1 / nf
	}
	next := make([]float64, n)
	partial := make([]float64, numBlocks(n))
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return Iterative{}, err
		}
		// next = (A + I)ᵀ x
		_, err := blockSums(ctx, n, partial, func(lo, hi int) float64 {
			for v := lo; v < hi; v++ {
				next[v] = x[v] + inSum(g, x, v)
			}
			return 0
		})
		if err != nil {
			return Iterative{}, err
		}
		norm, err := l2Norm(ctx, next, partial)
		if err != nil {
			return Iterative{}, err
		}
		if norm == 0 {
			norm = 1
		}
		diff, err := blockSums(ctx, n, partial, func(lo, hi int) float64 {
			d := 0.0
			for v := lo; v < hi; v++ {
				next[v] /= norm
				d += math.Abs(next[v] - x[v])
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

// Katz is nx.katz_centrality(G, alpha, beta, max_iter=maxIter, tol=tol,
// normalized, weight="weight" if weighted): starting from x = 0,
//
//	x'[v] = alpha · Σ_{u→v} w(u,v)·x[u] + beta
//
// until Σ|x' - x| < n·tol; then, if normalized, x' /= ‖x'‖₂. In directed
// graphs scores flow along arc direction (in-neighbours). A self-loop counts
// once. Convergence needs alpha below 1/λ_max of the adjacency matrix;
// otherwise Converged is false.
func Katz(ctx context.Context, g *csr.Graph, alpha, beta float64, normalized bool, maxIter int, tol float64) (Iterative, error) {
	n := g.N
	nf := float64(n)
	x := make([]float64, n)
	next := make([]float64, n)
	partial := make([]float64, numBlocks(n))
	finish := func(x []float64, it int, converged bool) (Iterative, error) {
		if normalized {
			norm, err := l2Norm(ctx, x, partial)
			if err != nil {
				return Iterative{}, err
			}
			if norm != 0 && !math.IsInf(norm, 0) {
				for i := range x {
					x[i] /= norm
				}
			}
		}
		return Iterative{Scores: x, Iterations: it, Converged: converged}, nil
	}
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return Iterative{}, err
		}
		diff, err := blockSums(ctx, n, partial, func(lo, hi int) float64 {
			d := 0.0
			for v := lo; v < hi; v++ {
				nv := alpha*inSum(g, x, v) + beta
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
			return finish(x, it, true)
		}
	}
	return finish(x, maxIter, false)
}

// inSum is Σ_{u→v} w(u,v)·x[u] over v's in-arcs (weight 1 if unweighted).
func inSum(g *csr.Graph, x []float64, v int) float64 {
	s := 0.0
	lo, hi := g.InPtr[v], g.InPtr[v+1]
	if g.InW == nil {
		for _, u := range g.InIdx[lo:hi] {
			s += x[u]
		}
		return s
	}
	for e := lo; e < hi; e++ {
		s += x[g.InIdx[e]] * g.InW[e]
	}
	return s
}
