// Package neighborhood scores node pairs by how much their neighbourhoods
// overlap: Jaccard, cosine, Adamic–Adar and common-neighbour counts, with
// networkx 2.8's definitions (nx.jaccard_coefficient, nx.adamic_adar_index,
// nx.common_neighbors).
//
// Two modes: score given pairs (one sorted-list merge per pair), or find the
// top-k non-adjacent pairs. The latter never enumerates all n²/2 pairs: a
// pair with a positive score shares a neighbour, so it is reached by a
// two-hop walk, and the walk from each node runs on its own worker.
package neighborhood

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Measure selects the score.
type Measure int

const (
	// Jaccard is |common neighbours| / |N(u) ∪ N(v)| (0 for an empty union).
	Jaccard Measure = iota
	// Cosine is |N(u) ∩ N(v)| / sqrt(|N(u)| |N(v)|) (0 if either is empty).
	Cosine
	// AdamicAdar is the sum over common neighbours w of 1 / ln(degree(w)).
	AdamicAdar
	// CommonNeighbors is the number of common neighbours.
	CommonNeighbors
)

// Pair is an unordered pair of nodes.
type Pair struct{ U, V int32 }

// The scores are defined on undirected graphs (networkx raises on directed
// ones), so both entry points reject a directed g.
func checkUndirected(g *csr.Graph) error {
	if g.Directed {
		return kerr.Invalid("directed", "neighbourhood similarity is defined for undirected graphs only")
	}
	return nil
}

// Score returns the score of every pair, in order. Pairs must hold two
// different node ids of g; a bad one is a field error on "pairs[i]".
func Score(ctx context.Context, g *csr.Graph, m Measure, pairs []Pair) ([]float64, error) {
	if err := checkUndirected(g); err != nil {
		return nil, err
	}
	for i, p := range pairs {
		if p.U < 0 || int(p.U) >= g.N || p.V < 0 || int(p.V) >= g.N {
			return nil, kerr.Invalid(fmt.Sprintf("pairs[%d]", i), "node id out of range [0, %d)", g.N)
		}
		if p.U == p.V {
			return nil, kerr.Invalid(fmt.Sprintf("pairs[%d]", i), "the two nodes must differ")
		}
	}
	out := make([]float64, len(pairs))
	err := par.Dynamic(ctx, len(pairs), 256, par.Workers(len(pairs)), func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			out[i] = pairScore(g, m, int(pairs[i].U), int(pairs[i].V))
		}
		return nil
	})
	return out, err
}

// pairScore merges the two sorted neighbour lists once.
func pairScore(g *csr.Graph, m Measure, u, v int) float64 {
	a, b := g.Neighbors(u), g.Neighbors(v)
	inter, common := 0, 0
	aa := 0.0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			w := int(a[i])
			inter++
			// nx.common_neighbors excludes u and v themselves (they can
			// only be shared through self-loops or the u-v edge).
			if w != u && w != v {
				common++
				if m == AdamicAdar {
					aa += 1 / math.Log(float64(g.Degree(w)))
				}
			}
			i++
			j++
		}
	}
	return finish(m, len(a), len(b), inter, common, aa)
}

// finish turns the overlap counts of one pair into its score.
func finish(m Measure, du, dv, inter, common int, aa float64) float64 {
	switch m {
	case Jaccard:
		union := du + dv - inter
		if union == 0 {
			return 0
		}
		return float64(common) / float64(union)
	case Cosine:
		if du == 0 || dv == 0 {
			return 0
		}
		return float64(inter) / math.Sqrt(float64(du)*float64(dv))
	case AdamicAdar:
		return aa
	default:
		return float64(common)
	}
}

// scored is a candidate pair; better ranks by score, then (u, v) ascending,
// a total order, so the top k is the same whatever the worker split.
type scored struct {
	p Pair
	s float64
}

func better(a, b scored) bool {
	if a.s != b.s {
		return a.s > b.s
	}
	if a.p.U != b.p.U {
		return a.p.U < b.p.U
	}
	return a.p.V < b.p.V
}

// worst-first heap of the current top k.
type topHeap []scored

func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h topHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *topHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (h *topHeap) offer(c scored, k int) {
	if h.Len() < k {
		heap.Push(h, c)
	} else if better(c, (*h)[0]) {
		(*h)[0] = c
		heap.Fix(h, 0)
	}
}

// TopK returns up to k non-adjacent pairs (u < v) with a positive score,
// best first, ties by (u, v). Pairs sharing no neighbour score 0 under every
// measure and are never returned.
func TopK(ctx context.Context, g *csr.Graph, m Measure, k int) ([]Pair, []float64, error) {
	if err := checkUndirected(g); err != nil {
		return nil, nil, err
	}
	if k < 1 {
		return []Pair{}, []float64{}, nil
	}
	n := g.N
	var invLog []float64
	if m == AdamicAdar {
		invLog = make([]float64, n)
		for w := 0; w < n; w++ {
			if d := g.Degree(w); d > 1 {
				invLog[w] = 1 / math.Log(float64(d))
			}
		}
	}
	workers := par.Workers(n)
	type scratch struct {
		cnt     []int32   // common neighbours of (u, v) for the current u
		aa      []float64 // Adamic–Adar sum for (u, v)
		adj     []int32   // stamp u+1 on u's neighbours: adjacency test
		touched []int32
		top     topHeap
	}
	sc := make([]*scratch, workers)
	// Strided keeps each worker's visiting order fixed, so every pair's
	// Adamic–Adar terms are summed in the same (ascending w) order on any
	// machine.
	err := par.Strided(ctx, n, workers, func(wk, u int) error {
		s := sc[wk]
		if s == nil {
			s = &scratch{cnt: make([]int32, n), aa: make([]float64, n), adj: make([]int32, n)}
			sc[wk] = s
		}
		nu := g.Neighbors(u)
		for _, w := range nu {
			s.adj[w] = int32(u) + 1
		}
		s.touched = s.touched[:0]
		for _, w := range nu {
			if int(w) == u {
				continue
			}
			for _, v := range g.Neighbors(int(w)) {
				if int(v) <= u || v == w {
					continue
				}
				if s.cnt[v] == 0 {
					s.touched = append(s.touched, v)
				}
				s.cnt[v]++
				if m == AdamicAdar {
					s.aa[v] += invLog[w]
				}
			}
		}
		du := len(nu)
		for _, v := range s.touched {
			if s.adj[v] != int32(u)+1 { // networkx's nx.non_edges only
				c := int(s.cnt[v])
				// For a non-adjacent pair the plain intersection equals
				// the common neighbours: u and v are in neither list.
				cand := scored{Pair{int32(u), v}, finish(m, du, g.OutDegree(int(v)), c, c, s.aa[v])}
				if cand.s > 0 {
					s.top.offer(cand, k)
				}
			}
			s.cnt[v], s.aa[v] = 0, 0
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var all []scored
	for _, s := range sc {
		if s != nil {
			all = append(all, s.top...)
		}
	}
	slices.SortFunc(all, func(a, b scored) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	if len(all) > k {
		all = all[:k]
	}
	pairs := make([]Pair, len(all))
	scores := make([]float64, len(all))
	for i, c := range all {
		pairs[i], scores[i] = c.p, c.s
	}
	return pairs, scores, nil
}
