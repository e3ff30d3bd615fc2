// Package centrality computes node centralities on a csr.Graph, each equal to
// its networkx 2.8 counterpart on the equivalent nx.Graph / nx.DiGraph:
// betweenness (Brandes), closeness and harmonic closeness, degree, PageRank,
// eigenvector and Katz centrality.
//
// Scores are indexed by node id. The algorithms assume their inputs were
// validated by the caller (node ids in range, weights finite and of the sign
// each function documents) and never allocate more than a few arrays of n
// per worker. Every long loop honours ctx.
package centrality
