// Package metrics computes whole-graph summary statistics on a csr.Graph,
// each equal to its networkx 2.8 counterpart: density, triangle counts,
// clustering coefficients and transitivity, and the combined summary behind
// graph/full-metrics.
package metrics
