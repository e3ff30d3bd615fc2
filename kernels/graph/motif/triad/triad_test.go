package triad

import (
	"context"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"slices"
	"testing"

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
			TriadTypes []string `json:"triad_types"`
			Counts     []int64  `json:"counts"`
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

func TestFixtures(t *testing.T) {
	var fx fixture
	fixtures.Read(t, "graph", "motif-detection", &fx)
	for _, c := range fx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			in := c.Input
			g := build(t, in.NumNodes, in.Edges, in.Weights, in.Directed)
			names, counts, err := Census(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names, c.Expect.TriadTypes) {
				t.Errorf("types %v, want %v", names, c.Expect.TriadTypes)
			}
			if !slices.Equal(counts, c.Expect.Counts) {
				t.Errorf("counts %v\nnetworkx %v", counts, c.Expect.Counts)
			}
		})
	}
}

func TestTooManyNodes(t *testing.T) {
	// The size check comes before anything reads the adjacency.
	g := &csr.Graph{N: 4_000_000, Directed: true}
	if _, _, err := Census(context.Background(), g); err == nil {
		t.Fatal("C(4e6, 3) does not fit in int64 but no error")
	}
}

func TestCancelled(t *testing.T) {
	g := build(t, 10, [][2]int32{{0, 1}, {1, 2}}, nil, true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Census(ctx, g); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
