// Community kernels (proto/gokernels/kernels/graph/v1/community.proto).

package graph

import (
	"context"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/community/labelprop"
	"github.com/gokernels/gokernels/kernels/graph/community/louvain"
	"github.com/gokernels/gokernels/kernels/graph/community/modularity"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// ModularityScore is graph/modularity-score.
var ModularityScore = registry.Direct(registry.Meta{ID: "graph/modularity-score", Domain: registry.DomainGraph,
	Description: "Modularity of a given partition (equals nx.community.modularity)."}, modularityScore)

func modularityScore(ctx context.Context, in *graphv1.ModularityScoreInput) (*graphv1.ModularityScoreOutput, error) {
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	q, k, err := modularity.Of(ctx, g, in.GetCommunities(), registry.Or(in.Resolution, defaultResolution))
	if err != nil {
		return nil, err
	}
	return &graphv1.ModularityScoreOutput{Modularity: q, NumCommunities: int32(k)}, nil
}

// LouvainCommunity is graph/louvain-community.
var LouvainCommunity = registry.Direct(registry.Meta{ID: "graph/louvain-community", Domain: registry.DomainGraph,
	Description: "Louvain community detection with refinement rounds (nx.community.louvain_communities quality or better)."}, louvainCommunity)

func louvainCommunity(ctx context.Context, in *graphv1.LouvainCommunityInput) (*graphv1.LouvainCommunityOutput, error) {
	if err := graphinput.NonNegative(in.GetWeights()); err != nil {
		return nil, err
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	res, err := louvain.Run(ctx, g, louvain.Options{
		Resolution: registry.Or(in.Resolution, defaultResolution),
		Threshold:  registry.Or(in.Threshold, defaultThreshold),
		Seed:       in.GetSeed(),
	})
	if err != nil {
		return nil, err
	}
	return &graphv1.LouvainCommunityOutput{
		Labels: res.Labels, NumCommunities: int32(res.NumCommunities),
		Modularity: res.Modularity, Levels: int32(res.Levels),
	}, nil
}

// LabelPropagation is graph/label-propagation.
var LabelPropagation = registry.Direct(registry.Meta{ID: "graph/label-propagation", Domain: registry.DomainGraph,
	Description: "Asynchronous label propagation communities (as nx.community.asyn_lpa_communities)."}, labelPropagation)

func labelPropagation(ctx context.Context, in *graphv1.LabelPropagationInput) (*graphv1.LabelPropagationOutput, error) {
	if err := graphinput.NonNegative(in.GetWeights()); err != nil {
		return nil, err
	}
	// An unset max_iterations takes the default, lowered to the server's
	// cap; only an explicit value above the cap is an error.
	maxIter := min(defaultLPAIterations, limits.From(ctx).MaxIterations)
	if in.MaxIterations != nil {
		var err error
		if maxIter, err = iterations(ctx, in.MaxIterations, defaultLPAIterations); err != nil {
			return nil, err
		}
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	res, err := labelprop.Run(ctx, g, in.GetSeed(), maxIter)
	if err != nil {
		return nil, err
	}
	return &graphv1.LabelPropagationOutput{
		Labels: res.Labels, NumCommunities: int32(res.NumCommunities),
		Iterations: int32(res.Iterations), Converged: res.Converged,
	}, nil
}
