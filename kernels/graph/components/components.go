// Package components labels connected components: weakly connected ones
// (the components of an undirected graph) by union-find, strongly connected
// ones by an iterative Tarjan search (Pearce's one-array variant).
//
// Labels are canonical so that equal partitions give equal outputs: the
// component holding the smallest node id is 0, the one holding the smallest
// id not in component 0 is 1, and so on (the order in which nodes are first
// met scanning ids upwards).
package components

import (
	"context"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// Result is a labelled partition of the nodes.
type Result struct {
	Labels []int32 // component of each node
	Sizes  []int32 // nodes per component, indexed by label
}

// Count is the number of components.
func (r Result) Count() int { return len(r.Sizes) }

// Largest is the size of the biggest component (0 for no nodes).
func (r Result) Largest() int {
	m := int32(0)
	for _, s := range r.Sizes {
		m = max(m, s)
	}
	return int(m)
}

// checkEvery is how many edges or nodes run between context checks.
const checkEvery = 1 << 16

// WeakEdges labels the weakly connected components of the graph on n nodes
// with edges src[i]–dst[i] (nx.connected_components for undirected graphs,
// nx.weakly_connected_components for directed ones). It works on the raw
// edge list, so a caller that needs nothing else can skip building a CSR.
// Ids must be in [0, n).
func WeakEdges(ctx context.Context, n int, src, dst []int32) (Result, error) {
	uf := newUnionFind(n)
	for i := range src {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
		}
		uf.union(src[i], dst[i])
	}
	return uf.result(), nil
}

// Weak labels the weakly connected components of g.
func Weak(ctx context.Context, g *csr.Graph) (Result, error) {
	uf := newUnionFind(g.N)
	for u := 0; u < g.N; u++ {
		if u%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
		}
		for _, v := range g.Neighbors(u) {
			if int(v) > u || g.Directed {
				uf.union(int32(u), v)
			}
		}
	}
	return uf.result(), nil
}

// unionFind is a disjoint-set forest with union by size and path halving.
type unionFind struct {
	parent []int32
	size   []int32
}

func newUnionFind(n int) *unionFind {
	uf := &unionFind{parent: make([]int32, n), size: make([]int32, n)}
	for i := range uf.parent {
		uf.parent[i] = int32(i)
		uf.size[i] = 1
	}
	return uf
}

func (uf *unionFind) find(x int32) int32 {
	p := uf.parent
	for p[x] != x {
		p[x] = p[p[x]]
		x = p[x]
	}
	return x
}

func (uf *unionFind) union(a, b int32) {
	ra, rb := uf.find(a), uf.find(b)
	if ra == rb {
		return
	}
	if uf.size[ra] < uf.size[rb] {
		ra, rb = rb, ra
	}
	uf.parent[rb] = ra
	uf.size[ra] += uf.size[rb]
}

// result turns the forest into canonical labels.
func (uf *unionFind) result() Result {
	n := len(uf.parent)
	labels := make([]int32, n)
	rootLabel := make([]int32, n)
	for i := range rootLabel {
		rootLabel[i] = -1
	}
	var sizes []int32
	for v := 0; v < n; v++ {
		r := uf.find(int32(v))
		if rootLabel[r] < 0 {
			rootLabel[r] = int32(len(sizes))
			sizes = append(sizes, uf.size[r])
		}
		labels[v] = rootLabel[r]
	}
	return Result{Labels: labels, Sizes: sizes}
}

// Strong labels the strongly connected components of g
// (nx.strongly_connected_components); for an undirected graph they are its
// connected components.
//
// It is Pearce's space-efficient variant of Tarjan's algorithm ("A
// space-efficient algorithm for finding strongly connected components",
// IPL 2016, PEA_FIND_SCC2) run with an explicit stack, so long paths cannot
// overflow the goroutine stack. One array, rindex, stands in for Tarjan's
// index, lowlink and on-stack marks: a node's visit number while it is
// open, and once its component is done, that component's number counted
// down from n-1, which is larger than every open visit number, so the one
// comparison rindex[w] < rindex[v] both skips finished nodes and takes the
// lowlink. Against Tarjan (kept in the tests as the reference) it reads one
// array per arc instead of two: BenchmarkStrong shows the ratio.
func Strong(ctx context.Context, g *csr.Graph) (Result, error) {
	n := g.N
	rindex := make([]int32, n) // 0: not visited yet
	var (
		stack   []int32 // visited non-root nodes whose component is open
		call    []frame // DFS call stack
		index   = int32(1)
		c       = int32(n - 1) // next component number, counted down
		visited int
	)
	for root := 0; root < n; root++ {
		if rindex[root] != 0 {
			continue
		}
		call = append(call, frame{v: int32(root), e: g.Ptr[root], root: true})
		rindex[root] = index
		index++
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			// Scan v's arcs in a tight loop up to the first unvisited
			// head, keeping v's rindex and root bit in registers.
			rv, isRoot := rindex[v], f.root
			e, end := f.e, g.Ptr[v+1]
			var w int32
			for ; e < end; e++ {
				w = g.Idx[e]
				rw := rindex[w]
				if rw == 0 {
					break
				}
				if rw < rv {
					rv, isRoot = rw, false
				}
			}
			rindex[v], f.root = rv, isRoot
			if e < end {
				f.e = e + 1
				visited++
				if visited%checkEvery == 0 {
					if err := ctx.Err(); err != nil {
						return Result{}, err
					}
				}
				rindex[w] = index
				index++
				call = append(call, frame{v: w, e: g.Ptr[w], root: true})
				continue
			}
			// v is finished.
			call = call[:len(call)-1]
			if isRoot {
				index--
				rv := rindex[v]
				for len(stack) > 0 && rv <= rindex[stack[len(stack)-1]] {
					rindex[stack[len(stack)-1]] = c
					stack = stack[:len(stack)-1]
					index--
				}
				rindex[v] = c
				c--
			} else {
				stack = append(stack, v)
			}
			if len(call) > 0 {
				if p := &call[len(call)-1]; rindex[v] < rindex[p.v] {
					rindex[p.v], p.root = rindex[v], false
				}
			}
		}
	}
	// Components were numbered n-1, n-2, ... as they closed.
	k := n - 1 - int(c)
	for v, r := range rindex {
		rindex[v] = int32(n-1) - r
	}
	return canonical(rindex, k), nil
}

type frame struct {
	v    int32
	e    int32 // next arc of v to look at
	root bool  // no arc from v's subtree has reached an earlier open node
}

// canonical renumbers arbitrary component ids 0..k-1 in order of each
// component's smallest node.
func canonical(comp []int32, k int) Result {
	relabel := make([]int32, k)
	for i := range relabel {
		relabel[i] = -1
	}
	labels := make([]int32, len(comp))
	var sizes []int32
	for v, c := range comp {
		if relabel[c] < 0 {
			relabel[c] = int32(len(sizes))
			sizes = append(sizes, 0)
		}
		l := relabel[c]
		labels[v] = l
		sizes[l]++
	}
	return Result{Labels: labels, Sizes: sizes}
}
