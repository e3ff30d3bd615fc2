package clique

import (
	"context"
	"slices"

	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
	"github.com/gokernels/gokernels/kernels/par"
)

// Communities returns the k-clique communities of g (k >= 2), as networkx's
// k_clique_communities: the maximal cliques with at least k nodes are linked
// when they share k-1 nodes, and each connected group of cliques gives the
// union of its nodes. Each community is ascending; the list is sorted
// lexicographically. Communities can overlap.
func Communities(ctx context.Context, g *undirected.Graph, k int) ([][]int32, error) {
	cliques, err := MaximalCliques(ctx, g, k)
	if err != nil {
		return nil, err
	}
	nc := len(cliques)
	if nc == 0 {
		return [][]int32{}, nil
	}
	// member[v] lists the cliques holding v.
	memberPtr := make([]int, g.N+1)
	for _, c := range cliques {
		for _, v := range c {
			memberPtr[v+1]++
		}
	}
	for v := 0; v < g.N; v++ {
		memberPtr[v+1] += memberPtr[v]
	}
	member := make([]int32, memberPtr[g.N])
	fill := slices.Clone(memberPtr[:g.N])
	for i, c := range cliques {
		for _, v := range c {
			member[fill[v]] = int32(i)
			fill[v]++
		}
	}
	// Adjacent clique pairs (i < j sharing >= k-1 nodes), found per clique
	// in parallel: each worker counts shared nodes in its own array.
	workers := par.Workers(nc)
	links := make([][][2]int32, workers)
	shared := make([][]int32, workers)
	err = par.Strided(ctx, nc, workers, func(wk, i int) error {
		if shared[wk] == nil {
			shared[wk] = make([]int32, nc)
		}
		sh := shared[wk]
		var touched []int32
		for _, v := range cliques[i] {
			for _, j := range member[memberPtr[v]:memberPtr[v+1]] {
				if int(j) <= i {
					continue
				}
				if sh[j] == 0 {
					touched = append(touched, j)
				}
				sh[j]++
			}
		}
		for _, j := range touched {
			if int(sh[j]) >= k-1 {
				links[wk] = append(links[wk], [2]int32{int32(i), j})
			}
			sh[j] = 0
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	parent := make([]int32, nc)
	for i := range parent {
		parent[i] = int32(i)
	}
	var find func(int32) int32
	find = func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, ls := range links {
		for _, l := range ls {
			a, b := find(l[0]), find(l[1])
			if a != b {
				parent[max(a, b)] = min(a, b)
			}
		}
	}
	groups := map[int32][]int32{}
	for i, c := range cliques {
		r := find(int32(i))
		groups[r] = append(groups[r], c...)
	}
	out := make([][]int32, 0, len(groups))
	for _, nodes := range groups {
		slices.Sort(nodes)
		out = append(out, slices.Compact(nodes))
	}
	slices.SortFunc(out, slices.Compare)
	return out, nil
}

// MaximalCliques returns the maximal cliques with at least minSize nodes
// (each ascending), by Bron–Kerbosch with Tomita pivoting over a degeneracy
// order (Eppstein, Löffler and Strash 2010): the search from each node only
// adds later nodes, so the per-node searches are independent and run in
// parallel. The result is in a fixed order for a given graph.
func MaximalCliques(ctx context.Context, g *undirected.Graph, minSize int) ([][]int32, error) {
	n := g.N
	order, pos := degeneracyOrder(g)
	found := make([][][]int32, n)
	err := par.Dynamic(ctx, n, 16, par.Workers(n), func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			v := order[i]
			var p, x []int32
			for _, w := range g.Neighbors(int(v)) {
				if pos[w] > pos[v] {
					p = append(p, w)
				} else {
					x = append(x, w)
				}
			}
			b := &bk{g: g, min: minSize, ctx: ctx}
			if err := b.search([]int32{v}, p, x); err != nil {
				return err
			}
			found[i] = b.out
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var all [][]int32
	for _, f := range found {
		all = append(all, f...)
	}
	return all, nil
}

type bk struct {
	g     *undirected.Graph
	min   int
	ctx   context.Context
	out   [][]int32
	steps int
}

// search reports every maximal clique extending r (candidates p, excluded
// x, both ascending) that can reach the minimum size.
func (b *bk) search(r, p, x []int32) error {
	if b.steps++; b.steps&1023 == 0 {
		if err := b.ctx.Err(); err != nil {
			return err
		}
	}
	if len(p) == 0 {
		if len(x) == 0 && len(r) >= b.min {
			c := slices.Clone(r)
			slices.Sort(c)
			b.out = append(b.out, c)
		}
		return nil
	}
	if len(r)+len(p) < b.min {
		return nil // no clique below here can reach the minimum size
	}
	// Pivot: the node of p ∪ x with the most neighbours in p; only nodes of
	// p outside its neighbourhood need to be branched on.
	pivot, best := int32(-1), -1
	for _, set := range [][]int32{p, x} {
		for _, u := range set {
			if c := countCommon(p, b.g.Neighbors(int(u))); c > best {
				pivot, best = u, c
			}
		}
	}
	pnb := b.g.Neighbors(int(pivot))
	branch := difference(p, pnb)
	// p and x are this call's own slices (fresh from intersect), so they can
	// be updated in place.
	for _, v := range branch {
		nb := b.g.Neighbors(int(v))
		if err := b.search(append(r, v), intersect(nil, p, nb), intersect(nil, x, nb)); err != nil {
			return err
		}
		// Move v from p to x, keeping both ascending.
		i, _ := slices.BinarySearch(p, v)
		p = slices.Delete(p, i, i+1)
		j, _ := slices.BinarySearch(x, v)
		x = slices.Insert(x, j, v)
	}
	return nil
}

func countCommon(a, b []int32) int {
	c := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			c++
			i++
			j++
		}
	}
	return c
}

// difference returns the elements of a not in b (both ascending).
func difference(a, b []int32) []int32 {
	var out []int32
	j := 0
	for _, v := range a {
		for j < len(b) && b[j] < v {
			j++
		}
		if j < len(b) && b[j] == v {
			continue
		}
		out = append(out, v)
	}
	return out
}

// degeneracyOrder returns the nodes in the order of repeatedly removing a
// node of minimum remaining degree (Matula and Beck's bucket algorithm),
// and each node's position in it. Searching cliques along this order keeps
// every candidate set no larger than the graph's degeneracy.
func degeneracyOrder(g *undirected.Graph) (order []int32, pos []int32) {
	n := g.N
	deg := make([]int, n)
	maxDeg := 0
	for v := 0; v < n; v++ {
		deg[v] = g.Degree(v)
		maxDeg = max(maxDeg, deg[v])
	}
	// Nodes sorted by degree (counting sort); start[d] is where degree d
	// begins, and a node losing a neighbour swaps to its bucket's front.
	start := make([]int, maxDeg+2)
	for _, d := range deg {
		start[d+1]++
	}
	for d := 0; d <= maxDeg; d++ {
		start[d+1] += start[d]
	}
	order = make([]int32, n)
	pos = make([]int32, n)
	fill := slices.Clone(start)
	for v := 0; v < n; v++ {
		pos[v] = int32(fill[deg[v]])
		order[pos[v]] = int32(v)
		fill[deg[v]]++
	}
	for i := 0; i < n; i++ {
		v := order[i]
		for _, w := range g.Neighbors(int(v)) {
			if pos[w] <= int32(i) || deg[w] <= deg[v] {
				continue
			}
			// Swap w with the first node of its bucket, then shrink it.
			d := deg[w]
			first := max(start[d], i+1)
			u := order[first]
			if u != w {
				pos[u], pos[w] = pos[w], int32(first)
				order[pos[u]], order[first] = u, w
			}
			start[d] = first + 1
			deg[w]--
		}
	}
	return order, pos
}
