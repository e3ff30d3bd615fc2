package star

import (
	"context"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"slices"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			NumNodes  int        `json:"num_nodes"`
			Edges     [][2]int32 `json:"edges"`
			Weights   []float64  `json:"weights"`
			Directed  bool       `json:"directed"`
			MinSpokes *int       `json:"min_spokes"`
		} `json:"input"`
		Expect struct {
			Scores         []float64 `json:"scores"`
			Degree         []int32   `json:"degree"`
			LeafNeighbors  []int32   `json:"leaf_neighbors"`
			Hubs           []int32   `json:"hubs"`
			Centralization float64   `json:"degree_centralization"`
		} `json:"expect"`
	} `json:"cases"`
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }

func TestFixtures(t *testing.T) {
	var fx fixture
	fixtures.Read(t, "graph", "star-topology", &fx)
	ctx := context.Background()
	for _, c := range fx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			in := c.Input
			src, dst := make([]int32, len(in.Edges)), make([]int32, len(in.Edges))
			for i, e := range in.Edges {
				src[i], dst[i] = e[0], e[1]
			}
			g, err := csr.Build(in.NumNodes, src, dst, in.Weights, in.Directed)
			if err != nil {
				t.Fatal(err)
			}
			u, err := undirected.Of(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			minSpokes := 3
			if in.MinSpokes != nil {
				minSpokes = *in.MinSpokes
			}
			r, err := Compute(ctx, u, minSpokes)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(r.Scores, c.Expect.Scores, close) {
				t.Errorf("scores %v\nwant %v", r.Scores, c.Expect.Scores)
			}
			if !slices.Equal(r.Degree, c.Expect.Degree) || !slices.Equal(r.LeafNeighbors, c.Expect.LeafNeighbors) {
				t.Errorf("degree %v leaves %v\nwant %v %v", r.Degree, r.LeafNeighbors, c.Expect.Degree, c.Expect.LeafNeighbors)
			}
			if !slices.Equal(r.Hubs, c.Expect.Hubs) {
				t.Errorf("hubs %v, want %v", r.Hubs, c.Expect.Hubs)
			}
			if !close(r.Centralization, c.Expect.Centralization) {
				t.Errorf("centralization %v, want %v", r.Centralization, c.Expect.Centralization)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	g, _ := csr.Build(3, []int32{0}, []int32{1}, nil, false)
	u, _ := undirected.Of(context.Background(), g)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Compute(ctx, u, 1); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
