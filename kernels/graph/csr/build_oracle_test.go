package csr

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// buildSorted is the original comparison-sort Build, kept verbatim as the
// oracle for the counting-sort Build: every arc is materialised, the 2m arcs
// are sorted by (source, target, input order) and duplicates collapse to the
// last occurrence.
func buildSorted(n int, src, dst []int32, w []float64, directed bool) (*Graph, error) {
	if n < 1 {
		return nil, fmt.Errorf("num_nodes must be >= 1")
	}
	if len(src) != len(dst) {
		return nil, fmt.Errorf("source and target lengths differ")
	}
	if w != nil && len(w) != len(src) {
		return nil, fmt.Errorf("weights must have one value per edge")
	}
	m := len(src)
	for i := 0; i < m; i++ {
		if src[i] < 0 || int(src[i]) >= n || dst[i] < 0 || int(dst[i]) >= n {
			return nil, &EdgeError{Index: i, Msg: fmt.Sprintf("node id out of range [0, %d)", n)}
		}
		if w != nil && (math.IsNaN(w[i]) || math.IsInf(w[i], 0)) {
			return nil, &EdgeError{Index: i, Msg: "weight must be finite"}
		}
	}
	type arc struct {
		u, v int32
		ord  int32
	}
	cap := m
	if !directed {
		cap = 2 * m
	}
	arcs := make([]arc, 0, cap)
	for i := 0; i < m; i++ {
		arcs = append(arcs, arc{src[i], dst[i], int32(i)})
		if !directed && src[i] != dst[i] {
			arcs = append(arcs, arc{dst[i], src[i], int32(i)})
		}
	}
	slices.SortFunc(arcs, func(a, b arc) int {
		if a.u != b.u {
			return int(a.u - b.u)
		}
		if a.v != b.v {
			return int(a.v - b.v)
		}
		return int(a.ord - b.ord)
	})
	out := arcs[:0]
	for i := 0; i < len(arcs); i++ {
		if i+1 < len(arcs) && arcs[i+1].u == arcs[i].u && arcs[i+1].v == arcs[i].v {
			continue
		}
		out = append(out, arcs[i])
	}
	arcs = out

	g := &Graph{N: n, Directed: directed, Weighted: w != nil}
	g.Ptr = make([]int32, n+1)
	g.Idx = make([]int32, len(arcs))
	if w != nil {
		g.W = make([]float64, len(arcs))
	}
	loops := 0
	for i, a := range arcs {
		g.Ptr[a.u+1]++
		g.Idx[i] = a.v
		if w != nil {
			g.W[i] = w[a.ord]
		}
		if a.u == a.v {
			loops++
		}
	}
	for u := 0; u < n; u++ {
		g.Ptr[u+1] += g.Ptr[u]
	}
	g.SelfLoops = loops
	if directed {
		g.NumEdges = len(arcs)
		g.buildIn()
	} else {
		g.NumEdges = (len(arcs)-loops)/2 + loops
		g.InPtr, g.InIdx, g.InW = g.Ptr, g.Idx, g.W
	}
	return g, nil
}

// sameGraph reports the first difference between two graphs, bit for bit
// (weights compared by their bits, so -0 and 0 differ).
func sameGraph(a, b *Graph) error {
	if a.N != b.N || a.Directed != b.Directed || a.Weighted != b.Weighted ||
		a.NumEdges != b.NumEdges || a.SelfLoops != b.SelfLoops {
		return fmt.Errorf("header: N %d/%d directed %v/%v weighted %v/%v edges %d/%d loops %d/%d",
			a.N, b.N, a.Directed, b.Directed, a.Weighted, b.Weighted, a.NumEdges, b.NumEdges, a.SelfLoops, b.SelfLoops)
	}
	eqW := func(x, y []float64) bool {
		if (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return false
			}
		}
		return true
	}
	switch {
	case !slices.Equal(a.Ptr, b.Ptr):
		return fmt.Errorf("Ptr differs")
	case !slices.Equal(a.Idx, b.Idx):
		return fmt.Errorf("Idx differs")
	case !eqW(a.W, b.W):
		return fmt.Errorf("W differs")
	case !slices.Equal(a.InPtr, b.InPtr):
		return fmt.Errorf("InPtr differs")
	case !slices.Equal(a.InIdx, b.InIdx):
		return fmt.Errorf("InIdx differs")
	case !eqW(a.InW, b.InW):
		return fmt.Errorf("InW differs")
	}
	return nil
}

