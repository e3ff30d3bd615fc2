// Package triad counts the 3-node subgraphs of a graph: the 16 MAN triad
// classes of a directed graph (networkx 2.8's nx.triadic_census) or the four
// classes of an undirected one.
//
// It uses Batagelj and Mrvar's algorithm, as networkx does: only triads with
// at least one edge are visited (each once, from its "canonical" pair), the
// dyadic ones are counted by formula and the empty ones by subtraction from
// C(n, 3). That makes it O(m * max degree) instead of O(n^3).
package triad

import (
	"context"
	"math/big"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/internal/par"
	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// Names are the 16 triad classes in networkx's order.
var Names = []string{"003", "012", "102", "021D", "021U", "021C", "111D", "111U",
	"030T", "030C", "201", "120D", "120U", "120C", "210", "300"}

// UndirectedNames are the four classes of an undirected graph: no edge, one
// edge, two edges (an open path) and a triangle.
var UndirectedNames = []string{"empty", "edge", "path", "triangle"}

// tricodes maps the 6-bit code of a triad (see tricode) to its class index
// in Names; this is networkx's TRICODES table minus one.
var tricodes = [64]uint8{
	0, 1, 1, 2, 1, 3, 5, 7, 1, 5, 4, 6, 2, 7, 6, 10,
	1, 5, 3, 7, 4, 8, 8, 12, 5, 9, 8, 13, 6, 13, 11, 14,
	1, 4, 5, 6, 5, 8, 9, 13, 3, 8, 8, 11, 7, 12, 13, 14,
	2, 6, 7, 10, 6, 11, 13, 14, 7, 13, 12, 14, 10, 14, 14, 15,
}

// Census returns the class names and the number of node triples of each
// class. Self-loops and weights are ignored. For an undirected g the classes
// are UndirectedNames (the 003, 102, 201 and 300 counts of the symmetric
// directed graph). All counts must fit in int64, which bounds n to about
// 3.8 million (a field error on "num_nodes" beyond).
func Census(ctx context.Context, g *csr.Graph) ([]string, []int64, error) {
	n := g.N
	total := new(big.Int).Binomial(int64(n), 3)
	if !total.IsInt64() {
		return nil, nil, kerr.Invalid("num_nodes", "C(%d, 3) triads do not fit in a 64-bit count", n)
	}
	u, err := undirected.Of(ctx, g)
	if err != nil {
		return nil, nil, err
	}
	workers := par.Workers(n)
	counts := make([][16]int64, workers)
	marks := make([][]int32, workers)
	// Strided: integer counts, so any split gives the same totals; each
	// worker keeps its own mark array ("w is a neighbour of v", stamped v+1).
	err = par.Strided(ctx, n, workers, func(wk, v int) error {
		if marks[wk] == nil {
			marks[wk] = make([]int32, n)
		}
		mark, c := marks[wk], &counts[wk]
		nv := u.Neighbors(v)
		stamp := int32(v) + 1
		for _, w := range nv {
			mark[w] = stamp
		}
		for _, x := range nv {
			if int(x) <= v {
				continue
			}
			// S = N(v) ∪ N(x) minus {v, x}; visit each w in S once.
			size := 0
			visit := func(w int32) {
				size++
				if w > x || (int(w) > v && w < x && mark[w] != stamp) {
					c[tricodes[tricode(g, v, int(x), int(w))]]++
				}
			}
			for _, w := range nv {
				if w != x {
					visit(w)
				}
			}
			for _, w := range u.Neighbors(int(x)) {
				if int(w) != v && mark[w] != stamp {
					visit(w)
				}
			}
			// Triads {v, x, w} with w outside S hold only the v-x dyad.
			if g.HasEdge(v, int(x)) && g.HasEdge(int(x), v) {
				c[2] += int64(n - size - 2)
			} else {
				c[1] += int64(n - size - 2)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var sum [16]int64
	for _, c := range counts {
		for i := range sum {
			sum[i] += c[i]
		}
	}
	found := int64(0)
	for _, x := range sum[1:] {
		found += x
	}
	sum[0] = total.Int64() - found
	if !g.Directed {
		return UndirectedNames, []int64{sum[0], sum[2], sum[10], sum[15]}, nil
	}
	return Names, sum[:], nil
}

// tricode is networkx's _tricode: one bit per possible arc among v, u, w.
func tricode(g *csr.Graph, v, u, w int) int {
	code := 0
	if g.HasEdge(v, u) {
		code |= 1
	}
	if g.HasEdge(u, v) {
		code |= 2
	}
	if g.HasEdge(v, w) {
		code |= 4
	}
	if g.HasEdge(w, v) {
		code |= 8
	}
	if g.HasEdge(u, w) {
		code |= 16
	}
	if g.HasEdge(w, u) {
		code |= 32
	}
	return code
}
