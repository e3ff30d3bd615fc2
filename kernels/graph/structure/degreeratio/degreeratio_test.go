package degreeratio

import (
	"context"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
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
			InDegree    []int32   `json:"in_degree"`
			OutDegree   []int32   `json:"out_degree"`
			Ratio       []float64 `json:"ratio"`
			InStrength  []float64 `json:"in_strength"`
			OutStrength []float64 `json:"out_strength"`
		} `json:"expect"`
	} `json:"cases"`
}

func closeAll(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Abs(x-y) <= 1e-12+1e-9*math.Abs(y) })
}

func TestFixtures(t *testing.T) {
	var fx fixture
	fixtures.Read(t, "graph", "degree-ratio", &fx)
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
			r, err := Compute(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.InDegree, c.Expect.InDegree) || !slices.Equal(r.OutDegree, c.Expect.OutDegree) {
				t.Errorf("degrees in %v out %v\nnetworkx in %v out %v", r.InDegree, r.OutDegree, c.Expect.InDegree, c.Expect.OutDegree)
			}
			if !closeAll(r.Ratio, c.Expect.Ratio) {
				t.Errorf("ratio %v\nwant %v", r.Ratio, c.Expect.Ratio)
			}
			if !closeAll(r.InStrength, c.Expect.InStrength) || !closeAll(r.OutStrength, c.Expect.OutStrength) {
				t.Errorf("strengths in %v out %v\nnetworkx in %v out %v", r.InStrength, r.OutStrength, c.Expect.InStrength, c.Expect.OutStrength)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	g, _ := csr.Build(3, []int32{0}, []int32{1}, nil, true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Compute(ctx, g); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
