// Package corrmat validates correlation matrices and factors them.
//
// Risk kernels take a correlation matrix from the request. Before it is used
// it must be a real correlation matrix (square, symmetric, unit diagonal,
// entries in [-1, 1]) and positive semi-definite, otherwise √(wᵀΣw) is the
// square root of a negative number and a Monte Carlo simulation has no
// Cholesky factor. Every such problem is a client error naming the field.
package corrmat

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Tol is the tolerance for symmetry, the unit diagonal and the range check:
// matrices printed with 10+ significant digits pass.
const Tol = 1e-9

// pivotTol is the Schur-complement pivot below which a column is treated as
// linearly dependent (semi-definite case) instead of failing.
const pivotTol = 1e-10

// Flatten checks that rows is an n×n correlation matrix and returns it
// row-major. field is the request field ("correlation"); errors name
// "field[i]" for a bad row length and "field[i].values[j]" for a bad entry.
func Flatten(field string, rows [][]float64, n int) ([]float64, error) {
	if len(rows) != n {
		return nil, kerr.Invalid(field, "has %d rows, want %d (one per asset)", len(rows), n)
	}
	c := make([]float64, n*n)
	for i, row := range rows {
		if len(row) != n {
			return nil, kerr.Invalid(fmt.Sprintf("%s[%d]", field, i), "has %d values, want %d", len(row), n)
		}
		copy(c[i*n:], row)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := c[i*n+j]
			at := func() string { return fmt.Sprintf("%s[%d].values[%d]", field, i, j) }
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				return nil, kerr.Invalid(at(), "must be finite")
			case i == j && math.Abs(v-1) > Tol:
				return nil, kerr.Invalid(at(), "diagonal of a correlation matrix must be 1, got %g", v)
			case math.Abs(v) > 1+Tol:
				return nil, kerr.Invalid(at(), "correlation must lie in [-1, 1], got %g", v)
			case j > i && math.Abs(v-c[j*n+i]) > Tol:
				return nil, kerr.Invalid(at(), "matrix must be symmetric: %g differs from [%d][%d] = %g", v, j, i, c[j*n+i])
			}
		}
	}
	return c, nil
}

// NotPSDError reports that the matrix has a negative eigenvalue; Column is
// where the factorisation found a negative pivot.
type NotPSDError struct{ Column int }

func (e *NotPSDError) Error() string {
	return fmt.Sprintf("matrix is not positive semi-definite (negative pivot at column %d)", e.Column)
}

// Cholesky returns the lower-triangular L (row-major n×n) with L·Lᵀ = c for a
// symmetric positive semi-definite c, or a *NotPSDError.
//
// Semi-definite matrices (perfectly correlated assets) are accepted: a pivot
// within pivotTol of zero makes its column of L zero, which is what the
// limit of the positive-definite factorisation gives, so simulated returns of
// such assets stay exactly collinear. The rows below the pivot are computed in
// parallel for large n; each entry is one sequential dot product, so the
// result does not depend on the number of workers.
func Cholesky(ctx context.Context, c []float64, n int) ([]float64, error) {
	l := make([]float64, n*n)
	workers := runtime.GOMAXPROCS(0)
	for j := 0; j < n; j++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rj := l[j*n : j*n+j]
		d := c[j*n+j] - dot(rj, rj)
		if d < -pivotTol {
			return nil, &NotPSDError{Column: j}
		}
		var ljj float64
		if d > pivotTol {
			ljj = math.Sqrt(d)
		}
		l[j*n+j] = ljj
		// A zero pivot needs every Schur-complement entry in its column to be
		// (numerically) zero too: |s|² ≤ d_i·d_j ≈ 0 in a PSD matrix.
		rows := func(lo, hi int) error {
			for i := lo; i < hi; i++ {
				s := c[i*n+j] - dot(l[i*n:i*n+j], rj)
				if ljj == 0 {
					if math.Abs(s) > 1e-6 {
						return &NotPSDError{Column: j}
					}
					continue
				}
				l[i*n+j] = s / ljj
			}
			return nil
		}
		rest := n - j - 1
		if rest*j < 1<<16 || workers == 1 {
			if err := rows(j+1, n); err != nil {
				return nil, err
			}
			continue
		}
		if err := parallelRows(j+1, n, workers, rows); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// parallelRows splits [lo, hi) into one contiguous chunk per worker and
// returns the error of the lowest failing chunk (deterministic).
func parallelRows(lo, hi, workers int, f func(lo, hi int) error) error {
	chunk := (hi - lo + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		a, b := lo+w*chunk, min(hi, lo+(w+1)*chunk)
		if a >= b {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = f(a, b)
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

func dot(a, b []float64) float64 {
	var s float64
	for k := range a {
		s += a[k] * b[k]
	}
	return s
}
