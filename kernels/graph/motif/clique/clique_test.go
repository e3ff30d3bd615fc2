package clique

import (
	"context"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"slices"
	"testing"
	"time"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			NumNodes   int        `json:"num_nodes"`
			Edges      [][2]int32 `json:"edges"`
			Weights    []float64  `json:"weights"`
			Directed   bool       `json:"directed"`
			K          int        `json:"k"`
			MaxCliques *int       `json:"max_cliques"`
		} `json:"input"`
		Expect struct {
			NumCliques  int64     `json:"num_cliques"`
			Cliques     [][]int32 `json:"cliques"`
			Truncated   bool      `json:"truncated"`
			Communities [][]int32 `json:"communities"`
		} `json:"expect"`
		ErrorField string `json:"error_field"`
	} `json:"cases"`
}

func view(t *testing.T, n int, edges [][2]int32, w []float64, directed bool) *undirected.Graph {
	t.Helper()
	src, dst := make([]int32, len(edges)), make([]int32, len(edges))
	for i, e := range edges {
		src[i], dst[i] = e[0], e[1]
	}
	g, err := csr.Build(n, src, dst, w, directed)
	if err != nil {
		t.Fatal(err)
	}
	u, err := undirected.Of(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func equalSets(a, b [][]int32) bool {
	return slices.EqualFunc(a, b, func(x, y []int32) bool { return slices.Equal(x, y) })
}

func TestFixtures(t *testing.T) {
	var fx fixture
	fixtures.Read(t, "graph", "k-clique", &fx)
	ctx := context.Background()
	for _, c := range fx.Cases {
		if c.ErrorField != "" {
			continue // directed input: rejected by the registration, tested there
		}
		t.Run(c.Name, func(t *testing.T) {
			in := c.Input
			g := view(t, in.NumNodes, in.Edges, in.Weights, in.Directed)
			limit := 1000
			if in.MaxCliques != nil {
				limit = *in.MaxCliques
			}
			count, list, trunc, err := Cliques(ctx, g, in.K, limit)
			if err != nil {
				t.Fatal(err)
			}
			if count != c.Expect.NumCliques || trunc != c.Expect.Truncated {
				t.Errorf("count %d truncated %v, networkx %d %v", count, trunc, c.Expect.NumCliques, c.Expect.Truncated)
			}
			if !equalSets(list, c.Expect.Cliques) && !(len(list) == 0 && len(c.Expect.Cliques) == 0) {
				t.Errorf("cliques %v\nnetworkx %v", list, c.Expect.Cliques)
			}
			comms, err := Communities(ctx, g, in.K)
			if err != nil {
				t.Fatal(err)
			}
			if !equalSets(comms, c.Expect.Communities) {
				t.Errorf("communities %v\nnetworkx %v", comms, c.Expect.Communities)
			}
		})
	}
}

// TestMaximalCliquesBruteForce compares Bron–Kerbosch with a check of every
// node subset of a small dense graph.
func TestMaximalCliquesBruteForce(t *testing.T) {
	n := 14
	var edges [][2]int32
	seed := uint32(3)
	for u := 0; u < n; u++ {
		for v := u + 1; v < n; v++ {
			seed = seed*1664525 + 1013904223
			if seed>>24 < 150 {
				edges = append(edges, [2]int32{int32(u), int32(v)})
			}
		}
	}
	g := view(t, n, edges, nil, false)
	isClique := func(mask int) bool {
		for a := 0; a < n; a++ {
			for b := a + 1; b < n; b++ {
				if mask&(1<<a) != 0 && mask&(1<<b) != 0 && !g.HasEdge(a, b) {
					return false
				}
			}
		}
		return true
	}
	var want [][]int32
	for mask := 1; mask < 1<<n; mask++ {
		if !isClique(mask) {
			continue
		}
		maximal := true
		for v := 0; v < n && maximal; v++ {
			if mask&(1<<v) == 0 && isClique(mask|1<<v) {
				maximal = false
			}
		}
		if maximal {
			var c []int32
			for v := 0; v < n; v++ {
				if mask&(1<<v) != 0 {
					c = append(c, int32(v))
				}
			}
			want = append(want, c)
		}
	}
	got, err := MaximalCliques(context.Background(), g, 1)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, slices.Compare)
	slices.SortFunc(want, slices.Compare)
	if !equalSets(got, want) {
		t.Fatalf("maximal cliques %v\nbrute force %v", got, want)
	}
}

func TestCancelled(t *testing.T) {
	g := view(t, 5, [][2]int32{{0, 1}, {1, 2}, {0, 2}}, nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, _, err := Cliques(ctx, g, 3, 10); err != context.Canceled {
		t.Fatalf("Cliques err = %v", err)
	}
	if _, err := Communities(ctx, g, 3); err != context.Canceled {
		t.Fatalf("Communities err = %v", err)
	}
}

// TestDeadlineMidSearch: K_70 has C(70, 12) ≈ 1e13 12-cliques; the search
// must notice the deadline inside one start node's enumeration.
func TestDeadlineMidSearch(t *testing.T) {
	n := 70
	var edges [][2]int32
	for u := 0; u < n; u++ {
		for v := u + 1; v < n; v++ {
			edges = append(edges, [2]int32{int32(u), int32(v)})
		}
	}
	g := view(t, n, edges, nil, false)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, _, err := Cliques(ctx, g, 12, 10); err != context.DeadlineExceeded {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v to notice the deadline", d)
	}
}
