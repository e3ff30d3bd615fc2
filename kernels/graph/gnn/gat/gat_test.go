package gat

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
				Heads         *int      `json:"heads"`
				OutDim        int       `json:"out_dim"`
				Weight        []float64 `json:"weight"`
				Attention     []float64 `json:"attention"`
				Bias          []float64 `json:"bias"`
				Activation    string    `json:"activation"`
				HeadMerge     string    `json:"head_merge"`
				NegativeSlope *float64  `json:"negative_slope"`
			} `json:"layers"`
		} `json:"input"`
		Expect struct {
			Embeddings []float64 `json:"embeddings"`
			Dim        int       `json:"dim"`
		} `json:"expect"`
		ErrorField string `json:"error_field"`
	} `json:"cases"`
}

// TestFixtures compares with the dense NumPy reference to 1e-9.
func TestFixtures(t *testing.T) {
	raw, err := os.ReadFile("../../../../testdata/fixtures/graph/graph-attention.json")
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
				layers[i] = Layer{Heads: 1, OutDim: l.OutDim, Weight: l.Weight, Attention: l.Attention,
					Bias: l.Bias, Activation: l.Activation, Mean: l.HeadMerge == "mean", NegativeSlope: 0.2}
				if l.Heads != nil {
					layers[i].Heads = *l.Heads
				}
				if l.NegativeSlope != nil {
					layers[i].NegativeSlope = *l.NegativeSlope
				}
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

// TestUniformAttention: with zero attention vectors every neighbour gets the
// same weight, so a one-head layer with identity W averages the features of
// N(i) ∪ {i}.
func TestUniformAttention(t *testing.T) {
	g, _ := csr.Build(3, []int32{0, 1}, []int32{1, 2}, nil, false)
	x := []float64{1, 2, 4}
	got, _, err := Forward(context.Background(), g, x, 1, []Layer{{Heads: 1, OutDim: 1, Weight: []float64{1}, Attention: []float64{0, 0}, NegativeSlope: 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1.5, 7.0 / 3, 3}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Fatalf("node %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func TestCancelled(t *testing.T) {
	g, _ := csr.Build(2, []int32{0}, []int32{1}, nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := Forward(ctx, g, []float64{1, 2}, 1, []Layer{{Heads: 1, OutDim: 1, Weight: []float64{1}, Attention: []float64{1, 1}}})
	if err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
