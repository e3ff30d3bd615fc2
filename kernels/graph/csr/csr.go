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
	"slices"
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

	// Arcs: for undirected graphs every non-loop edge becomes two arcs.
	type arc struct {
		u, v int32
		ord  int32 // input order, so that the last duplicate wins
	}
	cap := m
	if !directed {
		cap = 2 * m
	}
	arcs := make([]arc, 0, cap)
	for i := 0; i < m; i++ {
		arcs = append(arcs, arc{src[i], dst[i], int32(i)})
		if !directed && src[i] != dst[i] {
			arcs = append(arcs, arc{dst[i], src[i], int32(i)})
		}
	}
	slices.SortFunc(arcs, func(a, b arc) int {
		if a.u != b.u {
			return int(a.u - b.u)
		}
		if a.v != b.v {
			return int(a.v - b.v)
		}
		return int(a.ord - b.ord)
	})
	// Deduplicate keeping the last occurrence (highest ord) of each (u,v).
	out := arcs[:0]
	for i := 0; i < len(arcs); i++ {
		if i+1 < len(arcs) && arcs[i+1].u == arcs[i].u && arcs[i+1].v == arcs[i].v {
			continue
		}
		out = append(out, arcs[i])
	}
	arcs = out

	g := &Graph{N: n, Directed: directed, Weighted: w != nil}
	g.Ptr = make([]int32, n+1)
	g.Idx = make([]int32, len(arcs))
	if w != nil {
		g.W = make([]float64, len(arcs))
	}
	loops := 0
	for i, a := range arcs {
		g.Ptr[a.u+1]++
		g.Idx[i] = a.v
		if w != nil {
			g.W[i] = w[a.ord]
		}
		if a.u == a.v {
			loops++
		}
	}
	for u := 0; u < n; u++ {
		g.Ptr[u+1] += g.Ptr[u]
	}
	g.SelfLoops = loops
	if directed {
		g.NumEdges = len(arcs)
		g.buildIn()
	} else {
		g.NumEdges = (len(arcs)-loops)/2 + loops
		g.InPtr, g.InIdx, g.InW = g.Ptr, g.Idx, g.W
	}
	return g, nil
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