// randomEdges draws m edges on n nodes with many duplicates, reversed
// duplicates, self-loops and a hub (node 0) whose adjacency list is long
// enough to take the large-bucket path; weights are distinct so that the
// "last weight wins" rule is observable.
func randomEdges(rng *rand.Rand, n, m int, weighted bool) ([]int32, []int32, []float64) {
	src, dst := make([]int32, m), make([]int32, m)
	var w []float64
	if weighted {
		w = make([]float64, m)
	}
	for i := range src {
		switch r := rng.IntN(10); {
		case r == 0 && i > 0: // exact duplicate of an earlier edge
			j := rng.IntN(i)
			src[i], dst[i] = src[j], dst[j]
		case r == 1 && i > 0: // reversed duplicate
			j := rng.IntN(i)
			src[i], dst[i] = dst[j], src[j]
		case r == 2: // self-loop
			u := int32(rng.IntN(n))
			src[i], dst[i] = u, u
		case r == 3: // hub
			src[i], dst[i] = 0, int32(rng.IntN(n))
		default:
			src[i], dst[i] = int32(rng.IntN(n)), int32(rng.IntN(n))
		}
		if weighted {
			w[i] = float64(i) + rng.Float64()
		}
	}
	return src, dst, w
}

func TestBuildMatchesSortOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	sizes := []struct{ n, m int }{
		{1, 0}, {1, 1}, {1, 5}, {2, 3}, {3, 10}, {5, 40}, {17, 100}, {50, 2000},
		{200, 300}, {1000, 5000}, {300, 20000}, {4000, 100000},
	}
	for trial := 0; trial < 6; trial++ {
		for _, sz := range sizes {
			for _, directed := range []bool{false, true} {
				for _, weighted := range []bool{false, true} {
					src, dst, w := randomEdges(rng, sz.n, sz.m, weighted)
					want, err1 := buildSorted(sz.n, src, dst, w, directed)
					got, err2 := Build(sz.n, src, dst, w, directed)
					if (err1 == nil) != (err2 == nil) {
						t.Fatalf("n=%d m=%d: errors differ: %v / %v", sz.n, sz.m, err1, err2)
					}
					if err1 != nil {
						continue
					}
					if err := sameGraph(got, want); err != nil {
						t.Fatalf("trial %d n=%d m=%d directed=%v weighted=%v: %v", trial, sz.n, sz.m, directed, weighted, err)
					}
				}
			}
		}
	}
}

// TestBuildMatchesSortOracleParallel repeats the comparison on graphs big
// enough for the parallel passes, under several worker counts (odd counts
// give uneven edge and node ranges).
func TestBuildMatchesSortOracleParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(21, 22))
	sizes := []struct{ n, m int }{{3000, parallelArcs + 1}, {40_000, 80_000}, {100, 100_000}}
	for _, procs := range []int{1, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, sz := range sizes {
			for _, directed := range []bool{false, true} {
				for _, weighted := range []bool{false, true} {
					src, dst, w := randomEdges(rng, sz.n, sz.m, weighted)
					want, err := buildSorted(sz.n, src, dst, w, directed)
					if err != nil {
						t.Fatal(err)
					}
					got, err := Build(sz.n, src, dst, w, directed)
					if err != nil {
						t.Fatal(err)
					}
					if err := sameGraph(got, want); err != nil {
						t.Fatalf("GOMAXPROCS=%d n=%d m=%d directed=%v weighted=%v: %v", procs, sz.n, sz.m, directed, weighted, err)
					}
				}
			}
		}
	}
}

func TestBuildMatchesSortOracleErrors(t *testing.T) {
	cases := []struct {
		n        int
		src, dst []int32
		w        []float64
	}{
		{0, nil, nil, nil},
		{2, []int32{0}, []int32{1, 0}, nil},
		{2, []int32{0}, []int32{1}, []float64{1, 2}},
		{3, []int32{0, 1, -1}, []int32{1, 2, 0}, nil},
		{3, []int32{0, 1, 2}, []int32{1, 3, 0}, nil},
		{3, []int32{0, 1, 2}, []int32{1, 2, 0}, []float64{1, math.NaN(), 2}},
		{3, []int32{0, 1, 2}, []int32{1, 2, 0}, []float64{1, 2, math.Inf(-1)}},
	}
	for i, c := range cases {
		for _, directed := range []bool{false, true} {
			_, e1 := buildSorted(c.n, c.src, c.dst, c.w, directed)
			_, e2 := Build(c.n, c.src, c.dst, c.w, directed)
			if e1 == nil || e2 == nil || e1.Error() != e2.Error() {
				t.Fatalf("case %d: errors differ: %v / %v", i, e1, e2)
			}
		}
	}
}
