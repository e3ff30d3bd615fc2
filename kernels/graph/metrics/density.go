package metrics

import "github.com/gokernels/gokernels/kernels/graph/csr"

// Density is nx.density: m / (n(n-1)) for directed graphs and twice that for
// undirected ones, with m = G.number_of_edges() (self-loops included, so a
// graph with self-loops can exceed 1); 0 when m = 0 or n <= 1.
func Density(g *csr.Graph) float64 {
	n, m := g.N, g.NumEdges
	if m == 0 || n <= 1 {
		return 0
	}
	d := float64(m) / (float64(n) * float64(n-1))
	if !g.Directed {
		d *= 2
	}
	return d
}
