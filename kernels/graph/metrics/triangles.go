package metrics

import (
	"context"
	"sync/atomic"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Triangles is nx.triangles on the undirected simple graph: for each node
// the number of triangles through it, plus the total number of triangles
// (sum / 3). Self-loops are ignored. A directed g is counted on its
// undirected view (nx.triangles(G.to_undirected()); networkx itself refuses
// directed graphs).
//
// Edges are oriented from lower to higher (degree, id) rank, which bounds
// every node's out-list by O(sqrt(m)); each triangle is then found exactly
// once, at its lowest-ranked corner, by intersecting two sorted out-lists.
// Nodes are processed in parallel; the counts are integers, so the result
// does not depend on scheduling.
func Triangles(ctx context.Context, g *csr.Graph) ([]int64, int64, error) {
	if g.Directed {
		u, err := Undirected(g)
		if err != nil {
			return nil, 0, err
		}
		g = u
	}
	n := g.N
	optr, oidx, err := Orient(ctx, g)
	if err != nil {
		return nil, 0, err
	}
	counts := make([]int64, n)
	err = par.Dynamic(ctx, n, 256, par.Workers(n), func(_, lo, hi int) error {
		for u := lo; u < hi; u++ {
			outU := oidx[optr[u]:optr[u+1]]
			var tu int64
			for _, v := range outU {
				outV := oidx[optr[v]:optr[v+1]]
				i, j := 0, 0
				for i < len(outU) && j < len(outV) {
					a, b := outU[i], outV[j]
					switch {
					case a < b:
						i++
					case a > b:
						j++
					default:
						tu++
						atomic.AddInt64(&counts[v], 1)
						atomic.AddInt64(&counts[a], 1)
						i++
						j++
					}
				}
			}
			if tu != 0 {
				atomic.AddInt64(&counts[u], tu)
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	var sum int64
	for _, c := range counts {
		sum += c
	}
	return counts, sum / 3, nil
}

// Orient returns, for every node u, the neighbours ranked above u (sorted by
// id), in CSR form. Rank is (degree without self-loops, id). Each triangle
// is then found once, at its lowest-ranked corner; the GPU path (cuda/)
// counts on the same orientation.
func Orient(ctx context.Context, g *csr.Graph) ([]int32, []int32, error) {
	n := g.N
	deg := make([]int32, n)
	for u := 0; u < n; u++ {
		d := int32(g.OutDegree(u))
		if g.HasSelfLoop(u) {
			d--
		}
		deg[u] = d
	}
	above := func(u, v int32) bool {
		return deg[v] > deg[u] || (deg[v] == deg[u] && v > u)
	}
	optr := make([]int32, n+1)
	workers := par.Workers(n)
	err := par.Dynamic(ctx, n, 4096, workers, func(_, lo, hi int) error {
		for u := lo; u < hi; u++ {
			c := int32(0)
			for _, v := range g.Neighbors(u) {
				if above(int32(u), v) {
					c++
				}
			}
			optr[u+1] = c
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for u := 0; u < n; u++ {
		optr[u+1] += optr[u]
	}
	oidx := make([]int32, optr[n])
	err = par.Dynamic(ctx, n, 4096, workers, func(_, lo, hi int) error {
		for u := lo; u < hi; u++ {
			p := optr[u]
			for _, v := range g.Neighbors(u) {
				if above(int32(u), v) {
					oidx[p] = v
					p++
				}
			}
		}
		return nil
	})
	return optr, oidx, err
}

// Undirected is the unweighted undirected view of g (G.to_undirected()
// without edge data): u–v is an edge when u→v or v→u is an arc.
func Undirected(g *csr.Graph) (*csr.Graph, error) {
	if !g.Directed {
		return g, nil
	}
	src := make([]int32, len(g.Idx))
	for u := 0; u < g.N; u++ {
		for e := g.Ptr[u]; e < g.Ptr[u+1]; e++ {
			src[e] = int32(u)
		}
	}
	return csr.Build(g.N, src, g.Idx, nil, false)
}
