// Package csr holds the compressed-sparse-row graph every graph kernel runs on.
//
// A request's edge list is turned into a Graph once; the algorithms then walk
// contiguous int32 slices instead of maps, which is what makes them cache
// friendly and cheap to share between goroutines (a Graph is read-only after
// Build).
//
// Semantics follow networkx's simple graphs (nx.Graph / nx.DiGraph) built with
// add_edges_from: duplicate edges collapse into one and the LAST weight given
// wins; in an undirected graph (u,v) and (v,u) are the same edge; a self-loop
// (u,u) is kept and appears once in u's own adjacency list, exactly like
// G.adj[u]. Kernels that must ignore self-loops do so themselves.
package csr

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Graph is an immutable simple graph in CSR form.
//
// For node u, its out-neighbours are Idx[Ptr[u]:Ptr[u+1]] in ascending order
// (for undirected graphs these are all neighbours), with weights W at the same
// positions when the graph is weighted. For directed graphs the in-adjacency
// is held in InPtr/InIdx/InW; for undirected graphs In* alias the out arrays.
type Graph struct {
	N        int
	Directed bool
	Weighted bool

	Ptr []int32
	Idx []int32
	W   []float64 // nil when unweighted

	InPtr []int32
	InIdx []int32
	InW   []float64

	// NumEdges is the number of distinct edges (undirected edges counted once,
	// self-loops counted once), i.e. G.number_of_edges().
	NumEdges int
	// SelfLoops is the number of nodes with a self-loop.
	SelfLoops int
}

// EdgeError reports which input edge made Build fail, so callers can name the
// offending field (e.g. "edges[3]").
type EdgeError struct {
	Index int
	Msg   string
}

func (e *EdgeError) Error() string { return fmt.Sprintf("edge %d: %s", e.Index, e.Msg) }

// Build makes a Graph from parallel source/target slices and optional weights
// (nil or len(src)). Node ids must be in [0, n). It validates what it needs to
// and returns an *EdgeError naming the first bad edge.
func Build(n int, src, dst []int32, w []float64, directed bool) (*Graph, error) {
	if n < 1 {
		return nil, fmt.Errorf("num_nodes must be >= 1")
	}
	if len(src) != len(dst) {
		return nil, fmt.Errorf("source and target lengths differ")
	}
	if w != nil && len(w) != len(src) {
		return nil, fmt.Errorf("weights must have one value per edge")
	}
	m := len(src)
	for i := 0; i < m; i++ {
		if src[i] < 0 || int(src[i]) >= n || dst[i] < 0 || int(dst[i]) >= n {
			return nil, &EdgeError{Index: i, Msg: fmt.Sprintf("node id out of range [0, %d)", n)}
		}
		if w != nil && (math.IsNaN(w[i]) || math.IsInf(w[i], 0)) {
			return nil, &EdgeError{Index: i, Msg: "weight must be finite"}
		}
	}

	return build(n, src, dst, w, directed), nil
}

