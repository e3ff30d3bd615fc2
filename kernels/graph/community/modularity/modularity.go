// Package modularity computes the modularity Q of a partition, exactly as
// networkx 2.8's nx.community.modularity does (weighted, with a resolution
// parameter, for undirected and directed graphs).
package modularity

import (
	"context"

	"github.com/gokernels/gokernels/kernels/graph/community"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Of returns the modularity of the partition labels (one label per node, any
// int32 values) and the number of communities.
//
// Undirected: Q = sum_c L_c/m - resolution * (D_c/2m)^2, with m the total edge
// weight, L_c the weight inside c (self-loops once) and D_c the summed
// weighted degree of c (self-loops twice). Directed:
// Q = sum_c L_c/m - resolution * Dout_c * Din_c / m^2.
// A graph whose total weight is 0 has no modularity: a field error on "edges".
func Of(ctx context.Context, g *csr.Graph, labels []int32, resolution float64) (float64, int, error) {
	if len(labels) != g.N {
		return 0, 0, kerr.Invalid("communities", "has %d labels, want one per node (%d)", len(labels), g.N)
	}
	comm, k := community.Canonical(labels)
	q, err := compute(ctx, g, comm, k, resolution)
	return q, k, err
}

// OfCanonical is Of for labels already numbered 0..k-1 (as the community
// algorithms produce), skipping the renumbering.
func OfCanonical(ctx context.Context, g *csr.Graph, comm []int32, k int, resolution float64) (float64, error) {
	return compute(ctx, g, comm, k, resolution)
}

func compute(ctx context.Context, g *csr.Graph, comm []int32, k int, resolution float64) (float64, error) {
	n := g.N
	// Per-node terms are computed in parallel into per-node slots and then
	// reduced in node order, so the float sum never depends on the worker
	// count: the same input always gives the same bits.
	outW := make([]float64, n)   // weighted out-degree (undirected: degree)
	inW := make([]float64, n)    // weighted in-degree (directed only)
	inside := make([]float64, n) // weight of u's out-arcs staying in u's community
	err := par.Dynamic(ctx, n, 2048, par.Workers(n), func(_, lo, hi int) error {
		for u := lo; u < hi; u++ {
			nb, ws := g.Neighbors(u), g.Weights(u)
			var d, in float64
			for i, v := range nb {
				w := 1.0
				if ws != nil {
					w = ws[i]
				}
				d += w
				if int(v) == u && !g.Directed {
					d += w // networkx's degree counts an undirected self-loop twice
				}
				if comm[v] == comm[u] {
					in += w
				}
			}
			outW[u] = d
			inside[u] = in
			if g.Directed {
				var s float64
				if iw := g.InWeights(u); iw != nil {
					for _, w := range iw {
						s += w
					}
				} else {
					s = float64(g.InDegree(u))
				}
				inW[u] = s
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}

	lc := make([]float64, k)
	dout := make([]float64, k)
	din := make([]float64, k)
	var total float64
	for u := 0; u < n; u++ {
		c := comm[u]
		lc[c] += inside[u]
		dout[c] += outW[u]
		din[c] += inW[u]
		total += outW[u]
	}
	var m, norm float64
	if g.Directed {
		m = total
		norm = 1 / (m * m)
	} else {
		// inside[] saw every internal edge from both ends but a self-loop
		// only once: add the loops again, then halve.
		if g.SelfLoops > 0 {
			for u := 0; u < n; u++ {
				if w, ok := g.EdgeWeight(u, u); ok {
					lc[comm[u]] += w
				}
			}
		}
		for c := range lc {
			lc[c] /= 2
		}
		m = total / 2
		norm = 1 / (total * total)
		din = dout
	}
	if m == 0 {
		return 0, kerr.Invalid("edges", "modularity is undefined for a graph whose total edge weight is 0")
	}
	var q float64
	for c := 0; c < k; c++ {
		q += lc[c]/m - resolution*dout[c]*din[c]*norm
	}
	return q, nil
}
