package gat

import (
	"context"
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/gnn/internal/gnntest"
)

// layerJSON is a graph-attention layer as the fixtures write it.
type layerJSON struct {
	Heads         *int      `json:"heads"`
	OutDim        int       `json:"out_dim"`
	Weight        []float64 `json:"weight"`
	Attention     []float64 `json:"attention"`
	Bias          []float64 `json:"bias"`
	Activation    string    `json:"activation"`
	HeadMerge     string    `json:"head_merge"`
	NegativeSlope *float64  `json:"negative_slope"`
}

// TestFixtures compares with the dense NumPy reference to 1e-9.
func TestFixtures(t *testing.T) {
	gnntest.Run(t, "graph-attention", func(ctx context.Context, g *csr.Graph, in gnntest.Input[layerJSON]) ([]float64, int, error) {
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
		return Forward(ctx, g, in.Features, in.NumFeatures, layers)
	})
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
