// Ring handlers of the graph kernels that also run as rings
// (graph/degree-centrality, graph/degree-ratio, graph/pagerank): each
// keeps the graph in graphring's sorted adjacency, changed one edge at a
// time by data messages (edges insert or re-weight, remove_edges delete).

package graph

import (
	"context"

	"google.golang.org/protobuf/proto"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/graph/graphring"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// withRing attaches a ring handler to a Def built by registry.Direct.
func withRing[In, Out proto.Message, Job any](d registry.Def[In, Out, Job], ring func() fold.Handler) registry.Def[In, Out, Job] {
	d.Ring = ring
	return d
}

// DegreeRingState is degree-centrality's ring state: the mode and the
// graph (the adjacency is what a delete or a repeated insert needs).
type DegreeRingState struct {
	Mode string           `json:"mode,omitempty"`
	G    *graphring.Graph `json:"g"`
}

// DegreeRing is degree-centrality's incremental handler: Apply is
// O(degree) per edge (graphring), Snapshot O(n) from the node degrees,
// equal to Batch bit for bit.
var DegreeRing = fold.Spec[*graphv1.DegreeCentralityInput, *graphv1.DegreeCentralityOutput, DegreeRingState]{
	Configure: func(ctx context.Context, in *graphv1.DegreeCentralityInput) (*DegreeRingState, error) {
		switch in.GetMode() {
		case "in", "out":
			if !in.GetDirected() {
				return nil, kerr.Invalid("mode", "%q needs a directed graph (networkx defines in/out degree centrality only for directed graphs)", in.GetMode())
			}
		case "", "total":
		default:
			return nil, kerr.Invalid("mode", "must be one of total, in, out")
		}
		g, err := graphring.Configure(ctx, in)
		if err != nil {
			return nil, err
		}
		return &DegreeRingState{Mode: in.GetMode(), G: g}, nil
	},
	Apply: func(rc fold.Context, s *DegreeRingState, in *graphv1.DegreeCentralityInput) error {
		if in.GetMode() != "" {
			return kerr.Invalid("mode", "is a parameter: set it with Configure (before the first data message or after Reset)")
		}
		return s.G.Apply(rc, in, nil)
	},
	Snapshot: func(_ context.Context, s *DegreeRingState) (*graphv1.DegreeCentralityOutput, error) {
		g := s.G
		if g.N == 0 {
			return nil, kerr.Invalid("num_nodes", "must be at least 1, got 0")
		}
		out := make([]float64, g.N)
		if g.N == 1 {
			out[0] = 1
			return &graphv1.DegreeCentralityOutput{Scores: out}, nil
		}
		// The same float operations as centrality.Degree.
		scale := 1 / float64(g.N-1)
		for u := range g.N {
			var d int
			switch s.Mode {
			case "in":
				d = len(g.In[u].To)
			case "out":
				d = len(g.Out[u].To)
			default:
				d = g.Degree(u)
			}
			out[u] = float64(d) * scale
		}
		return &graphv1.DegreeCentralityOutput{Scores: out}, nil
	},
	Split: graphring.Split[*graphv1.DegreeCentralityInput],
}

// DegreeRatioRing is degree-ratio's incremental handler: Apply is
// O(degree) per edge, Snapshot O(n + m) (strengths are summed in
// neighbour order as Batch sums them, so the output is bit-identical).
var DegreeRatioRing = fold.Spec[*graphv1.DegreeRatioInput, *graphv1.DegreeRatioOutput, graphring.Graph]{
	Configure: func(ctx context.Context, in *graphv1.DegreeRatioInput) (*graphring.Graph, error) {
		return graphring.Configure(ctx, in)
	},
	Apply: func(rc fold.Context, g *graphring.Graph, in *graphv1.DegreeRatioInput) error {
		return g.Apply(rc, in, nil)
	},
	Snapshot: func(_ context.Context, g *graphring.Graph) (*graphv1.DegreeRatioOutput, error) {
		if g.N == 0 {
			return nil, kerr.Invalid("num_nodes", "must be at least 1, got 0")
		}
		n := g.N
		r := &graphv1.DegreeRatioOutput{
			InDegree: make([]int32, n), OutDegree: make([]int32, n), Ratio: make([]float64, n),
			InStrength: make([]float64, n), OutStrength: make([]float64, n),
		}
		for v := range n {
			var in, out int
			var sin, sout float64
			if g.Directed {
				in, out = len(g.In[v].To), len(g.Out[v].To)
				sin, sout = g.In[v].Sum(), g.Out[v].Sum()
			} else {
				out = g.Degree(v)
				sout = g.Out[v].Sum()
				if w, ok := g.Out[v].Weight(int32(v)); ok {
					sout += w // networkx's degree counts a self-loop twice
				}
				in, sin = out, sout
			}
			r.InDegree[v], r.OutDegree[v] = int32(in), int32(out)
			r.InStrength[v], r.OutStrength[v] = sin, sout
			r.Ratio[v] = float64(in) / float64(max(out, 1))
		}
		return r, nil
	},
	Split: graphring.Split[*graphv1.DegreeRatioInput],
}
