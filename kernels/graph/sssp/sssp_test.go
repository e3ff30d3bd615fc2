package sssp

import (
	"math/rand/v2"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// TestReuse runs one Searcher from several sources on a small directed
// weighted graph and checks every answer by hand, including that results of
// an earlier search do not leak into a later one.
func TestReuse(t *testing.T) {
	// 0->1 (4), 0->2 (1), 2->1 (2), 1->3 (1), 4 isolated.
	g, err := csr.Build(5, []int32{0, 0, 2, 1}, []int32{1, 2, 1, 3}, []float64{4, 1, 2, 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	s := New(g, false, true)
	cases := []struct {
		src  int32
		dist []float64
		pred []int32
	}{
		{0, []float64{0, 3, 1, 4, Unreached}, []int32{-1, 2, 0, 1, -1}},
		{2, []float64{Unreached, 2, 0, 3, Unreached}, []int32{-1, 2, -1, 1, -1}},
		{4, []float64{Unreached, Unreached, Unreached, Unreached, 0}, []int32{-1, -1, -1, -1, -1}},
	}
	for _, c := range cases {
		s.From(c.src)
		for v := range c.dist {
			if s.Dist[v] != c.dist[v] || s.Pred[v] != c.pred[v] {
				t.Fatalf("from %d: node %d dist %v pred %d, want %v %d", c.src, v, s.Dist[v], s.Pred[v], c.dist[v], c.pred[v])
			}
		}
		if s.Reached[0] != c.src {
			t.Fatalf("from %d: Reached starts with %d", c.src, s.Reached[0])
		}
	}
	// Reversed arcs give distances towards the source.
	r := New(g, true, false)
	r.From(3)
	want := []float64{4, 1, 3, 0, Unreached}
	for v, d := range want {
		if r.Dist[v] != d {
			t.Fatalf("towards 3: node %d dist %v, want %v", v, r.Dist[v], d)
		}
	}
}

func TestBFSPredecessorTies(t *testing.T) {
	// Diamond 0-2, 0-1, 1-3, 2-3: node 3 has predecessors 1 and 2; the
	// smaller id wins whatever the visiting order.
	g, err := csr.Build(4, []int32{0, 0, 2, 1}, []int32{2, 1, 3, 3}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	s := New(g, false, true)
	s.From(0)
	if s.Dist[3] != 2 || s.Pred[3] != 1 {
		t.Fatalf("node 3: dist %v pred %d, want 2, 1", s.Dist[3], s.Pred[3])
	}
}

// TestZeroLengthPredecessorsFormATree: with zero-length edges the tight
// predecessors of equal-distance nodes point at each other; Pred must still
// be a tree (issue 13: following it looped 0 → 23 → … → 0). From every
// reached node, the predecessors lead back to the source along tight edges,
// for many sources of random graphs with mostly zero lengths, so that stale
// state of a previous search would show too.
func TestZeroLengthPredecessorsFormATree(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 6))
	for trial := range 40 {
		n := 2 + rng.IntN(40)
		m := rng.IntN(4 * n)
		var src, dst []int32
		var w []float64
		for range m {
			src = append(src, int32(rng.IntN(n)))
			dst = append(dst, int32(rng.IntN(n)))
			w = append(w, []float64{0, 0, 0, 1, 0.5}[rng.IntN(5)])
		}
		directed := trial%2 == 0
		g, err := csr.Build(n, src, dst, w, directed)
		if err != nil {
			t.Fatal(err)
		}
		weight := map[[2]int32]float64{} // duplicate edges: the last weight wins (csr)
		for i := range src {
			weight[[2]int32{src[i], dst[i]}] = w[i]
			if !directed {
				weight[[2]int32{dst[i], src[i]}] = w[i]
			}
		}
		s := New(g, false, true)
		for from := range int32(n) {
			s.From(from)
			for _, v := range s.Reached {
				steps := 0
				for x := v; x != from; x = s.Pred[x] {
					p := s.Pred[x]
					if p < 0 {
						t.Fatalf("trial %d from %d: node %d (reached) has no predecessor", trial, from, x)
					}
					if s.Dist[p]+weight[[2]int32{p, x}] != s.Dist[x] {
						t.Fatalf("trial %d from %d: predecessor %d of %d is not on a shortest path", trial, from, p, x)
					}
					if steps++; steps > n {
						t.Fatalf("trial %d from %d: predecessors of %d loop", trial, from, v)
					}
				}
			}
		}
	}
}
