// Whole-graph metric kernels (proto/gokernels/kernels/graph/v1/metrics.proto).

package graph

import (
	"context"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/graph/metrics"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// ConnectedComponents is graph/connected-components.
var ConnectedComponents = registry.Def[*graphv1.ConnectedComponentsInput, *graphv1.ConnectedComponentsOutput, ComponentsJob]{
	Meta: registry.Meta{ID: "graph/connected-components", Domain: registry.DomainGraph,
		Description: "Connected components; weak and strong for directed graphs (equals networkx's component functions)."},
	Prepare: func(ctx context.Context, in *graphv1.ConnectedComponentsInput) (ComponentsJob, error) {
		if !in.GetDirected() {
			// Union-find straight on the edge list: no CSR needed.
			src, dst, err := graphinput.EdgesOf(ctx, in)
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

// Density is graph/density.
var Density = registry.Direct(registry.Meta{ID: "graph/density", Domain: registry.DomainGraph,
	Description: "Graph density (equals nx.density)."}, density)

func density(ctx context.Context, in *graphv1.DensityInput) (*graphv1.DensityOutput, error) {
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	return &graphv1.DensityOutput{Density: metrics.Density(g)}, nil
}

// Clustering is graph/clustering-coefficient.
var Clustering = registry.Direct(registry.Meta{ID: "graph/clustering-coefficient", Domain: registry.DomainGraph,
	Description: "Local, average and global clustering (equals nx.clustering, nx.average_clustering, nx.transitivity)."}, clustering)

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

// FullMetrics is graph/full-metrics.
var FullMetrics = registry.Direct(registry.Meta{ID: "graph/full-metrics", Domain: registry.DomainGraph,
	Description: "Summary metrics of a graph in one call."}, fullMetrics)

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
