// Package neighbors answers "who is near sample i" over a sample matrix for
// any distance.Metric: through a k-d tree for the Minkowski metrics and by a
// brute-force scan for cosine (as sklearn does; cosine is not a metric a
// k-d tree can prune with). Memory stays O(n·d) either way: results are
// streamed per query, never held as an n×n matrix.
package neighbors

import (
	"context"
	"math"
	"sort"

	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/kdtree"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

// Index is a read-only neighbour index, safe for concurrent queries.
type Index struct {
	m      matrix.Dense
	metric distance.Metric
	tree   *kdtree.Tree
	norms  []float64 // cosine only
}

// New builds the index over m.
func New(ctx context.Context, m matrix.Dense, metric distance.Metric) (*Index, error) {
	ix := &Index{m: m, metric: metric}
	if metric == distance.Cosine {
		ix.norms = make([]float64, m.Rows)
		for i := range ix.norms {
			ix.norms[i] = distance.Norm(m.Row(i))
		}
		return ix, nil
	}
	p := kdtree.L2
	switch metric {
	case distance.Manhattan:
		p = kdtree.L1
	case distance.Chebyshev:
		p = kdtree.LInf
	}
	t, err := kdtree.Build(ctx, m.Data, m.Cols, p)
	if err != nil {
		return nil, err
	}
	ix.tree = t
	return ix, nil
}

// Order is a visiting order for per-sample queries that keeps neighbouring
// queries close in space (tree order), or nil for index order.
func (ix *Index) Order() []int32 {
	if ix.tree != nil {
		return ix.tree.Order()
	}
	return nil
}

// Len is the number of indexed samples.
func (ix *Index) Len() int { return ix.m.Rows }

// cosine is the distance between samples i and j; a sample is at distance 0
// from itself even when it is all zeros (sklearn zeroes the diagonal).
func (ix *Index) cosine(i, j int) float64 {
	if i == j {
		return 0
	}
	return distance.CosineDist(ix.m.Row(i), ix.m.Row(j), ix.norms[i], ix.norms[j])
}

// Radius calls fn for every sample j (sample i included) with
// dist(i, j) <= eps.
func (ix *Index) Radius(i int, eps float64, fn func(j int32)) {
	if ix.tree != nil {
		ix.tree.Radius(ix.m.Row(i), eps, fn)
		return
	}
	for j := 0; j < ix.m.Rows; j++ {
		if ix.cosine(i, j) <= eps {
			fn(int32(j))
		}
	}
}

// RadiusCount is the number of samples (sample i included) within eps of i.
func (ix *Index) RadiusCount(i int, eps float64) int {
	if ix.tree != nil {
		return ix.tree.RadiusCount(ix.m.Row(i), eps)
	}
	c := 0
	for j := 0; j < ix.m.Rows; j++ {
		if ix.cosine(i, j) <= eps {
			c++
		}
	}
	return c
}

// Neighbor is one nearest-neighbour result.
type Neighbor = kdtree.Neighbor

// KNN is a reusable k-nearest-neighbour query; use one per goroutine.
type KNN struct {
	ix   *Index
	k    int
	tree *kdtree.KNN
	buf  []Neighbor
}

// NewKNN returns a k-nearest-neighbour query object.
func (ix *Index) NewKNN(k int) *KNN {
	q := &KNN{ix: ix, k: k}
	if ix.tree != nil {
		q.tree = ix.tree.NewKNN(k)
	}
	return q
}

// Others appends the k nearest samples to sample i, excluding i itself, sorted
// by distance (ties by index), to out.
func (q *KNN) Others(i int, out []Neighbor) []Neighbor {
	if q.k <= 0 {
		return out
	}
	if q.tree != nil {
		return q.tree.Query(q.ix.m.Row(i), int32(i), out)
	}
	// Brute force: keep the k best of all distances.
	q.buf = q.buf[:0]
	worst := math.Inf(1)
	for j := 0; j < q.ix.m.Rows; j++ {
		if j == i {
			continue
		}
		d := q.ix.cosine(i, j)
		if d > worst {
			continue
		}
		q.buf = append(q.buf, Neighbor{Index: int32(j), Dist: d})
		if len(q.buf) >= 2*q.k+64 {
			// Keep the k best; anything farther than the k-th can never enter.
			q.trim()
			worst = q.buf[len(q.buf)-1].Dist
		}
	}
	q.trim()
	return append(out, q.buf...)
}

func (q *KNN) trim() {
	b := q.buf
	sort.Slice(b, func(x, y int) bool {
		return b[x].Dist < b[y].Dist || (b[x].Dist == b[y].Dist && b[x].Index < b[y].Index)
	})
	if len(b) > q.k {
		q.buf = b[:q.k]
	}
}
