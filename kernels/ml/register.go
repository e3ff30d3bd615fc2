// Package ml declares the statistical-ML kernels (domain StatisticalML):
// one registry.Def per kernel, in files named after their proto files
// (clustering.go ↔ clustering.proto, …). The algorithms live in one
// package per job below this one.
package ml

import (
	"errors"

	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds every ml kernel to r.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, KMeansCluster),
		registry.Register(r, DbscanCluster),
		registry.Register(r, HierarchicalCluster),
		registry.Register(r, IsolationForest),
		registry.Register(r, LocalOutlierFactor),
		registry.Register(r, StreamingIsolationForest),
		registry.Register(r, AdaptiveThreshold),
		registry.Register(r, EnsembleVoting),
		registry.Register(r, LinearRegression),
		registry.Register(r, RidgeRegression),
		registry.Register(r, ShapValues),
		registry.Register(r, FeatureImportance),
		registry.Register(r, EmbeddingGeneration),
		registry.Register(r, SemanticSimilarity),
		registry.Register(r, SecureAggregation),
		registry.Register(r, DrugInteractionPrediction),
		registry.Register(r, ClinicalPathwayConformance),
	)
}
