package gcn

import (
	"context"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/gnn/internal/gnntest"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// layerJSON is a GCN layer as the fixtures write it.
type layerJSON struct {
	OutDim     int       `json:"out_dim"`
	Weight     []float64 `json:"weight"`
	Bias       []float64 `json:"bias"`
	Activation string    `json:"activation"`
}

// TestFixtures compares with the dense NumPy reference to 1e-9.
func TestFixtures(t *testing.T) {
	gnntest.Run(t, "gnn-inference", func(ctx context.Context, g *csr.Graph, in gnntest.Input[layerJSON]) ([]float64, int, error) {
		layers := make([]Layer, len(in.Layers))
		for i, l := range in.Layers {
			layers[i] = Layer{OutDim: l.OutDim, Weight: l.Weight, Bias: l.Bias, Activation: l.Activation}
		}
		return Forward(ctx, g, in.Features, in.NumFeatures, layers)
	})
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
