package graph

import (
	"context"
	"errors"
	"fmt"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/community/labelprop"
	"github.com/gokernels/gokernels/kernels/graph/community/louvain"
	"github.com/gokernels/gokernels/kernels/graph/community/modularity"
	"github.com/gokernels/gokernels/kernels/graph/gnn/gat"
	"github.com/gokernels/gokernels/kernels/graph/gnn/gcn"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/graph/motif/clique"
	"github.com/gokernels/gokernels/kernels/graph/motif/triad"
	"github.com/gokernels/gokernels/kernels/graph/similarity/distribution"
	"github.com/gokernels/gokernels/kernels/graph/similarity/neighborhood"
	"github.com/gokernels/gokernels/kernels/graph/structure/cycles"
	"github.com/gokernels/gokernels/kernels/graph/structure/degreeratio"
	"github.com/gokernels/gokernels/kernels/graph/structure/star"
	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Defaults of the optional parameters, as the proto comments state them.
const (
	defaultResolution    = 1.0
	defaultThreshold     = 1e-7 // nx.community.louvain_communities
	defaultLPAIterations = 1000
	defaultTopK          = 10
	defaultJSBase        = 2.0
	defaultK             = 3
	defaultMaxCliques    = 1000
	defaultMinSpokes     = 3
	defaultNegativeSlope = 0.2 // Veličković et al.
)

// RegisterExtended registers the community, similarity, motif, structure
// and GNN kernels (proto contracts in proto/gokernels/kernels/graph/v1/
// community.proto, similarity.proto, structure.proto and gnn.proto).
func RegisterExtended(r *registry.Registry) error {
	batch := []registry.Mode{registry.Batch}
	meta := func(id, desc string, modes []registry.Mode) registry.Meta {
		return registry.Meta{ID: id, Domain: registry.DomainGraph, Description: desc, Modes: modes}
	}
	return errors.Join(
		registry.Add(r, meta("graph/modularity-score",
			"Modularity of a given partition (equals nx.community.modularity).", batch), modularityScore),
		registry.Add(r, meta("graph/louvain-community",
			"Louvain community detection with refinement rounds (nx.community.louvain_communities quality or better).", batch), louvainCommunity),
		registry.Add(r, meta("graph/label-propagation",
			"Asynchronous label propagation communities (as nx.community.asyn_lpa_communities).", batch), labelPropagation),
		registry.Add(r, meta("graph/jaccard-similarity",
			"Jaccard coefficient of node pairs or the top-k non-adjacent pairs (equals nx.jaccard_coefficient).", batch), jaccardSimilarity),
		registry.Add(r, meta("graph/cosine-similarity",
			"Cosine similarity of neighbourhoods, |N(u)∩N(v)|/sqrt(|N(u)||N(v)|).", batch), cosineSimilarity),
		registry.Add(r, meta("graph/adamic-adar",
			"Adamic–Adar index of node pairs (equals nx.adamic_adar_index).", batch), adamicAdar),
		registry.Add(r, meta("graph/common-neighbors",
			"Number of common neighbours of node pairs (equals nx.common_neighbors).", batch), commonNeighbors),
		registry.Add(r, meta("graph/value-similarity",
			"Jensen–Shannon and Wasserstein-1 distances of two distributions (equal scipy's).", batch), valueSimilarity),
		registry.Add(r, meta("graph/motif-detection",
			"Triad census (equals nx.triadic_census; 4 classes for undirected graphs).", batch), motifDetection),
		registry.Add(r, meta("graph/k-clique",
			"k-cliques and k-clique communities (equal nx.enumerate_all_cliques and nx.community.k_clique_communities).", batch), kClique),
		registry.Add(r, meta("graph/degree-ratio",
			"In/out degree, strengths and their ratio per node (networkx's in_degree/out_degree).",
			[]registry.Mode{registry.Batch, registry.Ring}), degreeRatio),
		registry.Add(r, meta("graph/star-topology",
			"Hub-and-spoke score per node and Freeman degree centralization.", batch), starTopology),
		registry.Add(r, meta("graph/cycle-participation",
			"Simple cycles of length 2, 3 and 4 through each node.", batch), cycleParticipation),
		registry.Add(r, meta("graph/gnn-inference",
			"GCN forward pass with weights given in the request (Kipf and Welling).", batch), gnnInference),
		registry.Add(r, meta("graph/graph-attention",
			"Multi-head GAT forward pass with weights given in the request (Veličković et al.).", batch), graphAttention),
	)
}

// --- community ---

func modularityScore(ctx context.Context, in *graphv1.ModularityScoreInput) (*graphv1.ModularityScoreOutput, error) {
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	q, k, err := modularity.Of(ctx, g, in.GetCommunities(), orDefault(in.Resolution, defaultResolution))
	if err != nil {
		return nil, err
	}
	return &graphv1.ModularityScoreOutput{Modularity: q, NumCommunities: int32(k)}, nil
}

func louvainCommunity(ctx context.Context, in *graphv1.LouvainCommunityInput) (*graphv1.LouvainCommunityOutput, error) {
	if err := graphinput.NonNegative(in.GetWeights()); err != nil {
		return nil, err
	}
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	res, err := louvain.Run(ctx, g, louvain.Options{
		Resolution: orDefault(in.Resolution, defaultResolution),
		Threshold:  orDefault(in.Threshold, defaultThreshold),
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

// --- similarity ---

// pairInput is what the four neighbourhood-similarity inputs share.
type pairInput interface {
	graphinput.Fields
	GetPairs() []*graphv1.NodePair
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
	for i, p := range in.GetPairs() {
		if p == nil {
			return nil, nil, kerr.Invalid(fmt.Sprintf("pairs[%d]", i), "missing pair")
		}
		pairs[i] = neighborhood.Pair{U: p.GetU(), V: p.GetV()}
	}
	scores, err := neighborhood.Score(ctx, g, m, pairs)
	return in.GetPairs(), scores, err
}

func jaccardSimilarity(ctx context.Context, in *graphv1.JaccardSimilarityInput) (*graphv1.JaccardSimilarityOutput, error) {
	pairs, scores, err := neighborhoodScores(ctx, in, in.TopK, neighborhood.Jaccard)
	if err != nil {
		return nil, err
	}
	return &graphv1.JaccardSimilarityOutput{Pairs: pairs, Scores: scores}, nil
}

func cosineSimilarity(ctx context.Context, in *graphv1.CosineSimilarityInput) (*graphv1.CosineSimilarityOutput, error) {
	pairs, scores, err := neighborhoodScores(ctx, in, in.TopK, neighborhood.Cosine)
	if err != nil {
		return nil, err
	}
	return &graphv1.CosineSimilarityOutput{Pairs: pairs, Scores: scores}, nil
}

func adamicAdar(ctx context.Context, in *graphv1.AdamicAdarInput) (*graphv1.AdamicAdarOutput, error) {
	pairs, scores, err := neighborhoodScores(ctx, in, in.TopK, neighborhood.AdamicAdar)
	if err != nil {
		return nil, err
	}
	return &graphv1.AdamicAdarOutput{Pairs: pairs, Scores: scores}, nil
}

func commonNeighbors(ctx context.Context, in *graphv1.CommonNeighborsInput) (*graphv1.CommonNeighborsOutput, error) {
	pairs, scores, err := neighborhoodScores(ctx, in, in.TopK, neighborhood.CommonNeighbors)
	if err != nil {
		return nil, err
	}
	return &graphv1.CommonNeighborsOutput{Pairs: pairs, Scores: scores}, nil
}

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
	js, err := distribution.JensenShannon(in.GetP(), in.GetQ(), orDefault(in.Base, defaultJSBase))
	if err != nil {
		return nil, err
	}
	return &graphv1.ValueSimilarityOutput{
		JensenShannonDistance:   js,
		JensenShannonDivergence: js * js,
		WassersteinDistance:     distribution.Wasserstein(in.GetP(), in.GetQ(), support),
	}, nil
}

// --- motifs and structure ---

func motifDetection(ctx context.Context, in *graphv1.MotifDetectionInput) (*graphv1.MotifDetectionOutput, error) {
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	names, counts, err := triad.Census(ctx, g)
	if err != nil {
		return nil, err
	}
	return &graphv1.MotifDetectionOutput{TriadTypes: names, Counts: counts}, nil
}

func kClique(ctx context.Context, in *graphv1.KCliqueInput) (*graphv1.KCliqueOutput, error) {
	if in.GetDirected() {
		return nil, kerr.Invalid("directed", "cliques are defined for undirected graphs only")
	}
	k := int(orDefault(in.K, defaultK))
	if k < 2 {
		return nil, kerr.Invalid("k", "must be at least 2")
	}
	maxList := min(int(orDefault(in.MaxCliques, defaultMaxCliques)), limits.From(ctx).MaxOutputItems)
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	u, err := undirected.Of(ctx, g)
	if err != nil {
		return nil, err
	}
	count, list, truncated, err := clique.Cliques(ctx, u, k, maxList)
	if err != nil {
		return nil, err
	}
	comms, err := clique.Communities(ctx, u, k)
	if err != nil {
		return nil, err
	}
	return &graphv1.KCliqueOutput{
		NumCliques: count, Cliques: nodeSets(list), Truncated: truncated, Communities: nodeSets(comms),
	}, nil
}

func nodeSets(sets [][]int32) []*graphv1.NodeSet {
	out := make([]*graphv1.NodeSet, len(sets))
	for i, s := range sets {
		out[i] = &graphv1.NodeSet{Nodes: s}
	}
	return out
}

func degreeRatio(ctx context.Context, in *graphv1.DegreeRatioInput) (*graphv1.DegreeRatioOutput, error) {
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	r, err := degreeratio.Compute(ctx, g)
	if err != nil {
		return nil, err
	}
	return &graphv1.DegreeRatioOutput{
		InDegree: r.InDegree, OutDegree: r.OutDegree, Ratio: r.Ratio,
		InStrength: r.InStrength, OutStrength: r.OutStrength,
	}, nil
}

func starTopology(ctx context.Context, in *graphv1.StarTopologyInput) (*graphv1.StarTopologyOutput, error) {
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	u, err := undirected.Of(ctx, g)
	if err != nil {
		return nil, err
	}
	r, err := star.Compute(ctx, u, int(orDefault(in.MinSpokes, defaultMinSpokes)))
	if err != nil {
		return nil, err
	}
	return &graphv1.StarTopologyOutput{
		Scores: r.Scores, Degree: r.Degree, LeafNeighbors: r.LeafNeighbors,
		Hubs: r.Hubs, DegreeCentralization: r.Centralization,
	}, nil
}

func cycleParticipation(ctx context.Context, in *graphv1.CycleParticipationInput) (*graphv1.CycleParticipationOutput, error) {
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	r, err := cycles.Count(ctx, g)
	if err != nil {
		return nil, err
	}
	return &graphv1.CycleParticipationOutput{
		CyclesLen2: r.PerNode[0], CyclesLen3: r.PerNode[1], CyclesLen4: r.PerNode[2],
		TotalLen2: r.Total[0], TotalLen3: r.Total[1], TotalLen4: r.Total[2],
	}, nil
}

// --- GNN ---

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

func graphAttention(ctx context.Context, in *graphv1.GraphAttentionInput) (*graphv1.GraphAttentionOutput, error) {
	layers := make([]gat.Layer, len(in.GetLayers()))
	// Widths include the per-head intermediate (heads x out_dim per node),
	// which is what a layer holds in memory.
	widths := make([]int, len(layers))
	for i, l := range in.GetLayers() {
		layers[i] = gat.Layer{
			Heads: int(orDefault(l.Heads, 1)), OutDim: int(l.GetOutDim()),
			Weight: l.GetWeight(), Attention: l.GetAttention(), Bias: l.GetBias(),
			Activation: l.GetActivation(), Mean: l.GetHeadMerge() == "mean",
			NegativeSlope: orDefault(l.NegativeSlope, defaultNegativeSlope),
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
