package gcn

import (
	"context"
	"encoding/json"
	"math"
	"os"
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
			Features    []float64  `json:"features"`
			NumFeatures int        `json:"num_features"`
			Layers      []struct {
				OutDim     int       `json:"out_dim"`
				Weight     []float64 `json:"weight"`
				Bias       []float64 `json:"bias"`
				Activation string    `json:"activation"`
			} `json:"layers"`
		} `json:"input"`
		Expect struct {
			Embeddings []float64 `json:"embeddings"`
			NumNodes   int       `json:"num_nodes"`
			Dim        int       `json:"dim"`
		} `json:"expect"`
		ErrorField string `json:"error_field"`
	} `json:"cases"`
}

// TestFixtures compares with the dense NumPy reference to 1e-9.
func TestFixtures(t *testing.T) {
	raw, err := os.ReadFile("../../../../testdata/fixtures/graph/gnn-inference.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx fixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
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
			layers := make([]Layer, len(in.Layers))
			for i, l := range in.Layers {
				layers[i] = Layer{OutDim: l.OutDim, Weight: l.Weight, Bias: l.Bias, Activation: l.Activation}
			}
			got, dim, err := Forward(context.Background(), g, in.Features, in.NumFeatures, layers)
			if c.ErrorField != "" {
				if fe, ok := kerr.AsField(err); !ok || fe.Field != c.ErrorField {
					t.Fatalf("err = %v, want a field error on %s", err, c.ErrorField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dim != c.Expect.Dim || len(got) != len(c.Expect.Embeddings) {
				t.Fatalf("dim %d, %d values; want %d, %d", dim, len(got), c.Expect.Dim, len(c.Expect.Embeddings))
			}
			for i, want := range c.Expect.Embeddings {
				if math.Abs(got[i]-want) > 1e-12+1e-9*math.Abs(want) {
					t.Fatalf("embeddings[%d] = %.17g, NumPy %.17g", i, got[i], want)
				}
			}
		})
	}
}

func TestNegativeWeight(t *testing.T) {
	g, _ := csr.Build(2, []int32{0}, []int32{1}, []float64{-1}, false)
	_, _, err := Forward(context.Background(), g, []float64{1, 2}, 1, []Layer{{OutDim: 1, Weight: []float64{1}}})
	if fe, ok := kerr.AsField(err); !ok || fe.Field != "weights" {
		t.Fatalf("err = %v, want a field error on weights", err)
	}
}

func TestCancelled(t *testing.T) {
	g, _ := csr.Build(2, []int32{0}, []int32{1}, nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := Forward(ctx, g, []float64{1, 2}, 1, []Layer{{OutDim: 1, Weight: []float64{1}}})
	if err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
