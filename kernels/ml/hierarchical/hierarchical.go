// Package hierarchical is agglomerative clustering that returns
// scipy.cluster.hierarchy.linkage's merge tree and the flat partition
// sklearn.cluster.AgglomerativeClustering derives from it.
//
// The algorithms are scipy's own, step for step, so that even ties resolve
// the same way: single linkage by the minimum-spanning-tree sweep
// (mst_single_linkage), complete/average/ward by the nearest-neighbour chain
// with Lance–Williams updates (nn_chain). Both then stably sort the merges by
// distance and relabel them with a union-find, exactly like scipy. The
// pairwise distances are the condensed matrix of scipy.spatial.distance.pdist
// (computed in parallel), so memory is n(n−1)/2 doubles.
package hierarchical

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
	"github.com/gokernels/gokernels/kernels/par"
)

// Linkage is the inter-cluster distance.
type Linkage int

const (
	Single   Linkage = iota // min over pairs
	Complete                // max over pairs
	Average                 // mean over pairs (UPGMA)
	Ward                    // Ward's minimum variance; Euclidean only
)

// ParseLinkage maps a request string to a Linkage ("" is ward, sklearn's
// default).
func ParseLinkage(s string) (Linkage, error) {
	switch s {
	case "", "ward":
		return Ward, nil
	case "single":
		return Single, nil
	case "complete":
		return Complete, nil
	case "average":
		return Average, nil
	}
	return 0, fmt.Errorf("unknown linkage %q (want single, complete, average or ward)", s)
}

// Merge is one row of scipy's linkage matrix Z: clusters Left < Right (ids
// below n are samples, id n+i is the cluster formed by merge i) joined at
// Distance into a cluster of Size samples.
type Merge struct {
	Left, Right int32
	Distance    float64
	Size        int32
}

// condensedIndex is the position of pair (i, j), i != j, in a condensed
// distance matrix of n points.
func condensedIndex(n, i, j int) int {
	if i > j {
		i, j = j, i
	}
	return n*i - i*(i+1)/2 + (j - i - 1)
}

