package components

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
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

// TestStrongMatchesTarjan checks Pearce's search against the textbook
// Tarjan search on random directed multigraphs of several shapes: sparse and
// dense, self-loops and parallel arcs, many small cycles, one long chain
// with back arcs, and isolated nodes.
func TestStrongMatchesTarjan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for trial := range 400 {
		n := 1 + rng.IntN(60)
		if trial%50 == 0 {
			n = 2000 + rng.IntN(3000)
		}
		var src, dst []int32
		switch trial % 4 {
		case 0: // uniform, density from empty to dense
			m := rng.IntN(4*n + 1)
			for range m {
				src, dst = append(src, int32(rng.IntN(n))), append(dst, int32(rng.IntN(n)))
			}
		case 1: // many small cycles plus a few links between them
			for v := 0; v+2 < n; v += 3 {
				src = append(src, int32(v), int32(v+1), int32(v+2))
				dst = append(dst, int32(v+1), int32(v+2), int32(v))
			}
			for range n / 4 {
				src, dst = append(src, int32(rng.IntN(n))), append(dst, int32(rng.IntN(n)))
			}
		case 2: // a chain with random back arcs and self-loops
			for v := 0; v+1 < n; v++ {
				src, dst = append(src, int32(v)), append(dst, int32(v+1))
			}
			for range n / 3 {
				a := rng.IntN(n)
				b := rng.IntN(a + 1)
				src, dst = append(src, int32(a)), append(dst, int32(b))
			}
		case 3: // parallel arcs only between a few nodes, the rest isolated
			k := 1 + rng.IntN(min(n, 6))
			for range 3 * k {
				a, b := int32(rng.IntN(k)), int32(rng.IntN(k))
				src, dst = append(src, a, a), append(dst, b, b)
			}
		}
		g, err := csr.Build(n, src, dst, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Strong(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := tarjan(context.Background(), g)
		if !slices.Equal(got.Labels, want.Labels) || !slices.Equal(got.Sizes, want.Sizes) {
			t.Fatalf("trial %d (n=%d, %d arcs): Pearce %v / %v, Tarjan %v / %v",
				trial, n, len(src), got.Labels, got.Sizes, want.Labels, want.Sizes)
		}
	}
}
