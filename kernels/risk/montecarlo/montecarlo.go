// Package montecarlo estimates a portfolio's Value-at-Risk and expected
// shortfall by Monte Carlo simulation of correlated normal returns.
//
// Return model: daily simple returns are multivariate normal with means μ,
// volatilities σ and correlation C = L·Lᵀ; over a holding period of h days
// (i.i.d. days) the return is r = μ·h + √h·σ ⊙ (L·z), z ~ N(0, I). The P&L of
// a path is Σ_i x_i·r_i for position values x. Over n paths, with
// k = TailCount(n, c) the number of worst paths:
//
//	VaR = −(k-th smallest P&L)
//	ES  = −mean of the k smallest P&L   the average loss in the worst (1−c) tail
//
// (The order statistic equals numpy.quantile's "inverted_cdf" except where
// n·(1−c) is an integer blurred by rounding; see TailCount.)
//
// Each path draws from its own Philox4x64-10 stream keyed by the seed and
// addressed by the path index (see path.go and package philox), so a seed
// gives the same answer on any number of workers, and numpy reproduces it.
// Paths are simulated in blocks of blockPaths, spread over GOMAXPROCS
// goroutines; the context is checked before each block.
package montecarlo

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// blockPaths is the unit of work and of cancellation: a few milliseconds of
// simulation at 100 assets. With more assets a block shrinks so that it stays
// within blockDraws normal draws. It also fixes the summation order of
// meanStd.
const (
	blockPaths = 4096
	blockDraws = 1 << 19
)

// Portfolio is the simulated book. Slices are indexed by asset.
type Portfolio struct {
	Positions       []float64 // value held in each asset (currency); negative = short
	ExpectedReturns []float64 // mean simple return per day; nil means zero
	Volatilities    []float64 // standard deviation of the daily simple return
	Chol            []float64 // lower Cholesky factor L of the correlation matrix, row-major n×n
}

// Config are the simulation settings.
type Config struct {
	Confidence  float64 // VaR confidence level c in (0, 1), e.g. 0.99
	HoldingDays float64 // holding period h in days, > 0
	Paths       int     // number of simulated paths, ≥ 1
	Seed        uint64  // Philox key
	Workers     int     // goroutines; 0 means GOMAXPROCS
}

// Result is the simulated risk, in the currency of the positions. Losses are
// positive numbers.
type Result struct {
	VaR         float64   // −(k-th smallest P&L)
	ES          float64   // −(mean of the k smallest P&L)
	MeanPnL     float64   // mean P&L over all paths
	StdPnL      float64   // sample standard deviation (n−1) of the P&L; 0 for one path
	TailPaths   int       // k
	ComponentES []float64 // −x_i·(mean return of asset i over the tail paths); sums to ES
}

// Simulate runs the simulation.
func Simulate(ctx context.Context, pf Portfolio, cfg Config) (*Result, error) {
	if err := Check(pf, cfg); err != nil {
		return nil, err
	}
	n := len(pf.Positions)
	seed := cfg.Seed
	drift, loading := Loadings(pf.Positions, pf.ExpectedReturns, pf.Volatilities, pf.Chol, cfg.HoldingDays)

	pnl := make([]float64, cfg.Paths)
	per := max(1, min(blockPaths, blockDraws/n))
	blocks := (cfg.Paths + per - 1) / per
	err := forBlocks(ctx, blocks, cfg.Workers, func(b int) {
		lo, hi := b*per, min(cfg.Paths, (b+1)*per)
		z := make([]float64, n)
		for p := lo; p < hi; p++ {
			pnl[p] = PathPnL(seed, uint64(p), drift, loading, z)
		}
	})
	if err != nil {
		return nil, err
	}

	res := &Result{TailPaths: TailCount(cfg.Paths, cfg.Confidence)}
	res.MeanPnL, res.StdPnL = meanStd(pnl)

	sorted := make([]float64, len(pnl))
	copy(sorted, pnl)
	t := kthSmallest(sorted, res.TailPaths)
	res.VaR = -t
	tail := tailPaths(pnl, res.TailPaths, t)
	var sum float64
	for _, p := range tail {
		sum += pnl[p]
	}
	res.ES = -sum / float64(len(tail))

	zbar, err := meanDraws(ctx, seed, tail, n, cfg.Workers)
	if err != nil {
		return nil, err
	}
	res.ComponentES = ComponentES(pf, cfg.HoldingDays, zbar)
	return res, nil
}

// Check rejects inconsistent input with the request's field names, so the
// package is safe to call directly (the GPU path runs the same check).
func Check(pf Portfolio, cfg Config) error {
	n := len(pf.Positions)
	switch {
	case n == 0:
		return kerr.Invalid("positions", "must not be empty")
	case len(pf.Volatilities) != n:
		return kerr.Invalid("volatilities", "has %d values, want %d (one per position)", len(pf.Volatilities), n)
	case pf.ExpectedReturns != nil && len(pf.ExpectedReturns) != n:
		return kerr.Invalid("expected_returns", "has %d values, want %d (one per position) or none", len(pf.ExpectedReturns), n)
	case len(pf.Chol) != n*n:
		return kerr.Invalid("correlation", "must be %d×%d", n, n)
	case !(cfg.Confidence > 0 && cfg.Confidence < 1):
		return kerr.Invalid("confidence_level", "must lie in (0, 1), got %g", cfg.Confidence)
	case !(cfg.HoldingDays > 0) || math.IsInf(cfg.HoldingDays, 0):
		return kerr.Invalid("holding_period_days", "must be a positive finite number, got %g", cfg.HoldingDays)
	case cfg.Paths < 1:
		return kerr.Invalid("n_simulations", "must be at least 1, got %d", cfg.Paths)
	}
	for i := range n {
		if err := finite("positions", i, pf.Positions[i]); err != nil {
			return err
		}
		if s := pf.Volatilities[i]; !(s >= 0) || math.IsInf(s, 0) {
			return kerr.Invalid(fmt.Sprintf("volatilities[%d]", i), "must be a non-negative finite number, got %g", s)
		}
		if pf.ExpectedReturns != nil {
			if err := finite("expected_returns", i, pf.ExpectedReturns[i]); err != nil {
				return err
			}
		}
	}
	return checkScale(pf, cfg)
}

