package centrality

import (
	"context"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Betweenness is nx.betweenness_centrality(G, normalized=normalized,
// weight="weight" if g is weighted else None): Brandes' algorithm with BFS
// on unweighted graphs and Dijkstra on weighted ones.
//
// Weights must be strictly positive: with zero-weight edges the set of
// shortest paths can contain zero-length cycles and path counts are not
// well defined. Self-loops never lie on a shortest path and are ignored.
//
// Sources are split over GOMAXPROCS workers in a fixed stride, each worker
// accumulating into its own array; the arrays are summed in worker order, so
// the result is bit-for-bit reproducible for a given GOMAXPROCS.
func Betweenness(ctx context.Context, g *csr.Graph, normalized bool) ([]float64, error) {
	n := g.N
	workers := par.Workers(n)
	states := make([]*brandes, workers)
	for w := range states {
		states[w] = newBrandes(g)
	}
	err := par.Strided(ctx, n, workers, func(w, s int) error {
		states[w].accumulate(int32(s))
		return nil
	})
	if err != nil {
		return nil, err
	}
	bc := states[0].bc
	for _, st := range states[1:] {
		for v, x := range st.bc {
			bc[v] += x
		}
	}
	if scale, ok := BetweennessScale(n, normalized, g.Directed); ok {
		for v := range bc {
			bc[v] *= scale
		}
	}
	return bc, nil
}

// BetweennessScale is networkx's _rescale (endpoints=False, k=None): with
// normalization 1/((n-1)(n-2)) for n > 2; without it, 1/2 for undirected
// graphs because every pair was counted from both ends. The GPU path
// (cuda/) rescales its sums with it too.
func BetweennessScale(n int, normalized, directed bool) (float64, bool) {
	if normalized {
		if n <= 2 {
			return 0, false
		}
		return 1 / (float64(n-1) * float64(n-2)), true
	}
	if !directed {
		return 0.5, true
	}
	return 0, false
}

// brandes is one worker's state: the search buffers and its share of the
// betweenness sums.
type brandes struct {
	g     *csr.Graph
	bc    []float64
	sigma []float64 // number of shortest paths from the source
	hops  []int32   // BFS depth, -1 when unreached (unweighted graphs)
	dist  []float64 // distance, -1 when unreached (weighted graphs)
	coef  []float64 // (1 + delta[w]) / sigma[w], filled in the backward pass
	order []int32   // nodes in non-decreasing distance
	done  []bool    // settled by Dijkstra (weighted graphs only)
	heap  []heapItem
}

type heapItem struct {
	d float64
	v int32
}

func newBrandes(g *csr.Graph) *brandes {
	b := &brandes{
		g:     g,
		bc:    make([]float64, g.N),
		sigma: make([]float64, g.N),
		coef:  make([]float64, g.N),
		order: make([]int32, 0, g.N),
	}
	// Unweighted searches keep depths as int32: half the memory traffic of
	// float64 distances in the two passes that dominate the run time.
	if g.W == nil {
		b.hops = make([]int32, g.N)
		for i := range b.hops {
			b.hops[i] = -1
		}
	} else {
		b.dist = make([]float64, g.N)
		for i := range b.dist {
			b.dist[i] = -1
		}
		b.done = make([]bool, g.N)
	}
	return b
}

// accumulate adds source s's dependencies to b.bc.
func (b *brandes) accumulate(s int32) {
	for _, v := range b.order {
		b.sigma[v] = 0
		if b.hops != nil {
			b.hops[v] = -1
		} else {
			b.dist[v] = -1
			b.done[v] = false
		}
	}
	b.order = b.order[:0]
	if b.g.W == nil {
		b.bfs(s)
	} else {
		b.dijkstra(s)
	}
	// Backward pass, pulling from successors: delta[v] is
	// sigma[v] * sum over successors w of (1 + delta[w]) / sigma[w]. Each
	// node writes only its own slots, so no predecessor lists are needed.
	ptr, idx, w := b.g.Ptr, b.g.Idx, b.g.W
	hops, dist, sigma, coef, bc := b.hops, b.dist, b.sigma, b.coef, b.bc
	for i := len(b.order) - 1; i >= 0; i-- {
		v := b.order[i]
		sum := 0.0
		if w == nil {
			next := hops[v] + 1
			for _, x := range idx[ptr[v]:ptr[v+1]] {
				if hops[x] == next {
					sum += coef[x]
				}
			}
		} else {
			dv := dist[v]
			for e := ptr[v]; e < ptr[v+1]; e++ {
				x := idx[e]
				if dist[x] >= 0 && x != v && dv+w[e] == dist[x] {
					sum += coef[x]
				}
			}
		}
		delta := sigma[v] * sum
		coef[v] = (1 + delta) / sigma[v]
		if v != s {
			bc[v] += delta
		}
	}
}

func (b *brandes) bfs(s int32) {
	ptr, idx, hops, sigma := b.g.Ptr, b.g.Idx, b.hops, b.sigma
	hops[s] = 0
	sigma[s] = 1
	q := append(b.order, s)
	for head := 0; head < len(q); head++ {
		v := q[head]
		next := hops[v] + 1
		sv := sigma[v]
		for _, x := range idx[ptr[v]:ptr[v+1]] {
			if hops[x] < 0 {
				hops[x] = next
				q = append(q, x)
			}
			if hops[x] == next {
				sigma[x] += sv
			}
		}
	}
	b.order = q
}

// dijkstra settles nodes in distance order. Weights are positive, so every
// predecessor of x is settled before x and sigma[x] is complete when x is
// popped.
func (b *brandes) dijkstra(s int32) {
	ptr, idx, w, dist, sigma := b.g.Ptr, b.g.Idx, b.g.W, b.dist, b.sigma
	h := b.heap[:0]
	dist[s] = 0
	sigma[s] = 1
	h = heapPush(h, 0, s)
	for len(h) > 0 {
		var it heapItem
		h, it = heapPop(h)
		v := it.v
		if b.done[v] || it.d > dist[v] {
			continue // stale entry
		}
		b.done[v] = true
		b.order = append(b.order, v)
		sv := sigma[v]
		for e := ptr[v]; e < ptr[v+1]; e++ {
			x := idx[e]
			if b.done[x] {
				continue // only self-loops and back edges reach settled nodes
			}
			nd := it.d + w[e]
			switch {
			case dist[x] < 0 || nd < dist[x]:
				dist[x] = nd
				sigma[x] = sv
				h = heapPush(h, nd, x)
			case nd == dist[x]:
				sigma[x] += sv
			}
		}
	}
	b.heap = h
}

func heapPush(h []heapItem, d float64, v int32) []heapItem {
	h = append(h, heapItem{d, v})
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].d <= d {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = heapItem{d, v}
	return h
}

func heapPop(h []heapItem) ([]heapItem, heapItem) {
	top := h[0]
	last := h[len(h)-1]
	h = h[:len(h)-1]
	n := len(h)
	if n > 0 {
		i := 0
		for {
			l := 2*i + 1
			if l >= n {
				break
			}
			if r := l + 1; r < n && h[r].d < h[l].d {
				l = r
			}
			if h[l].d >= last.d {
				break
			}
			h[i] = h[l]
			i = l
		}
		h[i] = last
	}
	return h, top
}
