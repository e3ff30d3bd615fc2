// Package graph declares the graph-analytics kernels (domain
// GraphAnalytics): one registry.Def per kernel, in files named after their
// proto files (centrality.go ↔ centrality.proto, …). The algorithms live in
// one package per job below this one.
package graph

import (
	"errors"

	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds every graph kernel to r.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, Betweenness),
		registry.Register(r, PageRank),
		registry.Register(r, Degree),
		registry.Register(r, Closeness),
		registry.Register(r, Eigenvector),
		registry.Register(r, Katz),
		registry.Register(r, ShortestPath),
		registry.Register(r, AveragePathLength),
		registry.Register(r, ConnectedComponents),
		registry.Register(r, Density),
		registry.Register(r, Clustering),
		registry.Register(r, TriangleCounting),
		registry.Register(r, FullMetrics),
		registry.Register(r, ModularityScore),
		registry.Register(r, LouvainCommunity),
		registry.Register(r, LabelPropagation),
		registry.Register(r, JaccardSimilarity),
		registry.Register(r, CosineSimilarity),
		registry.Register(r, AdamicAdar),
		registry.Register(r, CommonNeighbors),
		registry.Register(r, ValueSimilarity),
		registry.Register(r, MotifDetection),
		registry.Register(r, KClique),
		registry.Register(r, DegreeRatio),
		registry.Register(r, StarTopology),
		registry.Register(r, CycleParticipation),
		registry.Register(r, GnnInference),
		registry.Register(r, GraphAttention),
	)
}
