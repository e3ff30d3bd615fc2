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
	// Pred[v] is v's parent in a shortest-path tree from the last source
	// (-1 for the source and unreached nodes); following it always leads
	// back to the source. It is the smallest-id u with
	// dist[u] + w(u, v) == dist[v] and dist[u] < dist[v]; when every such
	// u is at v's own distance (zero-length edges), the smallest-id one
	// among those fewest zero-length hops from a node that has a strictly
	// closer predecessor (see treePred). Only filled when the Searcher was
	// made with trackPred.
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
				h.push(nd, v)
			case nd < dist[v] && !s.settled[v]:
				dist[v] = nd
				h.push(nd, v)
			}
		}
	}
	// Every touched node is settled eventually (weights are finite and
	// non-negative), so order is a permutation of touched.
	s.Reached = append(touched[:0], order...)
	s.order = order
	if s.trackPred {
		s.treePred(src)
	}
}

// treePred fills Pred from the final distances as a tree. The smallest-id
// tight predecessor (dist[u] + w == dist[v], networkx's
// dijkstra_predecessor_and_distance lists) is not one when edges have zero
// length: u and v at the same distance can each be the other's, and
// following them loops (issue 13). So a node with a strictly closer tight
// predecessor takes the smallest-id one of those (with positive lengths
// that is every node, and the rule is min(networkx's list)); the rest of a
// zero-length plateau is reached from those nodes by a breadth-first sweep
// over tight zero-length edges, each node taking the smallest-id
// predecessor on the previous level. Levels strictly decrease towards the
// source, so there is no cycle.
func (s *Searcher) treePred(src int32) {
	dist, ptr, idx, w, pred := s.Dist, s.ptr, s.idx, s.w, s.Pred
	for _, u := range s.Reached {
		du := dist[u]
		for e := ptr[u]; e < ptr[u+1]; e++ {
			v := idx[e]
			if v != src && du < dist[v] && du+w[e] == dist[v] && (pred[v] < 0 || u < pred[v]) {
				pred[v] = u
			}
		}
	}
	// Level 0: the source and every node that has its predecessor.
	level := s.order[:0]
	for _, v := range s.Reached {
		if v == src || pred[v] >= 0 {
			level = append(level, v)
		}
	}
	if len(level) == len(s.Reached) {
		return
	}
	// placed marks nodes on an earlier level; it borrows settled (all true
	// after the search) instead of another buffer.
	placed := s.settled
	for _, v := range s.Reached {
		placed[v] = pred[v] >= 0 || v == src
	}
	next := make([]int32, 0, len(s.Reached)-len(level))
	for len(level) > 0 {
		next = next[:0]
		for _, u := range level {
			du := dist[u]
			for e := ptr[u]; e < ptr[u+1]; e++ {
				v := idx[e]
				if du+w[e] != dist[v] || du != dist[v] || v == src {
					continue
				}
				switch {
				case !placed[v] && pred[v] < 0:
					pred[v] = u
					next = append(next, v)
				case !placed[v] && u < pred[v]:
					pred[v] = u
				}
			}
		}
		for _, v := range next {
			placed[v] = true
		}
		level = append(level[:0], next...)
	}
	for _, v := range s.Reached {
		placed[v] = true // From resets settled for the next search
	}
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
