package graphinput

import (
	"context"
	"math"
	"testing"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

func edges(pairs ...[2]int32) []*graphv1.Edge {
	out := make([]*graphv1.Edge, len(pairs))
	for i, p := range pairs {
		out[i] = &graphv1.Edge{Source: p[0], Target: p[1]}
	}
	return out
}

func TestBuild(t *testing.T) {
	g, err := Build(context.Background(), 4, edges([2]int32{0, 1}, [2]int32{1, 0}, [2]int32{2, 2}), []float64{1, 5, 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	if g.N != 4 || g.NumEdges != 2 || g.SelfLoops != 1 {
		t.Fatalf("N=%d edges=%d loops=%d, want 4, 2, 1", g.N, g.NumEdges, g.SelfLoops)
	}
	// The later duplicate's weight wins, as in networkx.
	if w, ok := g.EdgeWeight(0, 1); !ok || w != 5 {
		t.Fatalf("weight(0,1) = %v, %v; want 5", w, ok)
	}
	g, err = Build(context.Background(), 3, edges([2]int32{0, 1}), nil, true)
	if err != nil || g.Weighted || !g.Directed || g.HasEdge(1, 0) {
		t.Fatalf("directed unweighted build: %+v, %v", g, err)
	}
}

func TestBuildErrors(t *testing.T) {
	small := limits.With(context.Background(), limits.Limits{MaxNodes: 10, MaxEdges: 2})
	cases := []struct {
		name    string
		ctx     context.Context
		n       int32
		edges   []*graphv1.Edge
		weights []float64
		field   string
	}{
		{"no nodes", context.Background(), 0, nil, nil, "num_nodes"},
		{"too many nodes", small, 11, nil, nil, "num_nodes"},
		{"too many edges", small, 3, edges([2]int32{0, 1}, [2]int32{1, 2}, [2]int32{0, 2}), nil, "edges"},
		{"id too big", context.Background(), 3, edges([2]int32{0, 1}, [2]int32{1, 3}), nil, "edges[1]"},
		{"negative id", context.Background(), 3, edges([2]int32{-1, 1}), nil, "edges[0]"},
		{"nil edge", context.Background(), 3, []*graphv1.Edge{nil}, nil, "edges[0]"},
		{"weights length", context.Background(), 3, edges([2]int32{0, 1}), []float64{1, 2}, "weights"},
		{"nan weight", context.Background(), 3, edges([2]int32{0, 1}, [2]int32{1, 2}), []float64{1, math.NaN()}, "weights[1]"},
		{"inf weight", context.Background(), 3, edges([2]int32{0, 1}), []float64{math.Inf(1)}, "weights[0]"},
	}
	for _, c := range cases {
		_, err := Build(c.ctx, c.n, c.edges, c.weights, false)
		fe, ok := kerr.AsField(err)
		if !ok || fe.Field != c.field {
			t.Errorf("%s: got %v, want a field error on %q", c.name, err, c.field)
		}
	}
}

func TestWeightSigns(t *testing.T) {
	if err := NonNegative([]float64{0, 1}); err != nil {
		t.Fatal(err)
	}
	if fe, ok := kerr.AsField(NonNegative([]float64{0, -1})); !ok || fe.Field != "weights[1]" {
		t.Fatalf("NonNegative: %v", fe)
	}
	if fe, ok := kerr.AsField(Positive([]float64{1, 0})); !ok || fe.Field != "weights[1]" {
		t.Fatalf("Positive: %v", fe)
	}
	if fe, ok := kerr.AsField(Node("source", 5, 5)); !ok || fe.Field != "source" {
		t.Fatalf("Node: %v", fe)
	}
}
