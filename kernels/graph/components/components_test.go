package components

import (
	"context"
	"errors"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/graph/csr"
)

func check(t *testing.T, c fixture.Case, prefix string, r Result) {
	t.Helper()
	fixture.CheckInts(t, c, prefix+"labels", r.Labels)
	fixture.CheckInts(t, c, prefix+"sizes", r.Sizes)
	c.CheckInt(t, "num_"+prefix+"components", int64(r.Count()))
}

func TestFixtures(t *testing.T) {
	for _, c := range fixture.Valid(t, "graph", "connected-components") {
		g := c.Build(t)
		weak, err := Weak(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		check(t, c, "", weak)

		// The edge-list path must agree with the CSR one.
		src := make([]int32, len(c.Graph(t).Edges))
		dst := make([]int32, len(c.Graph(t).Edges))
		for i, e := range c.Graph(t).Edges {
			src[i], dst[i] = e[0], e[1]
		}
		fromEdges, err := WeakEdges(context.Background(), c.Graph(t).NumNodes, src, dst)
		if err != nil {
			t.Fatal(err)
		}
		check(t, c, "", fromEdges)

		if g.Directed {
			strong, err := Strong(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			check(t, c, "strong_", strong)
		}
	}
}

// TestStrongDeepPath makes sure the iterative Tarjan handles a path far
// deeper than a recursive one could.
func TestStrongDeepPath(t *testing.T) {
	n := 300000
	src := make([]int32, n-1)
	dst := make([]int32, n-1)
	for i := range src {
		src[i], dst[i] = int32(i), int32(i+1)
	}
	// Close the loop: one strongly connected component of all nodes.
	src = append(src, int32(n-1))
	dst = append(dst, 0)
	g, err := csr.Build(n, src, dst, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Strong(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if r.Count() != 1 || r.Largest() != n {
		t.Fatalf("got %d components (largest %d), want 1 of %d", r.Count(), r.Largest(), n)
	}
}

func TestCancellation(t *testing.T) {
	n := 200000
	src := make([]int32, n-1)
	dst := make([]int32, n-1)
	for i := range src {
		src[i], dst[i] = int32(i), int32(i+1)
	}
	g, err := csr.Build(n, src, dst, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Weak(ctx, g); !errors.Is(err, context.Canceled) {
		t.Errorf("Weak: %v", err)
	}
	if _, err := WeakEdges(ctx, n, src, dst); !errors.Is(err, context.Canceled) {
		t.Errorf("WeakEdges: %v", err)
	}
	if _, err := Strong(ctx, g); !errors.Is(err, context.Canceled) {
		t.Errorf("Strong: %v", err)
	}
}
