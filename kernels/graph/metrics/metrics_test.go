package metrics

import (
	"context"
	"errors"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/graph/csr"
)

func TestDensityFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "density") {
		c.CheckFloat(t, "density", Density(c.Build(t)))
	}
}

func TestTriangleFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "triangle-counting") {
		per, total, err := Triangles(context.Background(), c.Build(t))
		if err != nil {
			t.Fatal(err)
		}
		fixture.CheckInts(t, c, "triangles", per)
		c.CheckInt(t, "total", total)
	}
}

func TestClusteringFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "clustering-coefficient") {
		cl, err := ClusteringOf(context.Background(), c.Build(t))
		if err != nil {
			t.Fatal(err)
		}
		c.CheckFloats(t, "coefficients", cl.Coefficients)
		c.CheckFloat(t, "average_clustering", cl.Average)
		c.CheckFloat(t, "transitivity", cl.Transitivity)
	}
}

func TestSummaryFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "full-metrics") {
		withPaths := true
		c.Param(t, "path_metrics", &withPaths)
		s, err := Summarize(context.Background(), c.Build(t), withPaths)
		if err != nil {
			t.Fatal(err)
		}
		c.CheckInt(t, "num_nodes", int64(s.NumNodes))
		c.CheckInt(t, "num_edges", int64(s.NumEdges))
		c.CheckInt(t, "self_loops", int64(s.SelfLoops))
		c.CheckFloat(t, "density", s.Density)
		c.CheckFloat(t, "average_degree", s.AverageDegree)
		c.CheckInt(t, "max_degree", int64(s.MaxDegree))
		c.CheckFloat(t, "average_clustering", s.AverageClustering)
		c.CheckFloat(t, "transitivity", s.Transitivity)
		c.CheckInt(t, "triangles", s.Triangles)
		c.CheckInt(t, "num_components", int64(s.NumComponents))
		c.CheckInt(t, "largest_component_size", int64(s.LargestComponent))
		c.CheckInt(t, "num_strong_components", int64(s.NumStrongComponents))
		c.CheckInt(t, "largest_strong_component_size", int64(s.LargestStrongComponent))
		c.CheckBool(t, "connected", s.Connected)
		c.CheckBool(t, "has_path_metrics", s.Paths)
		if s.Paths {
			c.CheckFloat(t, "average_path_length", s.AveragePathLength)
			c.CheckFloat(t, "diameter", s.Diameter)
		}
	}
}

func TestCancellation(t *testing.T) {
	n := 50000
	src := make([]int32, 0, 2*n)
	dst := make([]int32, 0, 2*n)
	for i := 0; i < n; i++ {
		src = append(src, int32(i), int32(i))
		dst = append(dst, int32((i+1)%n), int32((i+2)%n))
	}
	g, err := csr.Build(n, src, dst, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Triangles(ctx, g); !errors.Is(err, context.Canceled) {
		t.Errorf("Triangles: %v", err)
	}
	if _, err := ClusteringOf(ctx, g); !errors.Is(err, context.Canceled) {
		t.Errorf("ClusteringOf: %v", err)
	}
	if _, err := Summarize(ctx, g, true); !errors.Is(err, context.Canceled) {
		t.Errorf("Summarize: %v", err)
	}
}
