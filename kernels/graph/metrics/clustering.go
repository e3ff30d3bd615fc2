package metrics

import (
	"context"
	"math"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Clustering holds nx.clustering, nx.average_clustering and nx.transitivity
// of one graph.
type Clustering struct {
	// Coefficients[v] is nx.clustering(G, weight="weight" if weighted)[v].
	Coefficients []float64
	// Average is nx.average_clustering (mean over all nodes, zeros counted).
	Average float64
	// Transitivity is nx.transitivity(G) (weights ignored). For directed
	// graphs networkx evaluates it on successor sets: the fraction of
	// pairs of out-neighbours (j, k) of a node for which j→k.
	Transitivity float64
	// Triangles per node and in total, for undirected graphs only (nil for
	// directed ones); computed on the way and reused by the summary.
	Triangles     []int64
	TriangleTotal int64
}

// ClusteringOf computes clustering coefficients the way networkx does for
// the graph's kind. Self-loops are ignored throughout.
//
//   - undirected, unweighted: 2T(v) / (d(d-1)), T(v) = triangles through v,
//     d = degree without self-loop;
//   - undirected, weighted: the geometric mean of normalized weights
//     (Onnela et al.): 2 / (d(d-1)) · Σ_{triangles v,j,k} (ŵ_vj ŵ_jk ŵ_kv)^(1/3)
//     with ŵ = w / max(w) over all edges;
//   - directed: Fagiolo's coefficient T(v) / (2 (d_tot(d_tot-1) - 2 d_bi)),
//     T(v) counting directed triangles (weighted as above when weighted).
//
// Weights must be non-negative; if they are all zero every coefficient is
// 0 (networkx divides by zero there).
func ClusteringOf(ctx context.Context, g *csr.Graph) (Clustering, error) {
	var c Clustering
	n := g.N
	var err error
	if !g.Directed {
		c.Triangles, c.TriangleTotal, err = Triangles(ctx, g)
		if err != nil {
			return c, err
		}
	}
	coef := make([]float64, n)
	switch {
	case !g.Directed && g.W == nil:
		for v := 0; v < n; v++ {
			d := float64(simpleDegree(g, v))
			if c.Triangles[v] != 0 {
				coef[v] = 2 * float64(c.Triangles[v]) / (d * (d - 1))
			}
		}
	case !g.Directed:
		maxW := maxWeight(g)
		err = par.Dynamic(ctx, n, 64, par.Workers(n), func(_, lo, hi int) error {
			for v := lo; v < hi; v++ {
				coef[v] = weightedUndirected(g, v, maxW)
			}
			return nil
		})
	default:
		maxW := 1.0
		if g.W != nil {
			maxW = maxWeight(g)
		}
		err = par.Dynamic(ctx, n, 64, par.Workers(n), func(_, lo, hi int) error {
			for v := lo; v < hi; v++ {
				coef[v] = directed(g, v, maxW)
			}
			return nil
		})
	}
	if err != nil {
		return c, err
	}
	c.Coefficients = coef
	sum := 0.0
	for _, x := range coef {
		sum += x
	}
	c.Average = sum / float64(n)
	c.Transitivity, err = transitivity(ctx, g, c.Triangles)
	return c, err
}

// simpleDegree is v's neighbour count without its self-loop.
func simpleDegree(g *csr.Graph, v int) int {
	d := g.OutDegree(v)
	if g.HasSelfLoop(v) {
		d--
	}
	return d
}

// maxWeight is networkx's max_weight: the largest weight over all edges,
// self-loops included (1 for a graph without edges).
func maxWeight(g *csr.Graph) float64 {
	if len(g.W) == 0 {
		return 1
	}
	m := math.Inf(-1)
	for _, w := range g.W {
		m = max(m, w)
	}
	return m
}

// weightedUndirected is nx's _weighted_triangles_and_degree_iter for one
// node, turned into the coefficient.
func weightedUndirected(g *csr.Graph, i int, maxW float64) float64 {
	if maxW <= 0 {
		return 0
	}
	nb, wi := g.Neighbors(i), g.Weights(i)
	d := 0
	sum := 0.0
	for a, j := range nb {
		if int(j) == i {
			continue
		}
		d++
		wij := wi[a] / maxW
		nj, wj := g.Neighbors(int(j)), g.Weights(int(j))
		// k ranges over common neighbours above j, so each unordered pair
		// {j, k} is counted once (networkx doubles the sum at the end).
		x, y := a+1, 0
		for x < len(nb) && y < len(nj) {
			p, q := nb[x], nj[y]
			switch {
			case p < q:
				x++
			case p > q:
				y++
			default:
				if int(p) != i {
					sum += math.Cbrt(wij * (wj[y] / maxW) * (wi[x] / maxW))
				}
				x++
				y++
			}
		}
	}
	if sum == 0 {
		return 0
	}
	return 2 * sum / (float64(d) * float64(d-1))
}

// directed is nx's (weighted or not) _directed_triangles_and_degree_iter for
// one node, turned into Fagiolo's coefficient.
func directed(g *csr.Graph, i int, maxW float64) float64 {
	weighted := g.W != nil
	if weighted && maxW <= 0 {
		return 0
	}
	pred, succ := g.InNeighbors(i), g.Neighbors(i)
	predW, succW := g.InWeights(i), g.Weights(i)
	self := int32(i)
	t := 0.0
	// For every neighbour j (once as predecessor, once as successor), count
	// the k adjacent to both i and j, in all four arc directions.
	side := func(j int32, a float64) {
		jp, js := g.InNeighbors(int(j)), g.Neighbors(int(j))
		jpW, jsW := g.InWeights(int(j)), g.Weights(int(j))
		t += meet(pred, predW, jp, jpW, self, j, a, maxW)
		t += meet(pred, predW, js, jsW, self, j, a, maxW)
		t += meet(succ, succW, jp, jpW, self, j, a, maxW)
		t += meet(succ, succW, js, jsW, self, j, a, maxW)
	}
	dp, ds := 0, 0
	for x, j := range pred {
		if j == self {
			continue
		}
		dp++
		a := 1.0
		if weighted {
			a = predW[x] / maxW
		}
		side(j, a)
	}
	for x, j := range succ {
		if j == self {
			continue
		}
		ds++
		a := 1.0
		if weighted {
			a = succW[x] / maxW
		}
		side(j, a)
	}
	if t == 0 {
		return 0
	}
	// Bidirectional neighbours: in both pred and succ.
	db := 0
	x, y := 0, 0
	for x < len(pred) && y < len(succ) {
		switch {
		case pred[x] < succ[y]:
			x++
		case pred[x] > succ[y]:
			y++
		default:
			if pred[x] != self {
				db++
			}
			x++
			y++
		}
	}
	dt := float64(dp + ds)
	return t / (2 * (dt*(dt-1) - 2*float64(db)))
}

// meet sums, over k in both sorted lists a and b (k not i or j), 1 when
// unweighted or cbrt(w0 · ŵa(k) · ŵb(k)) when weighted.
func meet(a []int32, aw []float64, b []int32, bw []float64, i, j int32, w0, maxW float64) float64 {
	s := 0.0
	x, y := 0, 0
	for x < len(a) && y < len(b) {
		p, q := a[x], b[y]
		switch {
		case p < q:
			x++
		case p > q:
			y++
		default:
			if p != i && p != j {
				if aw == nil {
					s++
				} else {
					s += math.Cbrt(w0 * (aw[x] / maxW) * (bw[y] / maxW))
				}
			}
			x++
			y++
		}
	}
	return s
}

// transitivity is nx.transitivity: Σ t(v) / Σ d(v)(d(v)-1) with d(v) the
// number of (out-)neighbours other than v and t(v) the number of ordered
// pairs (j, k) of them with j→k. For undirected graphs t(v) = 2·triangles(v).
func transitivity(ctx context.Context, g *csr.Graph, tri []int64) (float64, error) {
	n := g.N
	ts := make([]int64, n)
	ds := make([]int64, n)
	err := par.Dynamic(ctx, n, 256, par.Workers(n), func(_, lo, hi int) error {
		for v := lo; v < hi; v++ {
			d := int64(simpleDegree(g, v))
			ds[v] = d * (d - 1)
			if tri != nil {
				ts[v] = 2 * tri[v]
				continue
			}
			nb := g.Neighbors(v)
			var t int64
			for _, j := range nb {
				if int(j) == v {
					continue
				}
				t += int64(meet(nb, nil, g.Neighbors(int(j)), nil, int32(v), j, 0, 1))
			}
			ts[v] = t
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var t, d int64
	for v := 0; v < n; v++ {
		t += ts[v]
		d += ds[v]
	}
	if t == 0 {
		return 0, nil
	}
	return float64(t) / float64(d), nil
}
