// Shortest-path kernels (proto/gokernels/kernels/graph/v1/paths.proto).

package graph

import (
	"context"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/graph/paths"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// ShortestPath is graph/shortest-path.
var ShortestPath = registry.Direct(registry.Meta{ID: "graph/shortest-path", Domain: registry.DomainGraph,
	Description: "Single-source or all-pairs shortest paths by BFS or Dijkstra (equals networkx's shortest-path lengths)."}, shortestPath)

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

// AveragePathLength is graph/average-path-length.
var AveragePathLength = registry.Direct(registry.Meta{ID: "graph/average-path-length", Domain: registry.DomainGraph,
	Description: "Average shortest path length (equals nx.average_shortest_path_length)."}, averagePathLength)

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
