package modularity

import (
	"context"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/kerr"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			NumNodes    int        `json:"num_nodes"`
			Edges       [][2]int32 `json:"edges"`
			Weights     []float64  `json:"weights"`
			Directed    bool       `json:"directed"`
			Communities []int32    `json:"communities"`
			Resolution  *float64   `json:"resolution"`
		} `json:"input"`
		Expect struct {
			Modularity     float64 `json:"modularity"`
			NumCommunities int     `json:"num_communities"`
		} `json:"expect"`
		ErrorField string `json:"error_field"`
	} `json:"cases"`
}

func TestFixtures(t *testing.T) {
	var fx fixture
	fixtures.Read(t, "graph", "modularity-score", &fx)
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
				if c.ErrorField != "" {
					return // a graph-building error, checked by the registration tests
				}
				t.Fatal(err)
			}
			res := 1.0
			if in.Resolution != nil {
				res = *in.Resolution
			}
			q, k, err := Of(ctx, g, in.Communities, res)
			if c.ErrorField != "" {
				fe, ok := kerr.AsField(err)
				if !ok || fe.Field != c.ErrorField {
					t.Fatalf("err = %v, want a field error on %s", err, c.ErrorField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(q-c.Expect.Modularity) > 1e-12+1e-9*math.Abs(c.Expect.Modularity) {
				t.Errorf("Q = %.17g, networkx %.17g", q, c.Expect.Modularity)
			}
			if k != c.Expect.NumCommunities {
				t.Errorf("communities = %d, want %d", k, c.Expect.NumCommunities)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	n := 50000
	src, dst := make([]int32, n), make([]int32, n)
	for i := range src {
		src[i], dst[i] = int32(i), int32((i+1)%n)
	}
	g, _ := csr.Build(n, src, dst, nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Of(ctx, g, make([]int32, n), 1); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