// build is Build on validated input, as a counting sort instead of a
// comparison sort of all 2m arcs:
//
//  1. count the arcs leaving each node (an undirected non-loop edge gives
//     two arcs, a self-loop one) and lay the buckets out by prefix sums;
//  2. scatter every arc into its source's bucket;
//  3. sort each bucket (small buckets by insertion sort, hubs by pdqsort)
//     and collapse each run of equal targets to one arc;
//  4. compact the buckets into Idx / W.
//
// Weighted graphs scatter the key target<<32 | input index: the keys are
// distinct (one edge puts at most one arc in a bucket), so sorting them
// orders a bucket by (target, input order) and the last element of a run is
// the last duplicate, whose weight wins. Unweighted graphs only need the
// targets, so they scatter 4-byte targets instead (half the memory traffic)
// and compact them in place: the scattered array becomes Idx.
//
// Steps 3 and 4 run on GOMAXPROCS goroutines over node ranges for large
// graphs. The output is identical, slot for slot, to sorting the arcs by
// (source, target, input order) and keeping the last of each (source,
// target) run (buildSorted in the tests is that oracle).
func build(n int, src, dst []int32, w []float64, directed bool) *Graph {
	m := len(src)
	// 1. Bucket sizes, shifted by one so that the prefix sum gives starts.
	start := make([]int32, n+1)
	for i := 0; i < m; i++ {
		u, v := src[i], dst[i]
		start[u+1]++
		if !directed && u != v {
			start[v+1]++
		}
	}
	for u := 0; u < n; u++ {
		start[u+1] += start[u]
	}
	g := &Graph{N: n, Directed: directed, Weighted: w != nil}
	if w == nil {
		g.Ptr, g.Idx, g.SelfLoops = buildTargets(n, src, dst, directed, start)
	} else {
		g.Ptr, g.Idx, g.W, g.SelfLoops = buildWeighted(n, src, dst, w, directed, start)
	}
	arcs := len(g.Idx)
	if directed {
		g.NumEdges = arcs
		g.buildIn()
	} else {
		g.NumEdges = (arcs-g.SelfLoops)/2 + g.SelfLoops
		g.InPtr, g.InIdx, g.InW = g.Ptr, g.Idx, g.W
	}
	return g
}

// buildTargets is steps 2-4 for an unweighted graph, on the bucket starts
// of step 1. It returns Ptr, Idx and the number of self-loops.
func buildTargets(n int, src, dst []int32, directed bool, start []int32) ([]int32, []int32, int) {
	total := int(start[n])
	// 2. Scatter. fill[u] is the next free slot of bucket u.
	tg := make([]int32, total)
	fill := make([]int32, n)
	copy(fill, start[:n])
	for i := range src {
		u, v := src[i], dst[i]
		tg[fill[u]] = v
		fill[u]++
		if !directed && u != v {
			tg[fill[v]] = u
			fill[v]++
		}
	}
	// 3. Sort and dedupe each bucket in place; cnt[u] (reusing fill) is the
	// number of distinct targets of u, kept at the front of its bucket.
	cnt := fill
	parts := buildWorkers(total)
	loops := make([]int, parts)
	dups := make([]bool, parts)
	forRanges(n, parts, start, func(part, lo, hi int) {
		nl, dup := 0, false
		for u := lo; u < hi; u++ {
			b := tg[start[u]:start[u+1]]
			if len(b) <= 24 {
				insertionSort(b)
			} else {
				slices.Sort(b)
			}
			k := 0
			for j := 0; j < len(b); j++ {
				if j+1 < len(b) && b[j+1] == b[j] {
					continue
				}
				b[k] = b[j]
				k++
			}
			cnt[u] = int32(k)
			dup = dup || k < len(b)
			if _, ok := slices.BinarySearch(b[:k], int32(u)); ok {
				nl++
			}
		}
		loops[part], dups[part] = nl, dup
	})
	nl := 0
	for _, l := range loops {
		nl += l
	}
	if !slices.Contains(dups, true) {
		return start, tg, nl // every bucket is already compact
	}
	// 4. Compact in place: bucket u moves down to ptr[u] <= start[u], and
	// buckets are moved in ascending order, so nothing is overwritten
	// before it has moved (copy handles the overlap).
	ptr := make([]int32, n+1)
	for u := 0; u < n; u++ {
		ptr[u+1] = ptr[u] + cnt[u]
		copy(tg[ptr[u]:ptr[u+1]], tg[start[u]:start[u]+cnt[u]])
	}
	return ptr, slices.Clip(tg[:ptr[n]]), nl
}

