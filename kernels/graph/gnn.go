// Graph neural network kernels (proto/gokernels/kernels/graph/v1/gnn.proto).

package graph

import (
	"context"
	"fmt"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/gnn/gat"
	"github.com/gokernels/gokernels/kernels/graph/gnn/gcn"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// checkGNNSizes applies the feature and cell caps to the input features and
// to every layer's output (widths[i]), before anything is allocated.
func checkGNNSizes(ctx context.Context, n, f int, widths []int) error {
	lim := limits.From(ctx)
	if err := limits.Check("num_features", f, lim.MaxFeatures); err != nil {
		return err
	}
	if err := limits.Check("features", n*f, lim.MaxCells); err != nil {
		return err
	}
	for i, w := range widths {
		field := fmt.Sprintf("layers[%d].out_dim", i)
		if err := limits.Check(field, w, lim.MaxFeatures); err != nil {
			return err
		}
		if err := limits.Check(field, n*w, lim.MaxCells); err != nil {
			return err
		}
	}
	return nil
}

// GnnInference is graph/gnn-inference.
var GnnInference = registry.Direct(registry.Meta{ID: "graph/gnn-inference", Domain: registry.DomainGraph,
	Description: "GCN forward pass with weights given in the request (Kipf and Welling)."}, gnnInference)

func gnnInference(ctx context.Context, in *graphv1.GnnInferenceInput) (*graphv1.GnnInferenceOutput, error) {
	layers := make([]gcn.Layer, len(in.GetLayers()))
	widths := make([]int, len(layers))
	for i, l := range in.GetLayers() {
		layers[i] = gcn.Layer{OutDim: int(l.GetOutDim()), Weight: l.GetWeight(), Bias: l.GetBias(), Activation: l.GetActivation()}
		widths[i] = layers[i].OutDim
	}
	if err := checkGNNSizes(ctx, int(in.GetNumNodes()), int(in.GetNumFeatures()), widths); err != nil {
		return nil, err
	}
	if err := graphinput.NonNegative(in.GetWeights()); err != nil {
		return nil, err
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	emb, dim, err := gcn.Forward(ctx, g, in.GetFeatures(), int(in.GetNumFeatures()), layers)
	if err != nil {
		return nil, err
	}
	return &graphv1.GnnInferenceOutput{Embeddings: emb, NumNodes: int32(g.N), Dim: int32(dim)}, nil
}

// GraphAttention is graph/graph-attention.
var GraphAttention = registry.Direct(registry.Meta{ID: "graph/graph-attention", Domain: registry.DomainGraph,
	Description: "Multi-head GAT forward pass with weights given in the request (Veličković et al.)."}, graphAttention)

func graphAttention(ctx context.Context, in *graphv1.GraphAttentionInput) (*graphv1.GraphAttentionOutput, error) {
	layers := make([]gat.Layer, len(in.GetLayers()))
	// Widths include the per-head intermediate (heads x out_dim per node),
	// which is what a layer holds in memory.
	widths := make([]int, len(layers))
	for i, l := range in.GetLayers() {
		layers[i] = gat.Layer{
			Heads: int(registry.Or(l.Heads, 1)), OutDim: int(l.GetOutDim()),
			Weight: l.GetWeight(), Attention: l.GetAttention(), Bias: l.GetBias(),
			Activation: l.GetActivation(), Mean: l.GetHeadMerge() == "mean",
			NegativeSlope: registry.Or(l.NegativeSlope, defaultNegativeSlope),
		}
		widths[i] = layers[i].Heads * layers[i].OutDim
	}
	if err := checkGNNSizes(ctx, int(in.GetNumNodes()), int(in.GetNumFeatures()), widths); err != nil {
		return nil, err
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	emb, dim, err := gat.Forward(ctx, g, in.GetFeatures(), int(in.GetNumFeatures()), layers)
	if err != nil {
		return nil, err
	}
	return &graphv1.GraphAttentionOutput{Embeddings: emb, NumNodes: int32(g.N), Dim: int32(dim)}, nil
}
