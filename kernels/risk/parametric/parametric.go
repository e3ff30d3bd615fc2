// Package parametric computes delta-normal (variance–covariance) portfolio
// VaR with its decomposition into marginal and component VaR.
//
// With position values w, daily volatilities σ, correlation C, Σ = diag(σ)·C·diag(σ),
// holding period h days and z = Φ⁻¹(c):
//
//	σ_P        = √h · √(wᵀΣw)                 portfolio P&L standard deviation
//	VaR        = z · σ_P                      zero-mean P&L assumed
//	marginal_i = ∂VaR/∂w_i = z · √h · (Σw)_i / √(wᵀΣw)
//	component_i = w_i · marginal_i            Σ_i component_i = VaR (Euler)
//	individual_i = z · √h · |w_i| · σ_i        stand-alone VaR of position i
//
// The undiversified VaR is Σ individual_i and the diversification benefit is
// undiversified − VaR (≥ 0 for a valid correlation matrix).
package parametric

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/risk/normdist"
)

// Result is the VaR decomposition, in the currency of the positions.
type Result struct {
	Z                      float64   // Φ⁻¹(confidence)
	PortfolioVolatility    float64   // σ_P
	VaR                    float64   // z·σ_P
	MarginalVaR            []float64 // ∂VaR/∂w_i; all zero when σ_P is 0
	ComponentVaR           []float64 // w_i·marginal_i
	ContributionShare      []float64 // component_i / VaR; all zero when VaR is 0
	IndividualVaR          []float64 // z·√h·|w_i|·σ_i
	UndiversifiedVaR       float64   // Σ individual_i
	DiversificationBenefit float64   // undiversified − VaR
}

// rowsPerCheck bounds the work between context checks (rows of Σw).
const rowsPerCheck = 256

// VaR computes the decomposition. corr is the row-major n×n correlation
// matrix, already validated (see corrmat); positions and sigma have n values.
func VaR(ctx context.Context, positions, sigma, corr []float64, confidence, holdingDays float64) (*Result, error) {
	n := len(positions)
	switch {
	case n == 0:
		return nil, kerr.Invalid("positions", "must not be empty")
	case len(sigma) != n:
		return nil, kerr.Invalid("volatilities", "has %d values, want %d (one per position)", len(sigma), n)
	case len(corr) != n*n:
		return nil, kerr.Invalid("correlation", "must be %d×%d", n, n)
	case !(confidence > 0 && confidence < 1):
		return nil, kerr.Invalid("confidence_level", "must lie in (0, 1), got %g", confidence)
	case !(holdingDays > 0) || math.IsInf(holdingDays, 0):
		return nil, kerr.Invalid("holding_period_days", "must be a positive finite number, got %g", holdingDays)
	}
	for i := range n {
		if v := positions[i]; math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, kerr.Invalid(fmt.Sprintf("positions[%d]", i), "must be finite")
		}
		if s := sigma[i]; !(s >= 0) || math.IsInf(s, 0) {
			return nil, kerr.Invalid(fmt.Sprintf("volatilities[%d]", i), "must be a non-negative finite number, got %g", s)
		}
	}

	// a_i = σ_i·w_i, so (Σw)_i = σ_i·(C·a)_i and wᵀΣw = aᵀ·C·a.
	a := make([]float64, n)
	for i := range n {
		a[i] = sigma[i] * positions[i]
	}
	ca, err := MatVec(ctx, corr, a)
	if err != nil {
		return nil, err
	}
	return FromCA(positions, sigma, ca, confidence, holdingDays), nil
}

// FromCA is the decomposition from C·a (a_i = σ_i·w_i), the O(n) rest of
// VaR once the matrix-vector product is known: a ring that keeps C·a up
// to date as positions change (risk/portfolio-aggregation) calls it
// directly. Its arguments are assumed valid (see VaR).
func FromCA(positions, sigma, ca []float64, confidence, holdingDays float64) *Result {
	n := len(positions)
	a := make([]float64, n)
	for i := range n {
		a[i] = sigma[i] * positions[i]
	}
	var quad float64
	for i := range n {
		quad += a[i] * ca[i]
	}
	// A PSD matrix gives quad ≥ 0; rounding may leave a tiny negative.
	quad = math.Max(quad, 0)

	z := normdist.Quantile(confidence)
	sh := math.Sqrt(holdingDays)
	sd := math.Sqrt(quad)
	r := &Result{
		Z:                   z,
		PortfolioVolatility: sh * sd,
		VaR:                 z * sh * sd,
		MarginalVaR:         make([]float64, n),
		ComponentVaR:        make([]float64, n),
		ContributionShare:   make([]float64, n),
		IndividualVaR:       make([]float64, n),
	}
	for i := range n {
		if sd > 0 {
			r.MarginalVaR[i] = z * sh * sigma[i] * ca[i] / sd
		}
		r.ComponentVaR[i] = positions[i] * r.MarginalVaR[i]
		if r.VaR != 0 {
			r.ContributionShare[i] = r.ComponentVaR[i] / r.VaR
		}
		r.IndividualVaR[i] = z * sh * math.Abs(positions[i]) * sigma[i]
		r.UndiversifiedVaR += r.IndividualVaR[i]
	}
	r.DiversificationBenefit = r.UndiversifiedVaR - r.VaR
	return r
}

// MatVec returns C·a for row-major n×n C, rows split over GOMAXPROCS workers
// (each entry is one sequential dot product, so the result does not depend
// on the split), with a context check every rowsPerCheck rows.
func MatVec(ctx context.Context, c, a []float64) ([]float64, error) {
	n := len(a)
	out := make([]float64, n)
	workers := min(runtime.GOMAXPROCS(0), (n+rowsPerCheck-1)/rowsPerCheck)
	chunk := (n + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min(n, (w+1)*chunk)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				if (i-lo)%rowsPerCheck == 0 {
					if err := ctx.Err(); err != nil {
						errs[w] = err
						return
					}
				}
				var s float64
				for j, v := range c[i*n : (i+1)*n] {
					s += v * a[j]
				}
				out[i] = s
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
