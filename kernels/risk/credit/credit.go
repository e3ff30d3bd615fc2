// Package credit computes expected credit loss from a logistic PD model.
//
// For exposure i with features x_i, the model's log-odds of default are
// s_i = intercept + Σ_j coefficients_j·x_ij and
//
//	PD_i = max(pd_floor, 1/(1+e^(−s_i)))   (sklearn LogisticRegression.predict_proba[:, 1])
//	EL_i = PD_i · LGD_i · EAD_i            (Basel expected loss)
//
// The same log-odds are also expressed as scorecard points with the usual
// "points to double the odds" scaling: with factor = PDO/ln 2 and good:bad
// odds e^(−s_i), points_i = base_score + factor·(−s_i − ln base_odds), so a
// borrower with odds base_odds scores base_score and every PDO points double
// the odds. Points are computed from s_i (before the PD floor).
package credit

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Model is a logistic PD model.
type Model struct {
	Intercept    float64
	Coefficients []float64 // one per feature
	PDFloor      float64   // lower bound on PD, in [0, 1)
}

// Scale is the scorecard point scaling.
type Scale struct {
	BaseScore float64 // points at odds BaseOdds, e.g. 600
	BaseOdds  float64 // good:bad odds at BaseScore, e.g. 50
	PDO       float64 // points to double the odds, e.g. 20
}

// Portfolio holds the exposures; Features is row-major len(LGD)×len(Coefficients).
type Portfolio struct {
	Features []float64
	LGD      []float64 // loss given default, fraction in [0, 1]
	EAD      []float64 // exposure at default, currency, ≥ 0
}

// Result is per exposure plus portfolio totals.
type Result struct {
	LogOdds      []float64
	PD           []float64
	Points       []float64
	ExpectedLoss []float64
	TotalEL      float64
	TotalEAD     float64
	ELRate       float64 // TotalEL / TotalEAD, 0 when TotalEAD is 0
	WeightedPD   float64 // Σ PD·EAD / TotalEAD, 0 when TotalEAD is 0
}

// rowsPerCheck is the number of exposures scored between context checks.
const rowsPerCheck = 1024

// Score runs the model over the portfolio.
func Score(ctx context.Context, m Model, sc Scale, p Portfolio) (*Result, error) {
	if err := check(m, sc, p); err != nil {
		return nil, err
	}
	n, k := len(p.LGD), len(m.Coefficients)
	r := &Result{
		LogOdds:      make([]float64, n),
		PD:           make([]float64, n),
		Points:       make([]float64, n),
		ExpectedLoss: make([]float64, n),
	}
	factor := sc.PDO / math.Ln2
	lnBase := math.Log(sc.BaseOdds)
	score := func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			if (i-lo)%rowsPerCheck == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			s := m.Intercept
			for j, c := range m.Coefficients {
				s += c * p.Features[i*k+j]
			}
			pd := math.Max(m.PDFloor, sigmoid(s))
			r.LogOdds[i] = s
			r.PD[i] = pd
			r.Points[i] = sc.BaseScore + factor*(-s-lnBase)
			r.ExpectedLoss[i] = pd * p.LGD[i] * p.EAD[i]
		}
		return nil
	}
	if err := parallel(n, score); err != nil {
		return nil, err
	}
	var pdEAD float64
	for i := range n {
		r.TotalEL += r.ExpectedLoss[i]
		r.TotalEAD += p.EAD[i]
		pdEAD += r.PD[i] * p.EAD[i]
	}
	if r.TotalEAD > 0 {
		r.ELRate = r.TotalEL / r.TotalEAD
		r.WeightedPD = pdEAD / r.TotalEAD
	}
	return r, nil
}

// sigmoid is 1/(1+e^(−s)) without overflow for large |s|.
func sigmoid(s float64) float64 {
	if s >= 0 {
		return 1 / (1 + math.Exp(-s))
	}
	e := math.Exp(s)
	return e / (1 + e)
}

func check(m Model, sc Scale, p Portfolio) error {
	n, k := len(p.LGD), len(m.Coefficients)
	switch {
	case n == 0:
		return kerr.Invalid("lgd", "must not be empty: one value per exposure")
	case len(p.EAD) != n:
		return kerr.Invalid("ead", "has %d values, want %d (one per exposure)", len(p.EAD), n)
	case len(p.Features) != n*k:
		return kerr.Invalid("features", "has %d values, want n_exposures × n_features = %d", len(p.Features), n*k)
	case !(m.PDFloor >= 0 && m.PDFloor < 1):
		return kerr.Invalid("pd_floor", "must lie in [0, 1), got %g", m.PDFloor)
	case !(sc.BaseOdds > 0) || math.IsInf(sc.BaseOdds, 0):
		return kerr.Invalid("base_odds", "must be a positive finite number, got %g", sc.BaseOdds)
	case !(sc.PDO > 0) || math.IsInf(sc.PDO, 0):
		return kerr.Invalid("points_to_double_odds", "must be a positive finite number, got %g", sc.PDO)
	case math.IsNaN(sc.BaseScore) || math.IsInf(sc.BaseScore, 0):
		return kerr.Invalid("base_score", "must be finite")
	case math.IsNaN(m.Intercept) || math.IsInf(m.Intercept, 0):
		return kerr.Invalid("intercept", "must be finite")
	}
	if err := finite("coefficients", m.Coefficients); err != nil {
		return err
	}
	if err := finite("features", p.Features); err != nil {
		return err
	}
	for i := range n {
		if v := p.LGD[i]; !(v >= 0 && v <= 1) {
			return kerr.Invalid(fmt.Sprintf("lgd[%d]", i), "must lie in [0, 1], got %g", v)
		}
		if v := p.EAD[i]; !(v >= 0) || math.IsInf(v, 0) {
			return kerr.Invalid(fmt.Sprintf("ead[%d]", i), "must be a non-negative finite number, got %g", v)
		}
	}
	return nil
}

func finite(field string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return kerr.Invalid(fmt.Sprintf("%s[%d]", field, i), "must be finite")
		}
	}
	return nil
}

// parallel splits [0, n) into one contiguous range per worker; rows are
// independent, so the split does not change any result.
func parallel(n int, f func(lo, hi int) error) error {
	workers := min(runtime.GOMAXPROCS(0), (n+rowsPerCheck-1)/rowsPerCheck)
	chunk := (n + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = f(w*chunk, min(n, (w+1)*chunk))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
