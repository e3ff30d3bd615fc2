// Package clique enumerates the k-cliques of an undirected graph and finds
// its k-clique communities (clique percolation, Palla et al. 2005), with
// networkx 2.8's definitions: the k-cliques are the k-node sets of
// nx.enumerate_all_cliques and the communities those of
// nx.community.k_clique_communities.
package clique

import (
	"context"
	"slices"

	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
	"github.com/gokernels/gokernels/kernels/par"
)

// forward returns v's neighbours with larger ids. Orienting every edge from
// the smaller to the larger id makes each clique reachable exactly once, from
// its smallest node, and in lexicographic order.
func forward(g *undirected.Graph, v int) []int32 {
	nb := g.Neighbors(v)
	i, _ := slices.BinarySearch(nb, int32(v)+1)
	return nb[i:]
}

// intersect writes the common elements of two ascending lists into dst.
func intersect(dst, a, b []int32) []int32 {
	dst = dst[:0]
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			dst = append(dst, a[i])
			i++
			j++
		}
	}
	return dst
}

// walker extends partial cliques; bufs[d] holds the candidates at depth d
// so that the search allocates nothing per step.
type walker struct {
	g     *undirected.Graph
	bufs  [][]int32
	path  []int32
	emit  func([]int32) bool // return false to stop
	ctx   context.Context
	steps int
	err   error // set when ctx ended mid-search; results are then discarded
}

// stop polls the context every few thousand steps: a single start node of a
// dense graph can hide an exponential search.
func (w *walker) stop() bool {
	if w.err != nil {
		return true
	}
	if w.steps++; w.steps&4095 == 0 {
		w.err = w.ctx.Err()
	}
	return w.err != nil
}

// count returns the number of ways to pick `need` more nodes from cand that
// are pairwise adjacent (cand is already adjacent to everything chosen).
func (w *walker) count(cand []int32, need, depth int) int64 {
	if need == 1 {
		return int64(len(cand))
	}
	var total int64
	for i, v := range cand {
		if len(cand)-i < need || w.stop() {
			break // too few candidates left to finish a clique
		}
		next := intersect(w.bufs[depth], cand[i+1:], forward(w.g, int(v)))
		w.bufs[depth] = next
		if len(next) >= need-1 {
			total += w.count(next, need-1, depth+1)
		}
	}
	return total
}

// list is count that also reports every clique, in lexicographic order.
func (w *walker) list(cand []int32, need, depth int) bool {
	for i, v := range cand {
		if len(cand)-i < need {
			break
		}
		if w.stop() {
			return false
		}
		w.path = append(w.path, v)
		if need == 1 {
			if !w.emit(w.path) {
				return false
			}
		} else {
			next := intersect(w.bufs[depth], cand[i+1:], forward(w.g, int(v)))
			w.bufs[depth] = next
			if len(next) >= need-1 && !w.list(next, need-1, depth+1) {
				return false
			}
		}
		w.path = w.path[:len(w.path)-1]
	}
	return true
}

func newWalker(ctx context.Context, g *undirected.Graph, k int) *walker {
	return &walker{g: g, bufs: make([][]int32, k), path: make([]int32, 0, k), ctx: ctx}
}

// Cliques returns the number of k-cliques (k >= 2) and the first maxList of
// them in lexicographic order, each ascending; truncated reports whether
// more exist.
func Cliques(ctx context.Context, g *undirected.Graph, k, maxList int) (count int64, list [][]int32, truncated bool, err error) {
	n := g.N
	perStart := make([]int64, n)
	workers := par.Workers(n)
	walkers := make([]*walker, workers)
	// Counting from each start node is independent; chunks balance the
	// hubs. Integer sums make the split irrelevant to the result.
	err = par.Dynamic(ctx, n, 64, workers, func(wk, lo, hi int) error {
		if walkers[wk] == nil {
			walkers[wk] = newWalker(ctx, g, k)
		}
		w := walkers[wk]
		for s := lo; s < hi; s++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			perStart[s] = w.count(forward(g, s), k-1, 0)
			if w.err != nil {
				return w.err
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, false, err
	}
	for _, c := range perStart {
		count += c
	}
	if maxList <= 0 || count == 0 {
		return count, nil, count > 0, nil
	}
	// List from the first start nodes only, until maxList cliques are out.
	w := newWalker(ctx, g, k)
	w.emit = func(c []int32) bool {
		list = append(list, slices.Clone(c))
		return len(list) < maxList
	}
	for s := 0; s < n && len(list) < maxList; s++ {
		if perStart[s] == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return 0, nil, false, err
		}
		w.path = append(w.path[:0], int32(s))
		w.list(forward(g, s), k-1, 0)
		if w.err != nil {
			return 0, nil, false, w.err
		}
	}
	return count, list, count > int64(len(list)), nil
}