// buildWeighted is steps 2-4 for a weighted graph, on the bucket starts of
// step 1. It returns Ptr, Idx, W and the number of self-loops.
func buildWeighted(n int, src, dst []int32, w []float64, directed bool, start []int32) ([]int32, []int32, []float64, int) {
	total := int(start[n])
	// 2. Scatter. fill[u] is the next free slot of bucket u.
	keys := make([]uint64, total)
	fill := make([]int32, n)
	copy(fill, start[:n])
	for i := range src {
		u, v := src[i], dst[i]
		keys[fill[u]] = uint64(v)<<32 | uint64(i)
		fill[u]++
		if !directed && u != v {
			keys[fill[v]] = uint64(u)<<32 | uint64(i)
			fill[v]++
		}
	}
	// 3. Sort and dedupe each bucket in place; cnt[u] (reusing fill) is the
	// number of distinct arcs of u, kept at the front of its bucket.
	cnt := fill
	parts := buildWorkers(total)
	loops := make([]int, parts)
	forRanges(n, parts, start, func(part, lo, hi int) {
		nl := 0
		for u := lo; u < hi; u++ {
			b := keys[start[u]:start[u+1]]
			if len(b) <= 24 {
				insertionSort(b)
			} else {
				slices.Sort(b)
			}
			k := 0
			for j := 0; j < len(b); j++ {
				if j+1 < len(b) && b[j+1]>>32 == b[j]>>32 {
					continue // a later duplicate follows: it wins
				}
				b[k] = b[j]
				k++
			}
			cnt[u] = int32(k)
			// Targets are sorted, so u's self-loop (if any) is found by a
			// binary search over the kept keys.
			if _, ok := slices.BinarySearchFunc(b[:k], int32(u), func(key uint64, t int32) int {
				return int(int32(key>>32)) - int(t)
			}); ok {
				nl++
			}
		}
		loops[part] = nl
	})
	ptr := make([]int32, n+1)
	for u := 0; u < n; u++ {
		ptr[u+1] = ptr[u] + cnt[u]
	}
	arcs := int(ptr[n])
	idx := make([]int32, arcs)
	ws := make([]float64, arcs)
	// 4. Compact.
	forRanges(n, parts, start, func(_, lo, hi int) {
		for u := lo; u < hi; u++ {
			b := keys[start[u] : start[u]+cnt[u]]
			iu := idx[ptr[u]:ptr[u+1]]
			wu := ws[ptr[u]:ptr[u+1]]
			for j, key := range b {
				iu[j] = int32(key >> 32)
				wu[j] = w[uint32(key)]
			}
		}
	})
	nl := 0
	for _, l := range loops {
		nl += l
	}
	return ptr, idx, ws, nl
}

// parallelArcs is the arc count from which build splits its per-bucket
// passes over goroutines; below it a goroutine costs more than it saves.
const parallelArcs = 1 << 16

// buildWorkers is the number of node ranges build uses for total arcs.
func buildWorkers(total int) int {
	if total < parallelArcs {
		return 1
	}
	return max(1, min(runtime.GOMAXPROCS(0), 8))
}

// forRanges calls fn(part, lo, hi) for parts consecutive node ranges
// holding about the same number of arcs (by the bucket starts
// start[0..n]), one goroutine per range.
func forRanges(n, parts int, start []int32, fn func(part, lo, hi int)) {
	total := int(start[n])
	if parts <= 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	lo := 0
	for p := 0; p < parts; p++ {
		hi := n
		if p < parts-1 {
			// First node whose bucket starts at or after this range's share.
			target := int32(int64(total) * int64(p+1) / int64(parts))
			hi, _ = slices.BinarySearch(start[:n+1], target)
			hi = max(lo, min(hi, n))
		}
		wg.Add(1)
		go func(p, lo, hi int) {
			defer wg.Done()
			fn(p, lo, hi)
		}(p, lo, hi)
		lo = hi
	}
	wg.Wait()
}

// insertionSort sorts a short bucket.
func insertionSort[K uint64 | int32](b []K) {
	for i := 1; i < len(b); i++ {
		x := b[i]
		j := i
		for j > 0 && b[j-1] > x {
			b[j] = b[j-1]
			j--
		}
		b[j] = x
	}
}

