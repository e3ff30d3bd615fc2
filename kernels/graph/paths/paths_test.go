package paths

import (
	"context"
	"errors"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/csr"
)

func TestShortestPathFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "shortest-path") {
		g := c.Build(t)
		var allPairs bool
		c.Param(t, "all_pairs", &allPairs)
		if allPairs {
			d, err := AllPairs(context.Background(), g)
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			c.CheckFloats(t, "distances", d)
			continue
		}
		var src int32
		if !c.Param(t, "source", &src) {
			t.Fatalf("%s: no source", c.Name)
		}
		d, p, err := SingleSource(context.Background(), g, src)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		c.CheckFloats(t, "distances", d)
		fixture.CheckInts(t, c, "predecessors", p)
	}
}

func TestAveragePathLengthFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "average-path-length") {
		g := c.Build(t)
		s, err := Sums(context.Background(), g)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		mode := ""
		c.Param(t, "disconnected", &mode)
		if mode == "reachable" {
			c.CheckFloat(t, "average_path_length", s.Reachable())
		} else {
			c.CheckFloat(t, "average_path_length", s.NetworkX())
		}
		c.CheckInt(t, "reachable_pairs", s.Pairs)
		strong, err := components.Strong(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		c.CheckBool(t, "connected", strong.Count() == 1)
	}
}

func TestCancellation(t *testing.T) {
	n := 5000
	src := make([]int32, n)
	dst := make([]int32, n)
	for i := range src {
		src[i], dst[i] = int32(i), int32((i+1)%n)
	}
	g, err := csr.Build(n, src, dst, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := AllPairs(ctx, g); !errors.Is(err, context.Canceled) {
		t.Errorf("AllPairs: %v", err)
	}
	if _, err := Sums(ctx, g); !errors.Is(err, context.Canceled) {
		t.Errorf("Sums: %v", err)
	}
	if _, _, err := SingleSource(ctx, g, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("SingleSource: %v", err)
	}
}

// TestZeroWeights covers what the fixtures avoid: zero-weight edges give
// zero distances and keep the smallest-id predecessor among ties.
func TestZeroWeights(t *testing.T) {
	// 0 -0- 1 -1- 3 and 0 -1- 2 -0- 3: both paths to 3 have length 1.
	g, err := csr.Build(4, []int32{0, 1, 0, 2}, []int32{1, 3, 2, 3}, []float64{0, 1, 1, 0}, false)
	if err != nil {
		t.Fatal(err)
	}
	d, p, err := SingleSource(context.Background(), g, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantD := []float64{0, 0, 1, 1}
	wantP := []int32{-1, 0, 0, 1}
	for i := range wantD {
		if d[i] != wantD[i] || p[i] != wantP[i] {
			t.Fatalf("node %d: dist %v pred %d, want %v, %d", i, d[i], p[i], wantD[i], wantP[i])
		}
	}
}
