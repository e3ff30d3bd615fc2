package graph

import (
	"context"
	"errors"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/centrality"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/graph/metrics"
	"github.com/gokernels/gokernels/kernels/graph/paths"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// RegisterCore registers the centrality, path and whole-graph metric
// kernels (the proto contracts are in proto/gokernels/kernels/graph/v1/
// centrality.proto, paths.proto and metrics.proto).
func RegisterCore(r *registry.Registry) error {
	batch := []registry.Mode{registry.Batch}
	meta := func(id, desc string, modes []registry.Mode) registry.Meta {
		return registry.Meta{ID: id, Domain: registry.DomainGraph, Description: desc, Modes: modes}
	}
	return errors.Join(
		registry.Register(r, Betweenness),
		registry.Register(r, PageRank),
		registry.Register(r, Degree),
		registry.Add(r, meta("graph/closeness-centrality",
			"Closeness or harmonic centrality (equals nx.closeness_centrality / nx.harmonic_centrality).", batch), closeness),
		registry.Add(r, meta("graph/eigenvector-centrality",
			"Eigenvector centrality by power iteration (equals nx.eigenvector_centrality).", batch), eigenvector),
		registry.Add(r, meta("graph/katz-centrality",
			"Katz centrality by power iteration (equals nx.katz_centrality).", batch), katz),
		registry.Add(r, meta("graph/shortest-path",
			"Single-source or all-pairs shortest paths by BFS or Dijkstra (equals networkx's shortest-path lengths).", batch), shortestPath),
		registry.Add(r, meta("graph/average-path-length",
			"Average shortest path length (equals nx.average_shortest_path_length).", batch), averagePathLength),
		registry.Register(r, ConnectedComponents),
		registry.Add(r, meta("graph/density",
			"Graph density (equals nx.density).", batch), density),
		registry.Add(r, meta("graph/clustering-coefficient",
			"Local, average and global clustering (equals nx.clustering, nx.average_clustering, nx.transitivity).", batch), clustering),
		registry.Register(r, TriangleCounting),
		registry.Add(r, meta("graph/full-metrics",
			"Summary metrics of a graph in one call.", batch), fullMetrics),
	)
}

// batchAndRing are the modes of kernels that also run as Ring actors.
var batchAndRing = []registry.Mode{registry.Batch, registry.Ring}

// iterations returns an optional max_iterations value or its default,
// within the server's iteration cap.
func iterations(ctx context.Context, v *int32, def int) (int, error) {
	n := def
	if v != nil {
		n = int(*v)
	}
	if err := limits.Check("max_iterations", n, limits.From(ctx).MaxIterations); err != nil {
		return 0, err
	}
	return n, nil
}

func orDefault[T any](v *T, def T) T {
	if v != nil {
		return *v
	}
	return def
}

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
		return BetweennessJob{G: g, Normalized: orDefault(in.Normalized, true)}, err
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
		if err := graphinput.NonNegative(in.GetWeights()); err != nil {
			return PageRankJob{}, err
		}
		maxIter, err := iterations(ctx, in.MaxIterations, 100)
		if err != nil {
			return PageRankJob{}, err
		}
		g, err := graphinput.FromInput(ctx, in)
		return PageRankJob{G: g, Damping: orDefault(in.Damping, 0.85), MaxIter: maxIter, Tol: orDefault(in.Tolerance, 1e-6)}, err
	},
	CPU: func(ctx context.Context, j PageRankJob) (*graphv1.PageRankOutput, error) {
		r, err := centrality.PageRank(ctx, j.G, j.Damping, j.MaxIter, j.Tol)
		if err != nil {
			return nil, err
		}
		return &graphv1.PageRankOutput{Scores: r.Scores, Iterations: int32(r.Iterations), Converged: r.Converged}, nil
	},
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
}

// DegreeJob is degree centrality's working form.
type DegreeJob struct {
	G    *csr.Graph
	Mode centrality.DegreeMode
}

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
		scores, err = centrality.Harmonic(ctx, g, orDefault(in.Normalized, true))
	} else {
		scores, err = centrality.Closeness(ctx, g, orDefault(in.WfImproved, true))
	}
	if err != nil {
		return nil, err
	}
	return &graphv1.ClosenessCentralityOutput{Scores: scores}, nil
}

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
	r, err := centrality.Eigenvector(ctx, g, maxIter, orDefault(in.Tolerance, 1e-6))
	if err != nil {
		return nil, err
	}
	return &graphv1.EigenvectorCentralityOutput{Scores: r.Scores, Iterations: int32(r.Iterations), Converged: r.Converged}, nil
}

