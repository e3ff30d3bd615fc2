// Package sssp computes single-source shortest paths on a csr.Graph: BFS
// when the graph is unweighted, Dijkstra when it carries weights.
//
// A Searcher owns its buffers and is reused source after source by one
// worker; it resets only the nodes the previous search reached, so running
// it from every node (closeness, all-pairs, average path length) costs
// O(reached) per source instead of O(n).
//
// Weights must be non-negative (callers validate this and name the field);
// zero weights are fine. Ties follow exact float equality, as networkx's
// Dijkstra does: u is a predecessor of v when dist[u] + w(u, v) == dist[v].
package sssp

import (
	"math"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// Unreached is the distance of a node the search did not reach.
var Unreached = math.Inf(1)

// Searcher runs searches from one source at a time.
type Searcher struct {
	// Dist[v] is the distance from the last source, Unreached if none.
	Dist []float64
	// Pred[v] is the smallest-id predecessor of v on a shortest path from
	// the last source (-1 for the source and unreached nodes). Only filled
	// when the Searcher was made with trackPred.
	Pred []int32
	// Reached lists the nodes reached by the last search in the order they
	// were settled (the source first, distances non-decreasing).
	Reached []int32

	ptr       []int32
	idx       []int32
	w         []float64
	trackPred bool
	settled   []bool  // Dijkstra only
	order     []int32 // Dijkstra settle order, reused
	heap      minHeap
}

// New returns a Searcher over g. With reverse it follows arcs backwards
// (in-arcs), which gives distances *to* the source in a directed graph; for
// undirected graphs reverse makes no difference.
func New(g *csr.Graph, reverse, trackPred bool) *Searcher {
	s := &Searcher{
		Dist:      make([]float64, g.N),
		ptr:       g.Ptr,
		idx:       g.Idx,
		w:         g.W,
		trackPred: trackPred,
	}
	if reverse {
		s.ptr, s.idx, s.w = g.InPtr, g.InIdx, g.InW
	}
	for i := range s.Dist {
		s.Dist[i] = Unreached
	}
	if trackPred {
		s.Pred = make([]int32, g.N)
		for i := range s.Pred {
			s.Pred[i] = -1
		}
	}
	if s.w != nil {
		s.settled = make([]bool, g.N)
	}
	s.Reached = make([]int32, 0, 64)
	return s
}

// Weighted reports whether searches run Dijkstra.
func (s *Searcher) Weighted() bool { return s.w != nil }

// From runs a search from src, replacing the previous results.
func (s *Searcher) From(src int32) {
	for _, v := range s.Reached {
		s.Dist[v] = Unreached
		if s.trackPred {
			s.Pred[v] = -1
		}
		if s.settled != nil {
			s.settled[v] = false
		}
	}
	s.Reached = s.Reached[:0]
	if s.w == nil {
		s.bfs(src)
	} else {
		s.dijkstra(src)
	}
}

func (s *Searcher) bfs(src int32) {
	dist, ptr, idx := s.Dist, s.ptr, s.idx
	dist[src] = 0
	q := append(s.Reached, src)
	for head := 0; head < len(q); head++ {
		u := q[head]
		du := dist[u] + 1
		for _, v := range idx[ptr[u]:ptr[u+1]] {
			if dist[v] == Unreached {
				dist[v] = du
				q = append(q, v)
				if s.trackPred {
					s.Pred[v] = u
				}
			} else if s.trackPred && dist[v] == du && u < s.Pred[v] {
				s.Pred[v] = u
			}
		}
	}
	s.Reached = q
}

func (s *Searcher) dijkstra(src int32) {
	dist, ptr, idx, w := s.Dist, s.ptr, s.idx, s.w
	h := &s.heap
	h.items = h.items[:0]
	dist[src] = 0
	// Nodes enter Reached when first seen (so the reset in From covers every
	// touched slot) and are reordered into settle order at the end.
	touched := append(s.Reached, src)
	order := s.order[:0]
	h.push(0, src)
	for len(h.items) > 0 {
		du, u := h.pop()
		if s.settled[u] || du > dist[u] {
			continue // stale heap entry
		}
		s.settled[u] = true
		order = append(order, u)
		for e := ptr[u]; e < ptr[u+1]; e++ {
			v := idx[e]
			nd := du + w[e]
			switch {
			case dist[v] == Unreached:
				touched = append(touched, v)
				dist[v] = nd
				if s.trackPred {
					s.Pred[v] = u
				}
				h.push(nd, v)
			case nd < dist[v] && !s.settled[v]:
				dist[v] = nd
				if s.trackPred {
					s.Pred[v] = u
				}
				h.push(nd, v)
			case nd == dist[v] && s.trackPred && v != src && u < s.Pred[v]:
				s.Pred[v] = u
			}
		}
	}
	// Every touched node is settled eventually (weights are finite and
	// non-negative), so order is a permutation of touched.
	s.Reached = append(touched[:0], order...)
	s.order = order
}

// minHeap is a binary heap of (distance, node) with lazy deletion: a node
// may sit in it several times and stale entries are skipped when popped.
type minHeap struct {
	items []heapItem
}

type heapItem struct {
	d float64
	v int32
}

func (h *minHeap) push(d float64, v int32) {
	h.items = append(h.items, heapItem{d, v})
	i := len(h.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h.items[p].d <= d {
			break
		}
		h.items[i] = h.items[p]
		i = p
	}
	h.items[i] = heapItem{d, v}
}

func (h *minHeap) pop() (float64, int32) {
	top := h.items[0]
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	n := len(h.items)
	if n > 0 {
		i := 0
		for {
			l := 2*i + 1
			if l >= n {
				break
			}
			if r := l + 1; r < n && h.items[r].d < h.items[l].d {
				l = r
			}
			if h.items[l].d >= last.d {
				break
			}
			h.items[i] = h.items[l]
			i = l
		}
		h.items[i] = last
	}
	return top.d, top.v
}
