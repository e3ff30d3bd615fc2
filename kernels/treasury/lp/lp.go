// Package lp solves small linear programs min cᵀx s.t. Gx ≤ h with gonum's
// simplex (optimize/convex/lp: Convert to standard form, Bland's rule).
// Each row is scaled to unit max-norm first: the simplex tolerances are
// absolute, and money-sized coefficients would otherwise swamp them.
package lp

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// ErrInfeasible reports an LP without a feasible point.
var ErrInfeasible = errors.New("infeasible")

// ErrNotFinite reports an LP whose coefficients overflowed float64.
var ErrNotFinite = errors.New("the program's coefficients are not finite")

// Solve minimises cᵀx subject to Gx ≤ h (x free; give bounds as rows).
func Solve(c []float64, g [][]float64, h []float64) (float64, []float64, error) {
	n := len(c)
	if n == 0 || len(g) == 0 {
		// Nothing to choose (or nothing constrains a free x: callers always
		// give bounds, so only the empty problem reaches here).
		return 0, make([]float64, n), nil
	}
	gm := mat.NewDense(len(g), n, nil)
	hs := make([]float64, len(h))
	for i, row := range g {
		s := math.Abs(h[i])
		for _, v := range row {
			s = math.Max(s, math.Abs(v))
		}
		if s == 0 {
			s = 1
		}
		for j, v := range row {
			gm.Set(i, j, v/s)
		}
		hs[i] = h[i] / s
	}
	cs := 0.0
	for _, v := range c {
		cs = math.Max(cs, math.Abs(v))
	}
	if cs == 0 {
		cs = 1
	}
	cn := make([]float64, n)
	for j, v := range c {
		cn[j] = v / cs
	}
	// A non-finite coefficient (an overflowed sum of extreme inputs) makes
	// every simplex comparison false and the pivoting loop never ends:
	// refuse it before gonum sees it (issue 13).
	for _, v := range append(append(append([]float64(nil), cn...), hs...), gm.RawMatrix().Data...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, nil, ErrNotFinite
		}
	}
	cStd, aStd, bStd := lp.Convert(cn, gm, hs, nil, nil)
	_, xStd, err := lp.Simplex(cStd, aStd, bStd, 1e-10, nil)
	if err != nil {
		if errors.Is(err, lp.ErrInfeasible) {
			return 0, nil, ErrInfeasible
		}
		return 0, nil, err
	}
	// Convert splits each free variable into x⁺ − x⁻ (then the slacks).
	x := make([]float64, n)
	for j := range n {
		x[j] = xStd[j] - xStd[n+j]
	}
	obj := 0.0
	for j := range n {
		obj += c[j] * x[j]
	}
	return obj, x, nil
}