// buildIn fills the reverse adjacency of a directed graph (sorted by source).
func (g *Graph) buildIn() {
	n := g.N
	g.InPtr = make([]int32, n+1)
	for _, v := range g.Idx {
		g.InPtr[v+1]++
	}
	for u := 0; u < n; u++ {
		g.InPtr[u+1] += g.InPtr[u]
	}
	g.InIdx = make([]int32, len(g.Idx))
	if g.Weighted {
		g.InW = make([]float64, len(g.Idx))
	}
	fill := make([]int32, n)
	copy(fill, g.InPtr[:n])
	for u := 0; u < n; u++ {
		for e := g.Ptr[u]; e < g.Ptr[u+1]; e++ {
			v := g.Idx[e]
			p := fill[v]
			fill[v]++
			g.InIdx[p] = int32(u)
			if g.Weighted {
				g.InW[p] = g.W[e]
			}
		}
	}
}

// Neighbors returns u's out-neighbours (all neighbours when undirected).
func (g *Graph) Neighbors(u int) []int32 { return g.Idx[g.Ptr[u]:g.Ptr[u+1]] }

// Weights returns the weights parallel to Neighbors(u), or nil if unweighted.
func (g *Graph) Weights(u int) []float64 {
	if g.W == nil {
		return nil
	}
	return g.W[g.Ptr[u]:g.Ptr[u+1]]
}

// InNeighbors returns u's in-neighbours (all neighbours when undirected).
func (g *Graph) InNeighbors(u int) []int32 { return g.InIdx[g.InPtr[u]:g.InPtr[u+1]] }

// InWeights returns the weights parallel to InNeighbors(u), or nil.
func (g *Graph) InWeights(u int) []float64 {
	if g.InW == nil {
		return nil
	}
	return g.InW[g.InPtr[u]:g.InPtr[u+1]]
}

// OutDegree is len(Neighbors(u)); a self-loop counts once here (networkx's
// G.degree counts it twice in undirected graphs: see Degree).
func (g *Graph) OutDegree(u int) int { return int(g.Ptr[u+1] - g.Ptr[u]) }

// InDegree is len(InNeighbors(u)).
func (g *Graph) InDegree(u int) int { return int(g.InPtr[u+1] - g.InPtr[u]) }

// HasSelfLoop reports whether u links to itself.
func (g *Graph) HasSelfLoop(u int) bool {
	_, ok := slices.BinarySearch(g.Neighbors(u), int32(u))
	return ok
}

// Degree is networkx's G.degree(u): for undirected graphs a self-loop counts
// twice; for directed graphs it is in + out degree.
func (g *Graph) Degree(u int) int {
	if g.Directed {
		return g.OutDegree(u) + g.InDegree(u)
	}
	d := g.OutDegree(u)
	if g.HasSelfLoop(u) {
		d++
	}
	return d
}

// HasEdge reports whether the arc u->v exists (either direction if undirected).
func (g *Graph) HasEdge(u, v int) bool {
	_, ok := slices.BinarySearch(g.Neighbors(u), int32(v))
	return ok
}

// EdgeWeight returns the weight of u->v (1 if unweighted) and whether it exists.
func (g *Graph) EdgeWeight(u, v int) (float64, bool) {
	nb := g.Neighbors(u)
	i, ok := slices.BinarySearch(nb, int32(v))
	if !ok {
		return 0, false
	}
	if g.W == nil {
		return 1, true
	}
	return g.W[int(g.Ptr[u])+i], true
}

// Undirected returns the undirected view of a directed graph (as
// G.to_undirected() would give, with the weight of the later input edge when
// both u->v and v->u exist). For undirected graphs it returns g.
func (g *Graph) Undirected(src, dst []int32, w []float64) (*Graph, error) {
	if !g.Directed {
		return g, nil
	}
	return Build(g.N, src, dst, w, false)
}
