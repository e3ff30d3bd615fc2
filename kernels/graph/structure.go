// Motif and structure kernels (proto/gokernels/kernels/graph/v1/structure.proto).

package graph

import (
	"context"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/graph/graphring"
	"github.com/gokernels/gokernels/kernels/graph/motif/clique"
	"github.com/gokernels/gokernels/kernels/graph/motif/triad"
	"github.com/gokernels/gokernels/kernels/graph/structure/cycles"
	"github.com/gokernels/gokernels/kernels/graph/structure/degreeratio"
	"github.com/gokernels/gokernels/kernels/graph/structure/star"
	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// MotifDetection is graph/motif-detection.
var MotifDetection = registry.Direct(registry.Meta{ID: "graph/motif-detection", Domain: registry.DomainGraph,
	Description: "Triad census (equals nx.triadic_census; 4 classes for undirected graphs)."}, motifDetection)

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

// KClique is graph/k-clique.
var KClique = registry.Direct(registry.Meta{ID: "graph/k-clique", Domain: registry.DomainGraph,
	Description: "k-cliques and k-clique communities (equal nx.enumerate_all_cliques and nx.community.k_clique_communities)."}, kClique)

func kClique(ctx context.Context, in *graphv1.KCliqueInput) (*graphv1.KCliqueOutput, error) {
	if in.GetDirected() {
		return nil, kerr.Invalid("directed", "cliques are defined for undirected graphs only")
	}
	k := int(registry.Or(in.K, defaultK))
	if k < 2 {
		return nil, kerr.Invalid("k", "must be at least 2")
	}
	maxList := min(int(registry.Or(in.MaxCliques, defaultMaxCliques)), limits.From(ctx).MaxOutputItems)
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

// DegreeRatio is graph/degree-ratio.
var DegreeRatio = withRing(registry.Direct(registry.Meta{ID: "graph/degree-ratio", Domain: registry.DomainGraph,
	Description: "In/out degree, strengths and their ratio per node (networkx's in_degree/out_degree).", Modes: batchAndRing}, degreeRatio),
	DegreeRatioRing.New)

func degreeRatio(ctx context.Context, in *graphv1.DegreeRatioInput) (*graphv1.DegreeRatioOutput, error) {
	if err := graphring.BatchRefusesRemovals(in); err != nil {
		return nil, err
	}
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

// StarTopology is graph/star-topology.
var StarTopology = registry.Direct(registry.Meta{ID: "graph/star-topology", Domain: registry.DomainGraph,
	Description: "Hub-and-spoke score per node and Freeman degree centralization."}, starTopology)

func starTopology(ctx context.Context, in *graphv1.StarTopologyInput) (*graphv1.StarTopologyOutput, error) {
	g, err := graphinput.FromInput(ctx, in)
	if err != nil {
		return nil, err
	}
	u, err := undirected.Of(ctx, g)
	if err != nil {
		return nil, err
	}
	r, err := star.Compute(ctx, u, int(registry.Or(in.MinSpokes, defaultMinSpokes)))
	if err != nil {
		return nil, err
	}
	return &graphv1.StarTopologyOutput{
		Scores: r.Scores, Degree: r.Degree, LeafNeighbors: r.LeafNeighbors,
		Hubs: r.Hubs, DegreeCentralization: r.Centralization,
	}, nil
}

// CycleParticipation is graph/cycle-participation.
var CycleParticipation = registry.Direct(registry.Meta{ID: "graph/cycle-participation", Domain: registry.DomainGraph,
	Description: "Simple cycles of length 2, 3 and 4 through each node."}, cycleParticipation)

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
