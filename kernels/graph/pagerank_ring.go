package graph

import (
	"context"
	"math"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/graph/graphring"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// PageRankRingState is pagerank's ring state: the parameters, the graph
// (graphring's adjacency, which the power iteration reads) and a warm
// score vector X. Edge changes cost O(degree); X is re-converged from its
// previous value (not from uniform) once the changes since the last time
// reach an eighth of n + m (one iteration's work), so keeping it warm
// costs amortised O(8·iterations) per change whatever the graph's size,
// and a Snapshot starts near the answer.
type PageRankRingState struct {
	Damping float64          `json:"damping"`
	MaxIter int              `json:"max_iter"`
	Tol     float64          `json:"tol"`
	G       *graphring.Graph `json:"g"`
	X       []float64        `json:"x,omitempty"` // the warm vector; nil until the first refresh
	Pending int              `json:"pending"`     // edge changes since X was last re-converged
}

// PageRankRing is pagerank's incremental handler. Its Snapshot runs
// Batch's iteration and stopping rule (Σ|x' − x| < n·tol) from the warm
// vector instead of from 1/n, so it stops at a different point inside the
// same tolerance: the documented replay-law tolerance is
// ‖ring − Batch‖₁ ≤ 2·d/(1−d)·n·tol (each is within d/(1−d) times its last
// step of the fixed point, the iteration being a d-contraction in L1), and
// iterations counts this Snapshot's own iterations.
var PageRankRing = fold.Spec[*graphv1.PageRankInput, *graphv1.PageRankOutput, PageRankRingState]{
	Configure: func(ctx context.Context, in *graphv1.PageRankInput) (*PageRankRingState, error) {
		maxIter, err := iterations(ctx, in.MaxIterations, 100)
		if err != nil {
			return nil, err
		}
		d, tol := registry.Or(in.Damping, 0.85), registry.Or(in.Tolerance, 1e-6)
		if !(d >= 0 && d < 1) {
			return nil, kerr.Invalid("damping", "must lie in [0, 1)")
		}
		if !(tol > 0) || math.IsInf(tol, 0) {
			return nil, kerr.Invalid("tolerance", "must be a positive finite number")
		}
		g, err := graphring.Configure(ctx, in)
		if err != nil {
			return nil, err
		}
		return &PageRankRingState{Damping: d, MaxIter: maxIter, Tol: tol, G: g}, nil
	},
	Apply: func(rc fold.Context, s *PageRankRingState, in *graphv1.PageRankInput) error {
		switch {
		case in.Damping != nil:
			return kerr.Invalid("damping", "is a parameter: set it with Configure (before the first data message or after Reset)")
		case in.MaxIterations != nil:
			return kerr.Invalid("max_iterations", "is a parameter: set it with Configure (before the first data message or after Reset)")
		case in.Tolerance != nil:
			return kerr.Invalid("tolerance", "is a parameter: set it with Configure (before the first data message or after Reset)")
		}
		if err := s.G.Apply(rc, in, graphinput.NonNegative); err != nil {
			return err
		}
		s.Pending += len(in.GetEdges()) + len(in.GetPackedEdges())/2 + len(in.GetRemoveEdges())
		if s.Pending*8 >= max(s.G.N+s.G.M, 8) {
			s.X, _, _ = s.iterate(s.start(), s.MaxIter)
			s.Pending = 0
		}
		return nil
	},
	Snapshot: func(ctx context.Context, s *PageRankRingState) (*graphv1.PageRankOutput, error) {
		if s.G.N == 0 {
			return nil, kerr.Invalid("num_nodes", "must be at least 1, got 0")
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x, it, ok := s.iterate(s.start(), s.MaxIter)
		return &graphv1.PageRankOutput{Scores: x, Iterations: int32(it), Converged: ok}, nil
	},
	Split: graphring.Split[*graphv1.PageRankInput],
}

// start is a copy of the warm vector, or 1/n before the first refresh.
func (s *PageRankRingState) start() []float64 {
	n := s.G.N
	x := make([]float64, n)
	if len(s.X) == n {
		copy(x, s.X)
		return x
	}
	for i := range x {
		x[i] = 1 / float64(n)
	}
	return x
}

// iterate runs centrality.PageRank's iteration from x (same operations,
// neighbours in the same ascending order) until Σ|x' − x| < n·tol or
// maxIter iterations; it returns the scores, the iterations run and
// whether it converged.
func (s *PageRankRingState) iterate(x []float64, maxIter int) ([]float64, int, bool) {
	g := s.G
	n := g.N
	nf := float64(n)
	inv := make([]float64, n)
	var dangling []int
	for u := range n {
		if st := g.Out[u].Sum(); st != 0 {
			inv[u] = 1 / st
		} else {
			dangling = append(dangling, u)
		}
	}
	next := make([]float64, n)
	y := make([]float64, n)
	teleport := (1 - s.Damping) / nf
	for it := 1; it <= maxIter; it++ {
		for u, xu := range x {
			y[u] = xu * inv[u]
		}
		dsum := 0.0
		for _, u := range dangling {
			dsum += x[u]
		}
		base := s.Damping*dsum/nf + teleport
		diff := 0.0
		for v := range n {
			a := g.InAdj(v)
			sum := 0.0
			for e, u := range a.To {
				sum += y[u] * a.W[e]
			}
			nv := s.Damping*sum + base
			next[v] = nv
			diff += math.Abs(nv - x[v])
		}
		x, next = next, x
		if diff < nf*s.Tol {
			return x, it, true
		}
	}
	return x, maxIter, false
}