// maxPnLScale bounds the P&L magnitude a request may reach: the standard
// deviation squares P&Ls, so anything near 1e154 overflows float64 (issue
// 13: a volatility of 1e308 answered NaN with a 200).
const maxPnLScale = 1e150

// checkScale rejects portfolios whose simulated P&L could leave float64's
// range: the bound is Σ|x_i|(|μ_i|h + 40√h σ_i), 40 standard deviations
// being beyond any normal draw. The error names the largest contributor.
func checkScale(pf Portfolio, cfg Config) error {
	h := cfg.HoldingDays
	total, worst, worstDrift, worstVol := 0.0, 0, 0.0, 0.0
	for i, x := range pf.Positions {
		mu := 0.0
		if pf.ExpectedReturns != nil {
			mu = pf.ExpectedReturns[i]
		}
		drift := math.Abs(x) * math.Abs(mu) * h
		vol := math.Abs(x) * 40 * math.Sqrt(h) * pf.Volatilities[i]
		if drift+vol > worstDrift+worstVol || i == 0 {
			worst, worstDrift, worstVol = i, drift, vol
		}
		total += drift + vol
	}
	if total <= maxPnLScale {
		return nil
	}
	field := "volatilities"
	switch {
	case math.Abs(pf.Positions[worst]) > 1e100:
		field = "positions"
	case worstDrift > worstVol:
		field = "expected_returns"
	}
	return kerr.Invalid(fmt.Sprintf("%s[%d]", field, worst),
		"makes the simulated P&L reach about %.3g, beyond the %.0e that float64 statistics can square; rescale the portfolio", total, maxPnLScale)
}

func finite(field string, i int, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return kerr.Invalid(fmt.Sprintf("%s[%d]", field, i), "must be finite")
	}
	return nil
}

// forBlocks runs f(0..blocks-1) on workers goroutines that pull block numbers
// from a shared counter, stopping at the first cancelled context check.
func forBlocks(ctx context.Context, blocks, workers int, f func(b int)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, blocks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1) - 1)
				if b >= blocks || ctx.Err() != nil {
					return
				}
				f(b)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// meanStd sums per block and then over blocks, a fixed order that keeps the
// rounding error near that of pairwise summation.
func meanStd(x []float64) (mean, std float64) {
	blockSum := func(f func(float64) float64) float64 {
		var total float64
		for lo := 0; lo < len(x); lo += blockPaths {
			var s float64
			for _, v := range x[lo:min(len(x), lo+blockPaths)] {
				s += f(v)
			}
			total += s
		}
		return total
	}
	mean = blockSum(func(v float64) float64 { return v }) / float64(len(x))
	if len(x) < 2 {
		return mean, 0
	}
	ss := blockSum(func(v float64) float64 { d := v - mean; return d * d })
	return mean, math.Sqrt(ss / float64(len(x)-1))
}

// meanDraws regenerates the normal draws of the tail paths (cheap with a
// counter-based generator) and returns their mean vector. Chunks of tail
// paths are summed independently and combined in chunk order.
func meanDraws(ctx context.Context, seed uint64, tail []int, n, workers int) ([]float64, error) {
	const chunk = 1024
	chunks := (len(tail) + chunk - 1) / chunk
	sums := make([][]float64, chunks)
	err := forBlocks(ctx, chunks, workers, func(c int) {
		s := make([]float64, n)
		z := make([]float64, n)
		for _, p := range tail[c*chunk : min(len(tail), (c+1)*chunk)] {
			Normals(seed, uint64(p), z)
			for j, v := range z {
				s[j] += v
			}
		}
		sums[c] = s
	})
	if err != nil {
		return nil, err
	}
	zbar := make([]float64, n)
	for _, s := range sums {
		for j, v := range s {
			zbar[j] += v
		}
	}
	for j := range zbar {
		zbar[j] /= float64(len(tail))
	}
	return zbar, nil
}

// ComponentES is −x_i times asset i's mean tail return μ_i·h + √h·σ_i·(L·z̄)_i;
// the returns are linear in z, so the mean tail draw z̄ gives it exactly.
func ComponentES(pf Portfolio, h float64, zbar []float64) []float64 {
	n := len(pf.Positions)
	sh := math.Sqrt(h)
	out := make([]float64, n)
	for i, x := range pf.Positions {
		var lz float64
		for j, l := range pf.Chol[i*n : i*n+i+1] {
			lz += l * zbar[j]
		}
		r := sh * pf.Volatilities[i] * lz
		if pf.ExpectedReturns != nil {
			r += pf.ExpectedReturns[i] * h
		}
		out[i] = -x * r
	}
	return out
}
