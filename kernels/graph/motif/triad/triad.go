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
	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Names are the 16 triad classes in networkx's order.
var Names = []string{"003", "012", "102", "021D", "021U", "021C", "111D", "111U",
	"030T", "030C", "201", "120D", "120U", "120C", "210", "300"}

// UndirectedNames are the four classes of an undirected graph: no edge, one
// edge, two edges (an open path) and a triangle.
var UndirectedNames = []string{"empty", "edge", "path", "triangle"}

// tricodes maps the 6-bit code of a triad {v, x, w} (bits: v->x 1, x->v 2,
// v->w 4, w->v 8, x->w 16, w->x 32, as networkx's _tricode) to its class
// index in Names; this is networkx's TRICODES table minus one.
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
	tags := make([]*tagger, workers)
	// Strided: integer counts, so any split gives the same totals.
	err = par.Strided(ctx, n, workers, func(wk, v int) error {
		if tags[wk] == nil {
			tags[wk] = &tagger{v: make([]uint32, n), x: make([]uint32, n)}
		}
		tg, c := tags[wk], &counts[wk]
		vs := uint32(v) + 1
		tg.mark(tg.v, vs, g.Neighbors(v), g.InNeighbors(v))
		nv := u.Neighbors(v)
		for _, x := range nv {
			if int(x) <= v {
				continue
			}
			xs := tg.nextPair()
			tg.mark(tg.x, xs, g.Neighbors(int(x)), g.InNeighbors(int(x)))
			vx := bits(tg.v, vs, x) // 1: v->x, 2: x->v
			// S = N(v) ∪ N(x) minus {v, x}; visit each w in S once. The
			// tags give all six arcs of {v, x, w} without a search.
			size := 0
			visit := func(w int32) {
				size++
				if w > x || (int(w) > v && w < x && bits(tg.v, vs, w) == 0) {
					code := vx | bits(tg.v, vs, w)<<2 | bits(tg.x, xs, w)<<4
					c[tricodes[code]]++
				}
			}
			for _, w := range nv {
				if w != x {
					visit(w)
				}
			}
			for _, w := range u.Neighbors(int(x)) {
				if int(w) != v && bits(tg.v, vs, w) == 0 {
					visit(w)
				}
			}
			// Triads {v, x, w} with w outside S hold only the v-x dyad.
			if vx == 3 {
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

// tagger records, for the current node v and the current pair node x, how
// every other node w is linked to them: tag[w] = stamp<<2 | arcs, with arc
// bit 1 for "to w" and 2 for "from w". Stamps make clearing unnecessary.
type tagger struct {
	v, x  []uint32
	pairs uint32
}

// nextPair returns a fresh stamp for tg.x, wiping the array on the rare
// wrap-around (stamps live in 30 bits).
func (tg *tagger) nextPair() uint32 {
	tg.pairs++
	if tg.pairs >= 1<<30 {
		clear(tg.x)
		tg.pairs = 1
	}
	return tg.pairs
}

// mark tags the out-neighbours (bit 1) and in-neighbours (bit 2) of a node.
func (tg *tagger) mark(tag []uint32, stamp uint32, out, in []int32) {
	for _, w := range out {
		tag[w] = stamp<<2 | 1
	}
	for _, w := range in {
		if tag[w]>>2 == stamp {
			tag[w] |= 2
		} else {
			tag[w] = stamp<<2 | 2
		}
	}
}

// bits returns the arc bits tagged for w under stamp (0 when untagged).
func bits(tag []uint32, stamp uint32, w int32) int {
	if t := tag[w]; t>>2 == stamp {
		return int(t & 3)
	}
	return 0
}
