package metrics

import (
	"context"

	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/paths"
)

// Summary is every whole-graph metric of graph/full-metrics.
type Summary struct {
	NumNodes  int
	NumEdges  int // G.number_of_edges()
	SelfLoops int // nx.number_of_selfloops

	Density       float64 // nx.density
	AverageDegree float64 // mean of G.degree (in+out for directed graphs)
	MaxDegree     int     // max of G.degree

	AverageClustering float64 // nx.average_clustering(G, weight)
	Transitivity      float64 // nx.transitivity(G)
	Triangles         int64   // sum(nx.triangles(undirected view)) / 3

	// Components are weakly connected for directed graphs.
	NumComponents    int
	LargestComponent int
	// Strong components, directed graphs only (0 otherwise).
	NumStrongComponents    int
	LargestStrongComponent int
	// Connected is nx.is_connected (undirected) or
	// nx.is_strongly_connected (directed).
	Connected bool

	// Path metrics, only when Paths is true.
	Paths bool
	// AveragePathLength is the mean shortest-path length over ordered
	// pairs (u, v), u != v, with v reachable from u (igraph's
	// average_path_length(unconn=True)); it equals
	// nx.average_shortest_path_length when the graph is connected.
	AveragePathLength float64
	// Diameter is the largest finite shortest-path length (nx.diameter when
	// the graph is connected).
	Diameter float64
}

// Summarize computes the summary of g. Path metrics cost a search from
// every node, so they are computed only when withPaths is set.
func Summarize(ctx context.Context, g *csr.Graph, withPaths bool) (Summary, error) {
	s := Summary{
		NumNodes:  g.N,
		NumEdges:  g.NumEdges,
		SelfLoops: g.SelfLoops,
		Density:   Density(g),
	}
	degSum := 0
	for u := 0; u < g.N; u++ {
		d := g.Degree(u)
		degSum += d
		s.MaxDegree = max(s.MaxDegree, d)
	}
	s.AverageDegree = float64(degSum) / float64(g.N)

	cl, err := ClusteringOf(ctx, g)
	if err != nil {
		return s, err
	}
	s.AverageClustering = cl.Average
	s.Transitivity = cl.Transitivity
	if cl.Triangles != nil {
		s.Triangles = cl.TriangleTotal
	} else if _, s.Triangles, err = Triangles(ctx, g); err != nil {
		return s, err
	}

	weak, err := components.Weak(ctx, g)
	if err != nil {
		return s, err
	}
	s.NumComponents, s.LargestComponent = weak.Count(), weak.Largest()
	s.Connected = weak.Count() == 1
	if g.Directed {
		strong, err := components.Strong(ctx, g)
		if err != nil {
			return s, err
		}
		s.NumStrongComponents, s.LargestStrongComponent = strong.Count(), strong.Largest()
		s.Connected = strong.Count() == 1
	}

	if withPaths {
		ps, err := paths.Sums(ctx, g)
		if err != nil {
			return s, err
		}
		s.Paths = true
		s.AveragePathLength = ps.Reachable()
		s.Diameter = ps.Diameter
	}
	return s, nil
}
