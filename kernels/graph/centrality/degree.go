package centrality

import "github.com/gokernels/gokernels/kernels/graph/csr"

// DegreeMode selects which degree a directed graph's centrality counts.
type DegreeMode int

const (
	// TotalDegree is G.degree: in + out for directed graphs; in undirected
	// graphs a self-loop counts twice (nx.degree_centrality).
	TotalDegree DegreeMode = iota
	// InDegree is nx.in_degree_centrality (directed graphs).
	InDegree
	// OutDegree is nx.out_degree_centrality (directed graphs).
	OutDegree
)

// Degree is nx.degree_centrality (or its in/out variants): the degree
// divided by n-1, and 1 for every node of a one-node graph.
func Degree(g *csr.Graph, mode DegreeMode) []float64 {
	n := g.N
	out := make([]float64, n)
	if n <= 1 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	s := 1 / float64(n-1)
	for u := 0; u < n; u++ {
		var d int
		switch mode {
		case InDegree:
			d = g.InDegree(u)
		case OutDegree:
			d = g.OutDegree(u)
		default:
			d = g.Degree(u)
		}
		out[u] = float64(d) * s
	}
	return out
}
