// Package lof computes the Local Outlier Factor exactly as
// sklearn.neighbors.LocalOutlierFactor does on its training data.
//
// For each sample p with k nearest neighbours N(p) (p itself excluded):
//
//	k-distance(o) = distance from o to its k-th neighbour
//	reach(p, o)   = max(dist(p, o), k-distance(o))
//	lrd(p)        = 1 / (mean_{o∈N(p)} reach(p, o) + 1e-10)
//	LOF(p)        = mean_{o∈N(p)} lrd(o) / lrd(p)
//
// The 1e-10 is sklearn's guard against duplicate points (infinite density);
// it is kept so results agree to rounding. LOF(p) equals
// -negative_outlier_factor_[p]. Neighbours come from a spatial index, queried
// in parallel; memory is O(n·k).
package lof

import (
	"context"

	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
	"github.com/gokernels/gokernels/kernels/ml/neighbors"
	"github.com/gokernels/gokernels/kernels/par"
)

const chunk = 256

// EffectiveK is the neighbour count sklearn really uses: n_neighbors capped
// at n_samples-1 and at least 1.
func EffectiveK(k, n int) int { return max(1, min(k, n-1)) }

// Result carries the factors and the intermediate densities.
type Result struct {
	K    int       // neighbours used (EffectiveK)
	LOF  []float64 // local outlier factor per sample (≈1 inlier, ≫1 outlier)
	LRD  []float64 // local reachability density per sample
	KDis []float64 // k-distance per sample
}

// Run computes LOF for every row of m (m.Rows >= 2) with k neighbours.
func Run(ctx context.Context, m matrix.Dense, k int, metric distance.Metric) (Result, error) {
	n := m.Rows
	k = EffectiveK(k, n)
	ix, err := neighbors.New(ctx, m, metric)
	if err != nil {
		return Result{}, err
	}
	nbr := make([]int32, n*k)
	dist := make([]float64, n*k)
	order := ix.Order()
	err = par.For(ctx, n, chunk, func(_, lo, hi int) error {
		q := ix.NewKNN(k)
		var buf []neighbors.Neighbor
		for p := lo; p < hi; p++ {
			// Spatially close queries in a row visit the same tree nodes.
			i := p
			if order != nil {
				i = int(order[p])
			}
			buf = q.Others(i, buf[:0])
			for t, nb := range buf {
				nbr[i*k+t] = nb.Index
				dist[i*k+t] = nb.Dist
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	kdist := make([]float64, n)
	for i := range kdist {
		kdist[i] = dist[i*k+k-1]
	}
	lrd := make([]float64, n)
	err = par.For(ctx, n, chunk*16, func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			var s float64
			for t := 0; t < k; t++ {
				s += max(dist[i*k+t], kdist[nbr[i*k+t]])
			}
			lrd[i] = 1 / (s/float64(k) + 1e-10)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	lof := make([]float64, n)
	err = par.For(ctx, n, chunk*16, func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			var s float64
			for t := 0; t < k; t++ {
				s += lrd[nbr[i*k+t]] / lrd[i]
			}
			lof[i] = s / float64(k)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return Result{K: k, LOF: lof, LRD: lrd, KDis: kdist}, nil
}
