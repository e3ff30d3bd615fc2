// Package regression fits linear models on row-major sample matrices:
// ordinary least squares with the statistics statsmodels reports, and ridge
// regression as scikit-learn solves it.
package regression

import (
	"math"
	"strconv"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// maxParams caps the number of model parameters: both fits hold p×p dense
// matrices (R factor or Gram matrix, their inverse or factorisation) and
// spend O(n·p²) time in factorisations that cannot be interrupted, so
// p = 1024 (8 MiB per matrix, seconds of work) is the largest size served.
const maxParams = 1024

// checkXY validates the shapes of a design matrix and its target.
func checkXY(x []float64, n, p int, y []float64) error {
	if n <= 0 {
		return kerr.Invalid("n_samples", "must be positive, got %d", n)
	}
	if p <= 0 {
		return kerr.Invalid("n_features", "must be positive, got %d", p)
	}
	if p > maxParams {
		return kerr.Invalid("n_features", "%d exceeds the limit of %d for regression", p, maxParams)
	}
	if len(x) != n*p {
		return kerr.Invalid("data", "has %d values, want n_samples*n_features = %d", len(x), n*p)
	}
	if len(y) != n {
		return kerr.Invalid("target", "has %d values, want n_samples = %d", len(y), n)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return kerr.Invalid(fieldIndex("data", i), "must be finite")
		}
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return kerr.Invalid(fieldIndex("target", i), "must be finite")
		}
	}
	return nil
}

func fieldIndex(name string, i int) string {
	return name + "[" + strconv.Itoa(i) + "]"
}
