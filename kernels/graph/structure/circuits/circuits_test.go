package circuits

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

func build(t *testing.T, n int, arcs [][2]int32) *csr.Graph {
	t.Helper()
	src, dst := make([]int32, len(arcs)), make([]int32, len(arcs))
	for i, a := range arcs {
		src[i], dst[i] = a[0], a[1]
	}
	g, err := csr.Build(n, src, dst, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func collect(t *testing.T, g *csr.Graph, maxLen int) []string {
	t.Helper()
	var got []string
	_, err := Bounded(context.Background(), g, maxLen, 0, func(p []int32) error {
		got = append(got, fmt.Sprint(p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// bruteForce lists every node sequence v0 < v1..vk (distinct, v0 smallest)
// whose consecutive arcs and closing arc exist, by trying all sequences.
func bruteForce(n int, arcs [][2]int32, maxLen int) []string {
	adj := map[[2]int32]bool{}
	for _, a := range arcs {
		adj[a] = true
	}
	var out []string
	var rec func(path []int32)
	rec = func(path []int32) {
		last := path[len(path)-1]
		if len(path) >= 2 && len(path) <= maxLen && adj[[2]int32{last, path[0]}] {
			out = append(out, fmt.Sprint(path))
		}
		if len(path) >= maxLen {
			return
		}
		for w := path[0] + 1; w < int32(n); w++ {
			if !slices.Contains(path, w) && adj[[2]int32{last, w}] {
				rec(append(slices.Clone(path), w))
			}
		}
	}
	for v := int32(0); v < int32(n); v++ {
		rec([]int32{v})
	}
	slices.Sort(out)
	return out
}

// Every circuit of random digraphs (with self-loops and parallel arcs) is
// found exactly once, as an exhaustive search over node sequences finds it.
func TestBoundedEqualsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 300 {
		n := 1 + rng.IntN(9)
		m := rng.IntN(n*n + 1)
		arcs := make([][2]int32, m)
		for i := range arcs {
			arcs[i] = [2]int32{int32(rng.IntN(n)), int32(rng.IntN(n))}
		}
		maxLen := rng.IntN(n + 2)
		got := collect(t, build(t, n, arcs), maxLen)
		if dup := len(got) - len(slices.Compact(slices.Sorted(slices.Values(got)))); dup != 0 {
			t.Fatalf("trial %d: %d circuits listed twice", trial, dup)
		}
		slices.Sort(got)
		if want := bruteForce(n, arcs, maxLen); !slices.Equal(got, want) {
			t.Fatalf("trial %d (n=%d, maxLen=%d, arcs %v):\n got %v\nwant %v", trial, n, maxLen, arcs, got, want)
		}
	}
}

// The complete digraph on 6 nodes has Σ_{k=2..4} C(6,k)·(k−1)! circuits of
// length ≤ 4: 15 + 40 + 90 = 145.
func TestCompleteGraphCount(t *testing.T) {
	var arcs [][2]int32
	for u := range int32(6) {
		for v := range int32(6) {
			if u != v {
				arcs = append(arcs, [2]int32{u, v})
			}
		}
	}
	if got := collect(t, build(t, 6, arcs), 4); len(got) != 145 {
		t.Fatalf("%d circuits, want 145", len(got))
	}
}

// The step budget and the context stop the search.
func TestBudgetAndCancel(t *testing.T) {
	var arcs [][2]int32
	for u := range int32(40) {
		for v := range int32(40) {
			if u != v {
				arcs = append(arcs, [2]int32{u, v})
			}
		}
	}
	g := build(t, 40, arcs)
	none := func([]int32) error { return nil }
	if _, err := Bounded(context.Background(), g, 6, 100_000, none); !errors.Is(err, ErrSteps) {
		t.Fatalf("budget: %v, want ErrSteps", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Bounded(ctx, g, 6, 0, none); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	stop := errors.New("stop")
	n := 0
	_, err := Bounded(context.Background(), g, 3, 0, func([]int32) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("emit error: %v after %d", err, n)
	}
}
