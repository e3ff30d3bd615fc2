// Similarity kernels (proto/gokernels/kernels/graph/v1/similarity.proto).

package graph

import (
	"context"

	"google.golang.org/protobuf/types/known/structpb"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/graph/similarity/distribution"
	"github.com/gokernels/gokernels/kernels/graph/similarity/neighborhood"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// pairInput is what the four neighbourhood-similarity inputs share.
type pairInput interface {
	graphinput.Fields
	GetPairs() []*structpb.ListValue
}

// neighborhoodScores scores in's pairs, or finds the top-k pairs when there
// are none (topK: the optional top_k field).
func neighborhoodScores(ctx context.Context, in pairInput, topK *int32, m neighborhood.Measure) ([]*graphv1.NodePair, []float64, error) {
	lim := limits.From(ctx)
	if in.GetDirected() {
		return nil, nil, kerr.Invalid("directed", "neighbourhood similarity is defined for undirected graphs only")
	}
	if err := limits.Check("pairs", len(in.GetPairs()), lim.MaxOutputItems); err != nil {
		return nil, nil, err
	}
	// top_k matters only without pairs; unset, it is the default lowered
	// to the server's output cap.
	k := min(defaultTopK, lim.MaxOutputItems)
	if topK != nil && len(in.GetPairs()) == 0 {
		k = int(*topK)
		if err := limits.Check("top_k", k, lim.MaxOutputItems); err != nil {
			return nil, nil, err
		}
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	if len(in.GetPairs()) == 0 {
		pairs, scores, err := neighborhood.TopK(ctx, g, m, k)
		if err != nil {
			return nil, nil, err
		}
		out := make([]*graphv1.NodePair, len(pairs))
		for i, p := range pairs {
			out[i] = &graphv1.NodePair{U: p.U, V: p.V}
		}
		return out, scores, nil
	}
	pairs := make([]neighborhood.Pair, len(in.GetPairs()))
	echo := make([]*graphv1.NodePair, len(pairs))
	for i, p := range in.GetPairs() {
		u, v, err := graphinput.Pair("pairs", i, p, in.GetNumNodes())
		if err != nil {
			return nil, nil, err
		}
		pairs[i] = neighborhood.Pair{U: u, V: v}
		echo[i] = &graphv1.NodePair{U: u, V: v}
	}
	scores, err := neighborhood.Score(ctx, g, m, pairs)
	return echo, scores, err
}

// JaccardSimilarity is graph/jaccard-similarity.
var JaccardSimilarity = registry.Direct(registry.Meta{ID: "graph/jaccard-similarity", Domain: registry.DomainGraph,
	Description: "Jaccard coefficient of node pairs or the top-k non-adjacent pairs (equals nx.jaccard_coefficient)."}, jaccardSimilarity)

func jaccardSimilarity(ctx context.Context, in *graphv1.JaccardSimilarityInput) (*graphv1.JaccardSimilarityOutput, error) {
	pairs, scores, err := neighborhoodScores(ctx, in, in.TopK, neighborhood.Jaccard)
	if err != nil {
		return nil, err
	}
	return &graphv1.JaccardSimilarityOutput{Pairs: pairs, Scores: scores}, nil
}

// CosineSimilarity is graph/cosine-similarity.
var CosineSimilarity = registry.Direct(registry.Meta{ID: "graph/cosine-similarity", Domain: registry.DomainGraph,
	Description: "Cosine similarity of neighbourhoods, |N(u)∩N(v)|/sqrt(|N(u)||N(v)|)."}, cosineSimilarity)

func cosineSimilarity(ctx context.Context, in *graphv1.CosineSimilarityInput) (*graphv1.CosineSimilarityOutput, error) {
	pairs, scores, err := neighborhoodScores(ctx, in, in.TopK, neighborhood.Cosine)
	if err != nil {
		return nil, err
	}
	return &graphv1.CosineSimilarityOutput{Pairs: pairs, Scores: scores}, nil
}

// AdamicAdar is graph/adamic-adar.
var AdamicAdar = registry.Direct(registry.Meta{ID: "graph/adamic-adar", Domain: registry.DomainGraph,
	Description: "Adamic–Adar index of node pairs (equals nx.adamic_adar_index)."}, adamicAdar)

func adamicAdar(ctx context.Context, in *graphv1.AdamicAdarInput) (*graphv1.AdamicAdarOutput, error) {
	pairs, scores, err := neighborhoodScores(ctx, in, in.TopK, neighborhood.AdamicAdar)
	if err != nil {
		return nil, err
	}
	return &graphv1.AdamicAdarOutput{Pairs: pairs, Scores: scores}, nil
}

// CommonNeighbors is graph/common-neighbors.
var CommonNeighbors = registry.Direct(registry.Meta{ID: "graph/common-neighbors", Domain: registry.DomainGraph,
	Description: "Number of common neighbours of node pairs (equals nx.common_neighbors)."}, commonNeighbors)

func commonNeighbors(ctx context.Context, in *graphv1.CommonNeighborsInput) (*graphv1.CommonNeighborsOutput, error) {
	pairs, scores, err := neighborhoodScores(ctx, in, in.TopK, neighborhood.CommonNeighbors)
	if err != nil {
		return nil, err
	}
	return &graphv1.CommonNeighborsOutput{Pairs: pairs, Scores: scores}, nil
}

// ValueSimilarity is graph/value-similarity.
var ValueSimilarity = registry.Direct(registry.Meta{ID: "graph/value-similarity", Domain: registry.DomainGraph,
	Description: "Jensen–Shannon and Wasserstein-1 distances of two distributions (equal scipy's)."}, valueSimilarity)

func valueSimilarity(ctx context.Context, in *graphv1.ValueSimilarityInput) (*graphv1.ValueSimilarityOutput, error) {
	if err := limits.Check("p", len(in.GetP()), limits.From(ctx).MaxSamples); err != nil {
		return nil, err
	}
	var support []float64
	if len(in.GetSupport()) > 0 {
		support = in.GetSupport()
	}
	if err := distribution.Check(in.GetP(), in.GetQ(), support); err != nil {
		return nil, err
	}
	js, err := distribution.JensenShannon(in.GetP(), in.GetQ(), registry.Or(in.Base, defaultJSBase))
	if err != nil {
		return nil, err
	}
	return &graphv1.ValueSimilarityOutput{
		JensenShannonDistance:   js,
		JensenShannonDivergence: js * js,
		WassersteinDistance:     distribution.Wasserstein(in.GetP(), in.GetQ(), support),
	}, nil
}
