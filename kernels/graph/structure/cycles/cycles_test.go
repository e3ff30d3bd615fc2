package cycles

import (
	"context"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"slices"
	"testing"
	"time"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			NumNodes int        `json:"num_nodes"`
			Edges    [][2]int32 `json:"edges"`
			Weights  []float64  `json:"weights"`
			Directed bool       `json:"directed"`
		} `json:"input"`
		Expect struct {
			Len2   []int64 `json:"cycles_len2"`
			Len3   []int64 `json:"cycles_len3"`
			Len4   []int64 `json:"cycles_len4"`
			Total2 int64   `json:"total_len2"`
			Total3 int64   `json:"total_len3"`
			Total4 int64   `json:"total_len4"`
		} `json:"expect"`
	} `json:"cases"`
}

func build(t *testing.T, n int, edges [][2]int32, w []float64, directed bool) *csr.Graph {
	t.Helper()
	src, dst := make([]int32, len(edges)), make([]int32, len(edges))
	for i, e := range edges {
		src[i], dst[i] = e[0], e[1]
	}
	g, err := csr.Build(n, src, dst, w, directed)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestFixtures compares with the fixtures' brute-force enumeration.
func TestFixtures(t *testing.T) {
	var fx fixture
	fixtures.Read(t, "graph", "cycle-participation", &fx)
	for _, c := range fx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			in := c.Input
			r, err := Count(context.Background(), build(t, in.NumNodes, in.Edges, in.Weights, in.Directed))
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range [][]int64{c.Expect.Len2, c.Expect.Len3, c.Expect.Len4} {
				if !slices.Equal(r.PerNode[i], want) {
					t.Errorf("length %d: %v\nbrute force %v", i+2, r.PerNode[i], want)
				}
			}
			if r.Total != [3]int64{c.Expect.Total2, c.Expect.Total3, c.Expect.Total4} {
				t.Errorf("totals %v, want %d %d %d", r.Total, c.Expect.Total2, c.Expect.Total3, c.Expect.Total4)
			}
		})
	}
}

// TestCompleteDigraph checks the closed forms for the complete digraph on
// n nodes: a node lies on (n-1) 2-cycles, (n-1)(n-2) 3-cycles and
// (n-1)(n-2)(n-3) 4-cycles.
func TestCompleteDigraph(t *testing.T) {
	n := 9
	var edges [][2]int32
	for u := 0; u < n; u++ {
		for v := 0; v < n; v++ {
			if u != v {
				edges = append(edges, [2]int32{int32(u), int32(v)})
			}
		}
	}
	r, err := Count(context.Background(), build(t, n, edges, nil, true))
	if err != nil {
		t.Fatal(err)
	}
	want := [3]int64{int64(n - 1), int64((n - 1) * (n - 2)), int64((n - 1) * (n - 2) * (n - 3))}
	for i := range want {
		for v := 0; v < n; v++ {
			if r.PerNode[i][v] != want[i] {
				t.Fatalf("length %d node %d: %d, want %d", i+2, v, r.PerNode[i][v], want[i])
			}
		}
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, directed := range []bool{true, false} {
		g := build(t, 4, [][2]int32{{0, 1}, {1, 2}, {2, 0}}, nil, directed)
		if _, err := Count(ctx, g); err != context.Canceled {
			t.Fatalf("directed=%v: err = %v, want context.Canceled", directed, err)
		}
	}
}

// TestDeadlineMidSearch: the complete digraph on 400 nodes has ~2.5e10
// 4-cycles; the count must stop soon after the deadline.
func TestDeadlineMidSearch(t *testing.T) {
	n := 400
	var edges [][2]int32
	for u := 0; u < n; u++ {
		for v := 0; v < n; v++ {
			if u != v {
				edges = append(edges, [2]int32{int32(u), int32(v)})
			}
		}
	}
	g := build(t, n, edges, nil, true)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Count(ctx, g); err != context.DeadlineExceeded {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v to notice the deadline", d)
	}
}