func katz(ctx context.Context, in *graphv1.KatzCentralityInput) (*graphv1.KatzCentralityOutput, error) {
	maxIter, err := iterations(ctx, in.MaxIterations, 1000)
	if err != nil {
		return nil, err
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	r, err := centrality.Katz(ctx, g, orDefault(in.Alpha, 0.1), orDefault(in.Beta, 1.0),
		orDefault(in.Normalized, true), maxIter, orDefault(in.Tolerance, 1e-6))
	if err != nil {
		return nil, err
	}
	return &graphv1.KatzCentralityOutput{Scores: r.Scores, Iterations: int32(r.Iterations), Converged: r.Converged}, nil
}

func shortestPath(ctx context.Context, in *graphv1.ShortestPathInput) (*graphv1.ShortestPathOutput, error) {
	if err := graphinput.NonNegative(in.GetWeights()); err != nil {
		return nil, err
	}
	if in.GetAllPairs() {
		// The n² matrix is the cost: cap it before allocating anything.
		if err := limits.Check("num_nodes", int(in.GetNumNodes()), limits.From(ctx).MaxAllPairsN); err != nil {
			return nil, err
		}
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	if in.GetAllPairs() {
		d, err := paths.AllPairs(ctx, g)
		if err != nil {
			return nil, err
		}
		return &graphv1.ShortestPathOutput{Distances: d}, nil
	}
	if in.Source == nil {
		return nil, kerr.Invalid("source", "is required unless all_pairs is true")
	}
	if err := graphinput.Node("source", in.GetSource(), in.GetNumNodes()); err != nil {
		return nil, err
	}
	d, p, err := paths.SingleSource(ctx, g, in.GetSource())
	if err != nil {
		return nil, err
	}
	return &graphv1.ShortestPathOutput{Distances: d, Predecessors: p}, nil
}

func averagePathLength(ctx context.Context, in *graphv1.AveragePathLengthInput) (*graphv1.AveragePathLengthOutput, error) {
	if err := graphinput.NonNegative(in.GetWeights()); err != nil {
		return nil, err
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	weak, err := components.Weak(ctx, g)
	if err != nil {
		return nil, err
	}
	connected := weak.Count() == 1
	if connected && g.Directed {
		strong, err := components.Strong(ctx, g)
		if err != nil {
			return nil, err
		}
		connected = strong.Count() == 1
	}
	reachable := in.GetDisconnected() == "reachable"
	if !reachable && weak.Count() > 1 {
		return nil, kerr.Invalid("edges", "the graph is not connected (%d components), so networkx defines no average "+
			"shortest path length; set \"disconnected\": \"reachable\" to average over the reachable pairs", weak.Count())
	}
	s, err := paths.Sums(ctx, g)
	if err != nil {
		return nil, err
	}
	avg := s.NetworkX()
	if reachable {
		avg = s.Reachable()
	}
	return &graphv1.AveragePathLengthOutput{AveragePathLength: avg, Connected: connected, ReachablePairs: s.Pairs}, nil
}

// ConnectedComponents is graph/connected-components.
var ConnectedComponents = registry.Def[*graphv1.ConnectedComponentsInput, *graphv1.ConnectedComponentsOutput, ComponentsJob]{
	Meta: registry.Meta{ID: "graph/connected-components", Domain: registry.DomainGraph,
		Description: "Connected components; weak and strong for directed graphs (equals networkx's component functions)."},
	Prepare: func(ctx context.Context, in *graphv1.ConnectedComponentsInput) (ComponentsJob, error) {
		if !in.GetDirected() {
			// Union-find straight on the edge list: no CSR needed.
			src, dst, err := graphinput.Edges(ctx, in.GetNumNodes(), in.GetEdges(), in.GetWeights())
			return ComponentsJob{N: int(in.GetNumNodes()), Src: src, Dst: dst}, err
		}
		g, err := graphinput.FromInput(ctx, in)
		if err != nil {
			return ComponentsJob{}, err
		}
		return ComponentsJob{N: g.N, G: g}, nil
	},
	CPU: func(ctx context.Context, j ComponentsJob) (*graphv1.ConnectedComponentsOutput, error) {
		if j.G == nil {
			weak, err := components.WeakEdges(ctx, j.N, j.Src, j.Dst)
			if err != nil {
				return nil, err
			}
			return ComponentsOutput(weak, nil), nil
		}
		weak, err := components.Weak(ctx, j.G)
		if err != nil {
			return nil, err
		}
		strong, err := components.Strong(ctx, j.G)
		if err != nil {
			return nil, err
		}
		return ComponentsOutput(weak, &strong), nil
	},
}

// ComponentsJob is connected components' working form: the edge list of
// an undirected graph (G nil), or the CSR of a directed one.
type ComponentsJob struct {
	N        int
	Src, Dst []int32
	G        *csr.Graph
}

// ComponentsOutput renders weak (and, for directed graphs, strong)
// components.
func ComponentsOutput(weak components.Result, strong *components.Result) *graphv1.ConnectedComponentsOutput {
	out := &graphv1.ConnectedComponentsOutput{Labels: weak.Labels, NumComponents: int32(weak.Count()), Sizes: weak.Sizes}
	if strong != nil {
		out.StrongLabels, out.NumStrongComponents, out.StrongSizes = strong.Labels, int32(strong.Count()), strong.Sizes
	}
	return out
}

func density(ctx context.Context, in *graphv1.DensityInput) (*graphv1.DensityOutput, error) {
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	return &graphv1.DensityOutput{Density: metrics.Density(g)}, nil
}

func clustering(ctx context.Context, in *graphv1.ClusteringCoefficientInput) (*graphv1.ClusteringCoefficientOutput, error) {
	if err := graphinput.NonNegative(in.GetWeights()); err != nil {
		return nil, err
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	c, err := metrics.ClusteringOf(ctx, g)
	if err != nil {
		return nil, err
	}
	return &graphv1.ClusteringCoefficientOutput{
		Coefficients:      c.Coefficients,
		AverageClustering: c.Average,
		Transitivity:      c.Transitivity,
	}, nil
}

// TriangleCounting is graph/triangle-counting. Its job is the undirected
// view of the graph.
var TriangleCounting = registry.Def[*graphv1.TriangleCountingInput, *graphv1.TriangleCountingOutput, *csr.Graph]{
	Meta: registry.Meta{ID: "graph/triangle-counting", Domain: registry.DomainGraph,
		Description: "Triangles per node and in total (equals nx.triangles)."},
	Prepare: func(ctx context.Context, in *graphv1.TriangleCountingInput) (*csr.Graph, error) {
		return graphinput.UndirectedView(ctx, in)
	},
	CPU: func(ctx context.Context, g *csr.Graph) (*graphv1.TriangleCountingOutput, error) {
		per, total, err := metrics.Triangles(ctx, g)
		if err != nil {
			return nil, err
		}
		return &graphv1.TriangleCountingOutput{Triangles: per, Total: total}, nil
	},
}

func fullMetrics(ctx context.Context, in *graphv1.FullMetricsInput) (*graphv1.FullMetricsOutput, error) {
	if err := graphinput.NonNegative(in.GetWeights()); err != nil {
		return nil, err
	}
	withinCap := int(in.GetNumNodes()) <= limits.From(ctx).MaxAllPairsN
	withPaths := withinCap
	if in.PathMetrics != nil {
		withPaths = *in.PathMetrics
		if withPaths && !withinCap {
			return nil, kerr.Invalid("path_metrics", "num_nodes %d exceeds the server's all-pairs limit of %d; "+
				"leave path_metrics unset or false", in.GetNumNodes(), limits.From(ctx).MaxAllPairsN)
		}
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	s, err := metrics.Summarize(ctx, g, withPaths)
	if err != nil {
		return nil, err
	}
	return &graphv1.FullMetricsOutput{
		NumNodes:                   int32(s.NumNodes),
		NumEdges:                   int32(s.NumEdges),
		SelfLoops:                  int32(s.SelfLoops),
		Density:                    s.Density,
		AverageDegree:              s.AverageDegree,
		MaxDegree:                  int32(s.MaxDegree),
		AverageClustering:          s.AverageClustering,
		Transitivity:               s.Transitivity,
		Triangles:                  s.Triangles,
		NumComponents:              int32(s.NumComponents),
		LargestComponentSize:       int32(s.LargestComponent),
		NumStrongComponents:        int32(s.NumStrongComponents),
		LargestStrongComponentSize: int32(s.LargestStrongComponent),
		Connected:                  s.Connected,
		HasPathMetrics:             s.Paths,
		AveragePathLength:          s.AveragePathLength,
		Diameter:                   s.Diameter,
	}, nil
}
