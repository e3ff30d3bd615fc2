package centrality

import (
	"context"
	"errors"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/graph/csr"
)

func param[T any](t *testing.T, c fixture.Case, name string, def T) T {
	v := def
	c.Param(t, name, &v)
	return v
}

func TestBetweennessFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "betweenness-centrality") {
		got, err := Betweenness(context.Background(), c.Build(t), param(t, c, "normalized", true))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		c.CheckFloats(t, "scores", got)
	}
}

func TestClosenessFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "closeness-centrality") {
		g := c.Build(t)
		var got []float64
		var err error
		if param(t, c, "harmonic", false) {
			got, err = Harmonic(context.Background(), g, param(t, c, "normalized", true))
		} else {
			got, err = Closeness(context.Background(), g, param(t, c, "wf_improved", true))
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		c.CheckFloats(t, "scores", got)
	}
}

func TestDegreeFixtures(t *testing.T) {
	modes := map[string]DegreeMode{"": TotalDegree, "total": TotalDegree, "in": InDegree, "out": OutDegree}
	for _, c := range fixture.Valid(t, "graph", "degree-centrality") {
		mode, ok := modes[param(t, c, "mode", "")]
		if !ok {
			t.Fatalf("%s: unknown mode", c.Name)
		}
		c.CheckFloats(t, "scores", Degree(c.Build(t), mode))
	}
}

func checkIterative(t *testing.T, c fixture.Case, r Iterative) {
	t.Helper()
	c.CheckFloats(t, "scores", r.Scores)
	c.CheckInt(t, "iterations", int64(r.Iterations))
	c.CheckBool(t, "converged", r.Converged)
}

func TestPageRankFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "pagerank") {
		r, err := PageRank(context.Background(), c.Build(t), param(t, c, "damping", 0.85),
			param(t, c, "max_iterations", 100), param(t, c, "tolerance", 1e-6))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		checkIterative(t, c, r)
	}
}

func TestEigenvectorFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "eigenvector-centrality") {
		r, err := Eigenvector(context.Background(), c.Build(t),
			param(t, c, "max_iterations", 100), param(t, c, "tolerance", 1e-6))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		checkIterative(t, c, r)
	}
}

func TestKatzFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "katz-centrality") {
		r, err := Katz(context.Background(), c.Build(t), param(t, c, "alpha", 0.1), param(t, c, "beta", 1.0),
			param(t, c, "normalized", true), param(t, c, "max_iterations", 1000), param(t, c, "tolerance", 1e-6))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		checkIterative(t, c, r)
	}
}

// bigGraph is a ring with chords, large enough that every kernel runs many
// loop iterations (and so checks its context) before finishing.
func bigGraph(t *testing.T, n int) *csr.Graph {
	src := make([]int32, 0, 2*n)
	dst := make([]int32, 0, 2*n)
	for i := 0; i < n; i++ {
		src = append(src, int32(i), int32(i))
		dst = append(dst, int32((i+1)%n), int32((i*7+3)%n))
	}
	g, err := csr.Build(n, src, dst, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestCancellation(t *testing.T) {
	g := bigGraph(t, 20000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(name string, err error) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", name, err)
		}
	}
	_, err := Betweenness(ctx, g, true)
	check("betweenness", err)
	_, err = Closeness(ctx, g, true)
	check("closeness", err)
	_, err = Harmonic(ctx, g, true)
	check("harmonic", err)
	_, err = PageRank(ctx, g, 0.85, 100, 1e-6)
	check("pagerank", err)
	_, err = Eigenvector(ctx, g, 100, 1e-6)
	check("eigenvector", err)
	_, err = Katz(ctx, g, 0.1, 1, true, 1000, 1e-6)
	check("katz", err)
}

// TestBetweennessDeterministic checks that repeated parallel runs give
// bit-identical scores.
func TestBetweennessDeterministic(t *testing.T) {
	g := bigGraph(t, 600)
	a, err := Betweenness(context.Background(), g, true)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := Betweenness(context.Background(), g, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("run differs at %d: %v vs %v", i, a[i], b[i])
			}
		}
	}
}
