package montecarlo

import (
	"math"

	"github.com/gokernels/gokernels/kernels/risk/philox"
)

// This file is the per-path math, kept free of Go-specific machinery so a
// CUDA kernel can mirror it line for line (one thread per path):
//
//	stream  = Philox4x64-10, key {seed, 0}, counters {1,0,p,0}, {2,0,p,0}, …
//	z[p][j] = the j-th ziggurat normal of the stream (philox.Stream.Normal)
//	pnl[p]  = drift + Σ_j loading[j] · z[p][j]   (j ascending)
//
// The draws of a path depend only on (seed, p), which is what makes results
// independent of scheduling, and lets the tail paths be regenerated later.

// Normals fills z with the first len(z) draws of path p.
func Normals(seed, path uint64, z []float64) {
	s := philox.PathStream(seed, path)
	s.Normals(z)
}

// PathPnL returns the portfolio P&L of path p: drift + Σ_j loading[j]·z[p][j].
// z is scratch space of len(loading).
func PathPnL(seed, path uint64, drift float64, loading, z []float64) float64 {
	Normals(seed, path, z)
	pnl := drift
	for j, b := range loading {
		pnl += b * z[j]
	}
	return pnl
}

// Loadings folds the portfolio into the factor space of the draws.
//
// Asset returns over the holding period h are r = μ·h + √h·σ ⊙ (L·z) with
// L·Lᵀ the correlation matrix, so the P&L Σ_i x_i·r_i equals
//
//	drift + Σ_j loading[j]·z[j],  drift = h·Σ_i x_i·μ_i,
//	loading[j] = √h·Σ_i x_i·σ_i·L[i][j].
//
// This is the same simulated P&L as materialising every asset return, at n
// multiply-adds per path instead of n²; mu may be nil (zero drift).
func Loadings(positions, mu, sigma, chol []float64, h float64) (drift float64, loading []float64) {
	n := len(positions)
	sh := math.Sqrt(h)
	loading = make([]float64, n)
	for i, x := range positions {
		if mu != nil {
			drift += x * mu[i]
		}
		xs := x * sigma[i] * sh
		row := chol[i*n : i*n+i+1] // L is lower triangular
		for j, l := range row {
			loading[j] += xs * l
		}
	}
	return drift * h, loading
}
