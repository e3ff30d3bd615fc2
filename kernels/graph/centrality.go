// Centrality kernels (proto/gokernels/kernels/graph/v1/centrality.proto).

package graph

import (
	"context"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/centrality"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/graph/graphring"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Betweenness is graph/betweenness-centrality. Its GPU path (cuda/)
// covers unweighted graphs.
var Betweenness = registry.Def[*graphv1.BetweennessCentralityInput, *graphv1.BetweennessCentralityOutput, BetweennessJob]{
	Meta: registry.Meta{ID: "graph/betweenness-centrality", Domain: registry.DomainGraph,
		Description: "Brandes betweenness centrality (equals nx.betweenness_centrality)."},
	Prepare: func(ctx context.Context, in *graphv1.BetweennessCentralityInput) (BetweennessJob, error) {
		if err := graphinput.Positive(in.GetWeights()); err != nil {
			return BetweennessJob{}, err
		}
		g, err := graphinput.FromInput(ctx, in)
		return BetweennessJob{G: g, Normalized: registry.Or(in.Normalized, true)}, err
	},
	CPU: func(ctx context.Context, j BetweennessJob) (*graphv1.BetweennessCentralityOutput, error) {
		scores, err := centrality.Betweenness(ctx, j.G, j.Normalized)
		if err != nil {
			return nil, err
		}
		return &graphv1.BetweennessCentralityOutput{Scores: scores}, nil
	},
}

// BetweennessJob is betweenness centrality's working form.
type BetweennessJob struct {
	G          *csr.Graph
	Normalized bool
}

// PageRank is graph/pagerank.
var PageRank = registry.Def[*graphv1.PageRankInput, *graphv1.PageRankOutput, PageRankJob]{
	Meta: registry.Meta{ID: "graph/pagerank", Domain: registry.DomainGraph,
		Description: "PageRank by power iteration (equals nx.pagerank).", Modes: batchAndRing},
	Prepare: func(ctx context.Context, in *graphv1.PageRankInput) (PageRankJob, error) {
		if err := graphring.BatchRefusesRemovals(in); err != nil {
			return PageRankJob{}, err
		}
		if err := graphinput.NonNegative(in.GetWeights()); err != nil {
			return PageRankJob{}, err
		}
		maxIter, err := iterations(ctx, in.MaxIterations, 100)
		if err != nil {
			return PageRankJob{}, err
		}
		g, err := graphinput.FromInput(ctx, in)
		return PageRankJob{G: g, Damping: registry.Or(in.Damping, 0.85), MaxIter: maxIter, Tol: registry.Or(in.Tolerance, 1e-6)}, err
	},
	CPU: func(ctx context.Context, j PageRankJob) (*graphv1.PageRankOutput, error) {
		r, err := centrality.PageRank(ctx, j.G, j.Damping, j.MaxIter, j.Tol)
		if err != nil {
			return nil, err
		}
		return &graphv1.PageRankOutput{Scores: r.Scores, Iterations: int32(r.Iterations), Converged: r.Converged}, nil
	},
	Ring: PageRankRing.New,
}

// PageRankJob is PageRank's working form.
type PageRankJob struct {
	G            *csr.Graph
	Damping, Tol float64
	MaxIter      int
}

// Degree is graph/degree-centrality.
var Degree = registry.Def[*graphv1.DegreeCentralityInput, *graphv1.DegreeCentralityOutput, DegreeJob]{
	Meta: registry.Meta{ID: "graph/degree-centrality", Domain: registry.DomainGraph,
		Description: "Degree centrality (equals nx.degree_centrality and its in/out variants).", Modes: batchAndRing},
	Prepare: func(ctx context.Context, in *graphv1.DegreeCentralityInput) (DegreeJob, error) {
		if err := graphring.BatchRefusesRemovals(in); err != nil {
			return DegreeJob{}, err
		}
		mode := centrality.TotalDegree
		switch in.GetMode() {
		case "in", "out":
			if !in.GetDirected() {
				return DegreeJob{}, kerr.Invalid("mode", "%q needs a directed graph (networkx defines in/out degree centrality only for directed graphs)", in.GetMode())
			}
			mode = centrality.InDegree
			if in.GetMode() == "out" {
				mode = centrality.OutDegree
			}
		case "", "total":
		default:
			return DegreeJob{}, kerr.Invalid("mode", "must be one of total, in, out")
		}
		g, err := graphinput.FromInput(ctx, in)
		return DegreeJob{G: g, Mode: mode}, err
	},
	CPU: func(_ context.Context, j DegreeJob) (*graphv1.DegreeCentralityOutput, error) {
		return &graphv1.DegreeCentralityOutput{Scores: centrality.Degree(j.G, j.Mode)}, nil
	},
	Ring: DegreeRing.New,
}

// DegreeJob is degree centrality's working form.
type DegreeJob struct {
	G    *csr.Graph
	Mode centrality.DegreeMode
}

// Closeness is graph/closeness-centrality.
var Closeness = registry.Direct(registry.Meta{ID: "graph/closeness-centrality", Domain: registry.DomainGraph,
	Description: "Closeness or harmonic centrality (equals nx.closeness_centrality / nx.harmonic_centrality)."}, closeness)

func closeness(ctx context.Context, in *graphv1.ClosenessCentralityInput) (*graphv1.ClosenessCentralityOutput, error) {
	if err := graphinput.NonNegative(in.GetWeights()); err != nil {
		return nil, err
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	var scores []float64
	if in.GetHarmonic() {
		scores, err = centrality.Harmonic(ctx, g, registry.Or(in.Normalized, true))
	} else {
		scores, err = centrality.Closeness(ctx, g, registry.Or(in.WfImproved, true))
	}
	if err != nil {
		return nil, err
	}
	return &graphv1.ClosenessCentralityOutput{Scores: scores}, nil
}

// Eigenvector is graph/eigenvector-centrality.
var Eigenvector = registry.Direct(registry.Meta{ID: "graph/eigenvector-centrality", Domain: registry.DomainGraph,
	Description: "Eigenvector centrality by power iteration (equals nx.eigenvector_centrality)."}, eigenvector)

func eigenvector(ctx context.Context, in *graphv1.EigenvectorCentralityInput) (*graphv1.EigenvectorCentralityOutput, error) {
	if err := graphinput.NonNegative(in.GetWeights()); err != nil {
		return nil, err
	}
	maxIter, err := iterations(ctx, in.MaxIterations, 100)
	if err != nil {
		return nil, err
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	r, err := centrality.Eigenvector(ctx, g, maxIter, registry.Or(in.Tolerance, 1e-6))
	if err != nil {
		return nil, err
	}
	return &graphv1.EigenvectorCentralityOutput{Scores: r.Scores, Iterations: int32(r.Iterations), Converged: r.Converged}, nil
}

// Katz is graph/katz-centrality.
var Katz = registry.Direct(registry.Meta{ID: "graph/katz-centrality", Domain: registry.DomainGraph,
	Description: "Katz centrality by power iteration (equals nx.katz_centrality)."}, katz)

func katz(ctx context.Context, in *graphv1.KatzCentralityInput) (*graphv1.KatzCentralityOutput, error) {
	maxIter, err := iterations(ctx, in.MaxIterations, 1000)
	if err != nil {
		return nil, err
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	r, err := centrality.Katz(ctx, g, registry.Or(in.Alpha, 0.1), registry.Or(in.Beta, 1.0),
		registry.Or(in.Normalized, true), maxIter, registry.Or(in.Tolerance, 1e-6))
	if err != nil {
		return nil, err
	}
	return &graphv1.KatzCentralityOutput{Scores: r.Scores, Iterations: int32(r.Iterations), Converged: r.Converged}, nil
}
