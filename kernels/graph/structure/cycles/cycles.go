// Package cycles counts, for every node, the short simple cycles through it:
// directed cycles of length 2, 3 and 4 in a directed graph, triangles and
// squares in an undirected one.
//
// Each cycle is found exactly once, from its smallest node s, by walking
// only through nodes larger than s and closing back to s; the walks from
// different start nodes are independent and run in parallel.
package cycles

import (
	"context"
	"sync/atomic"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
	"github.com/gokernels/gokernels/kernels/par"
)

// Result holds per-node participation counts (PerNode[0] for length 2,
// [1] for length 3, [2] for length 4) and the number of distinct cycles of
// each length.
type Result struct {
	PerNode [3][]int64
	Total   [3]int64
}

// Count counts the cycles of g. Self-loops and weights are ignored.
func Count(ctx context.Context, g *csr.Graph) (*Result, error) {
	if g.Directed {
		return countDirected(ctx, g)
	}
	u, err := undirected.Of(ctx, g)
	if err != nil {
		return nil, err
	}
	return countUndirected(ctx, u)
}

// counter accumulates per-node counts shared by all workers (atomic adds:
// integer sums, so the result does not depend on scheduling) and per-worker
// totals.
type counter struct {
	per    [3][]int64
	totals [][3]int64
}

func newCounter(n, workers int) *counter {
	c := &counter{totals: make([][3]int64, workers)}
	for i := range c.per {
		c.per[i] = make([]int64, n)
	}
	return c
}

func (c *counter) add(wk, length int, nodes ...int32) {
	for _, v := range nodes {
		atomic.AddInt64(&c.per[length-2][v], 1)
	}
	c.totals[wk][length-2]++
}

func (c *counter) result() *Result {
	r := &Result{PerNode: c.per}
	for _, t := range c.totals {
		for i := range t {
			r.Total[i] += t[i]
		}
	}
	return r
}

// countDirected walks s -> a -> b -> c through nodes above s and checks the
// arc back to s with a mark on s's in-neighbours.
func countDirected(ctx context.Context, g *csr.Graph) (*Result, error) {
	n := g.N
	workers := par.Workers(n)
	cnt := newCounter(n, workers)
	marks := make([][]int32, workers)
	err := par.Dynamic(ctx, n, 64, workers, func(wk, lo, hi int) error {
		if marks[wk] == nil {
			marks[wk] = make([]int32, n)
		}
		toS := marks[wk] // toS[x] == s+1 when x -> s
		for s := lo; s < hi; s++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			stamp := int32(s) + 1
			for _, x := range g.InNeighbors(s) {
				toS[x] = stamp
			}
			for _, a := range g.Neighbors(s) {
				if int(a) <= s {
					continue
				}
				// Each a costs up to deg(a) x max degree steps.
				if err := ctx.Err(); err != nil {
					return err
				}
				if toS[a] == stamp {
					cnt.add(wk, 2, int32(s), a)
				}
				for _, b := range g.Neighbors(int(a)) {
					if int(b) <= s || b == a {
						continue
					}
					if toS[b] == stamp {
						cnt.add(wk, 3, int32(s), a, b)
					}
					for _, c := range g.Neighbors(int(b)) {
						if int(c) <= s || c == a || c == b {
							continue
						}
						if toS[c] == stamp {
							cnt.add(wk, 4, int32(s), a, b, c)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cnt.result(), nil
}

// countUndirected walks s - a - b - c through nodes above s. A triangle
// {s, a, b} is taken with a < b and a square s-a-b-c-s with a < c, which
// picks one of the two directions each cycle can be read in.
func countUndirected(ctx context.Context, g *undirected.Graph) (*Result, error) {
	n := g.N
	workers := par.Workers(n)
	cnt := newCounter(n, workers)
	marks := make([][]int32, workers)
	err := par.Dynamic(ctx, n, 64, workers, func(wk, lo, hi int) error {
		if marks[wk] == nil {
			marks[wk] = make([]int32, n)
		}
		adjS := marks[wk] // adjS[x] == s+1 when x is a neighbour of s
		for s := lo; s < hi; s++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			stamp := int32(s) + 1
			for _, x := range g.Neighbors(s) {
				adjS[x] = stamp
			}
			for _, a := range g.Neighbors(s) {
				if int(a) <= s {
					continue
				}
				// Each a costs up to deg(a) x max degree steps.
				if err := ctx.Err(); err != nil {
					return err
				}
				for _, b := range g.Neighbors(int(a)) {
					if int(b) <= s {
						continue
					}
					if b > a && adjS[b] == stamp {
						cnt.add(wk, 3, int32(s), a, b)
					}
					for _, c := range g.Neighbors(int(b)) {
						if c <= a || c == b {
							continue // c > a > s: one direction, all distinct
						}
						if adjS[c] == stamp {
							cnt.add(wk, 4, int32(s), a, b, c)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cnt.result(), nil
}