// Pdist is scipy's condensed distance matrix of the rows of m.
func Pdist(ctx context.Context, m matrix.Dense, metric distance.Metric) ([]float64, error) {
	n := m.Rows
	out := make([]float64, n*(n-1)/2)
	var norms []float64
	if metric == distance.Cosine {
		norms = make([]float64, n)
		for i := range norms {
			norms[i] = distance.Norm(m.Row(i))
		}
	}
	err := par.For(ctx, n, 64, func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			base := condensedIndex(n, i, i+1)
			x := m.Row(i)
			for j := i + 1; j < n; j++ {
				var v float64
				if norms != nil {
					v = distance.CosineDist(x, m.Row(j), norms[i], norms[j])
				} else {
					v = metric.Dist(x, m.Row(j))
				}
				out[base+j-i-1] = v
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Tree builds the n−1 merges of the rows of m (m.Rows >= 2).
func Tree(ctx context.Context, m matrix.Dense, method Linkage, metric distance.Metric) ([]Merge, error) {
	if method == Ward && metric != distance.Euclidean {
		return nil, fmt.Errorf("ward linkage requires the euclidean metric")
	}
	dists, err := Pdist(ctx, m, metric)
	if err != nil {
		return nil, err
	}
	var z []Merge
	if method == Single {
		z, err = mstSingle(ctx, dists, m.Rows)
	} else {
		z, err = nnChain(ctx, dists, m.Rows, method)
	}
	if err != nil {
		return nil, err
	}
	sort.SliceStable(z, func(a, b int) bool { return z[a].Distance < z[b].Distance })
	relabel(z, m.Rows)
	return z, nil
}

// mstSingle is scipy's mst_single_linkage (Prim's algorithm on the complete
// graph); it emits merges between sample ids, relabelled later.
func mstSingle(ctx context.Context, dists []float64, n int) ([]Merge, error) {
	z := make([]Merge, n-1)
	merged := make([]bool, n)
	d := make([]float64, n)
	for i := range d {
		d[i] = math.Inf(1)
	}
	x, y := 0, 0
	for k := 0; k < n-1; k++ {
		if k&255 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		cur := math.Inf(1)
		merged[x] = true
		y = -1
		for i := 0; i < n; i++ {
			if merged[i] {
				continue
			}
			if v := dists[condensedIndex(n, x, i)]; d[i] > v {
				d[i] = v
			}
			// y < 0: an unmerged point is taken even at distance +Inf.
			if d[i] < cur || y < 0 {
				y = i
				cur = d[i]
			}
		}
		z[k] = Merge{Left: int32(x), Right: int32(y), Distance: cur}
		x = y
	}
	return z, nil
}

// update is the Lance–Williams formula of scipy's _hierarchy_distance_update.
func update(method Linkage, dxi, dyi, dxy float64, nx, ny, ni int) float64 {
	switch method {
	case Complete:
		return max(dxi, dyi)
	case Average:
		return (float64(nx)*dxi + float64(ny)*dyi) / float64(nx+ny)
	case Ward:
		t := 1.0 / float64(nx+ny+ni)
		return math.Sqrt(float64(ni+nx)*t*dxi*dxi +
			float64(ni+ny)*t*dyi*dyi -
			float64(ni)*t*dxy*dxy)
	}
	return min(dxi, dyi)
}

// nnChain is scipy's nn_chain: follow nearest neighbours until two clusters
// are each other's nearest, merge them, repeat. The distances slice is
// updated in place (the merged cluster takes the higher id y).
func nnChain(ctx context.Context, d []float64, n int, method Linkage) ([]Merge, error) {
	z := make([]Merge, n-1)
	size := make([]int, n)
	for i := range size {
		size[i] = 1
	}
	chain := make([]int, n)
	length := 0
	for k := 0; k < n-1; k++ {
		if k&255 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if length == 0 {
			length = 1
			for i := 0; i < n; i++ {
				if size[i] > 0 {
					chain[0] = i
					break
				}
			}
		}
		var x, y int
		var cur float64
		for {
			x = chain[length-1]
			// Prefer the previous chain element on ties to avoid cycles.
			y = -1
			if length > 1 {
				y = chain[length-2]
				cur = d[condensedIndex(n, x, y)]
			} else {
				cur = math.Inf(1)
			}
			for i := 0; i < n; i++ {
				if size[i] == 0 || i == x {
					continue
				}
				// y < 0: take the first live cluster even when every
				// distance is +Inf, so the chain always grows.
				if v := d[condensedIndex(n, x, i)]; v < cur || y < 0 {
					cur = v
					y = i
				}
			}
			if length > 1 && y == chain[length-2] {
				break
			}
			chain[length] = y
			length++
		}
		length -= 2
		if x > y {
			x, y = y, x
		}
		nx, ny := size[x], size[y]
		z[k] = Merge{Left: int32(x), Right: int32(y), Distance: cur, Size: int32(nx + ny)}
		size[x] = 0
		size[y] = nx + ny
		for i := 0; i < n; i++ {
			ni := size[i]
			if ni == 0 || i == y {
				continue
			}
			iy := condensedIndex(n, i, y)
			d[iy] = update(method, d[condensedIndex(n, i, x)], d[iy], cur, nx, ny, ni)
		}
	}
	return z, nil
}

// relabel is scipy's label(): turn merges of representative sample ids into
// merges of cluster ids (n+i for the i-th merge) and fill in the sizes.
func relabel(z []Merge, n int) {
	parent := make([]int32, 2*n-1)
	size := make([]int32, 2*n-1)
	for i := range parent {
		parent[i] = int32(i)
		if i < n {
			size[i] = 1
		}
	}
	find := func(x int32) int32 {
		r := x
		for parent[r] != r {
			r = parent[r]
		}
		for parent[x] != r {
			parent[x], x = r, parent[x]
		}
		return r
	}
	next := int32(n)
	for i := range z {
		a, b := find(z[i].Left), find(z[i].Right)
		if a > b {
			a, b = b, a
		}
		z[i].Left, z[i].Right = a, b
		parent[a], parent[b] = next, next
		size[next] = size[a] + size[b]
		z[i].Size = size[next]
		next++
	}
}

// Cut returns the flat partition into nClusters clusters obtained by
// applying the first n−nClusters merges of z, labelled 0.. in order of each
// cluster's first sample. This is the partition AgglomerativeClustering
// returns (its labels may be numbered differently).
func Cut(z []Merge, n, nClusters int) []int32 {
	parent := make([]int32, 2*n-1)
	for i := range parent {
		parent[i] = int32(i)
	}
	for i := 0; i < n-nClusters && i < len(z); i++ {
		parent[z[i].Left] = int32(n + i)
		parent[z[i].Right] = int32(n + i)
	}
	root := func(x int32) int32 {
		r := x
		for parent[r] != r {
			r = parent[r]
		}
		for parent[x] != r { // compress so a long chain is walked once
			parent[x], x = r, parent[x]
		}
		return r
	}
	labels := make([]int32, n)
	ids := map[int32]int32{}
	for i := 0; i < n; i++ {
		r := root(int32(i))
		id, ok := ids[r]
		if !ok {
			id = int32(len(ids))
			ids[r] = id
		}
		labels[i] = id
	}
	return labels
}
