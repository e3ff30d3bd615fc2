// Package dbscan is density-based clustering that reproduces
// sklearn.cluster.DBSCAN label for label.
//
// sklearn labels clusters in the order it meets their first core sample
// (ascending index) and a border sample joins the first cluster that reaches
// it. So the clusters are the connected components of the core samples (two
// cores are linked when within eps), numbered by their smallest core index,
// and a border sample takes the lowest-numbered cluster among its core
// neighbours. That formulation needs no queue and parallelises: neighbour
// counts, core-core unions (a lock-free union-find that always links the
// larger root under the smaller, so every root is its component's smallest
// index) and border assignment each run over all cores. Neighbourhoods are
// streamed from a spatial index, never stored, so memory is O(n).
package dbscan

import (
	"context"
	"sync/atomic"

	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
	"github.com/gokernels/gokernels/kernels/ml/neighbors"
	"github.com/gokernels/gokernels/kernels/par"
)

// Noise is the label of samples in no cluster.
const Noise = -1

// Result is a DBSCAN clustering.
type Result struct {
	Labels      []int32 // cluster per sample, Noise for noise
	NClusters   int
	CoreIndices []int32 // ascending
}

const chunk = 256

// Run clusters the rows of m. A sample is a core sample when at least
// minSamples samples (itself included) lie within distance eps (inclusive).
func Run(ctx context.Context, m matrix.Dense, eps float64, minSamples int, metric distance.Metric) (Result, error) {
	n := m.Rows
	ix, err := neighbors.New(ctx, m, metric)
	if err != nil {
		return Result{}, err
	}

	// Queries run in the index's spatial order so that consecutive queries
	// visit the same tree nodes (cache locality); results are per sample, so
	// the order does not change them.
	order := ix.Order()
	at := func(p int) int {
		if order != nil {
			return int(order[p])
		}
		return p
	}
	core := make([]bool, n)
	err = par.For(ctx, n, chunk, func(_, lo, hi int) error {
		for p := lo; p < hi; p++ {
			i := at(p)
			core[i] = ix.RadiusCount(i, eps) >= minSamples
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}

	uf := newUnionFind(n)
	err = par.For(ctx, n, chunk, func(_, lo, hi int) error {
		for p := lo; p < hi; p++ {
			i := at(p)
			if !core[i] {
				continue
			}
			ix.Radius(i, eps, func(j int32) {
				// Each core pair is seen from both ends; one union suffices.
				if int(j) < i && core[j] {
					uf.union(int32(i), j)
				}
			})
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}

	// Number clusters by ascending root = ascending smallest core index.
	clusterOf := make([]int32, n)
	labels := make([]int32, n)
	res := Result{Labels: labels}
	for i := 0; i < n; i++ {
		labels[i] = Noise
		if !core[i] {
			continue
		}
		res.CoreIndices = append(res.CoreIndices, int32(i))
		r := uf.find(int32(i))
		if int(r) == i {
			clusterOf[i] = int32(res.NClusters)
			res.NClusters++
		}
		labels[i] = clusterOf[r]
	}

	// Border samples join the lowest-numbered cluster among core neighbours.
	err = par.For(ctx, n, chunk, func(_, lo, hi int) error {
		for p := lo; p < hi; p++ {
			i := at(p)
			if core[i] {
				continue
			}
			best := int32(Noise)
			ix.Radius(i, eps, func(j int32) {
				if core[j] {
					if c := labels[j]; best == Noise || c < best {
						best = c
					}
				}
			})
			labels[i] = best
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// unionFind is a concurrent disjoint-set forest where a root is always the
// smallest index of its set, so the final forest does not depend on the
// order in which goroutines performed the unions.
type unionFind struct{ parent []atomic.Int32 }

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]atomic.Int32, n)}
	for i := range u.parent {
		u.parent[i].Store(int32(i))
	}
	return u
}

func (u *unionFind) find(x int32) int32 {
	for {
		p := u.parent[x].Load()
		if p == x {
			return x
		}
		g := u.parent[p].Load()
		if g != p {
			u.parent[x].CompareAndSwap(p, g) // path halving; losing the race is harmless
		}
		x = g
	}
}

func (u *unionFind) union(a, b int32) {
	for {
		ra, rb := u.find(a), u.find(b)
		if ra == rb {
			return
		}
		if ra < rb {
			ra, rb = rb, ra
		}
		// Link the larger root under the smaller; retry if ra stopped being a root.
		if u.parent[ra].CompareAndSwap(ra, rb) {
			return
		}
	}
}
