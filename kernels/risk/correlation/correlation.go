// Package correlation computes the Pearson correlation matrix of return
// series, in one pass over a batch (Matrix) or incrementally (Accumulator).
//
// Matrix follows numpy.corrcoef(series) (rows are variables): centre each
// series on its mean, cov = X·Xᵀ/(T−1), corr_ij = cov_ij/√cov_ii/√cov_jj,
// clipped to [−1, 1]. numpy returns NaN for a series with zero variance; here
// such a series gets correlation 0 with every other series and 1 with itself,
// and is listed in Result.Constant, so the output stays valid JSON numbers.
package correlation

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Result is the correlation matrix (row-major n×n) with per-series moments.
type Result struct {
	N        int
	Corr     []float64
	Means    []float64
	StdDevs  []float64 // sample standard deviation (T−1 denominator)
	Constant []int     // series with zero variance
}

// Centre validates series and returns the result to fill (means set) and
// the centred rows, row-major n×T: everything before the covariance
// product, shared by the CPU path and the GPU path (cuda.CorrelationOn).
func Centre(series [][]float64) (*Result, []float64, error) {
	n := len(series)
	if n == 0 {
		return nil, nil, kerr.Invalid("series", "must not be empty")
	}
	t := len(series[0])
	if t < 2 {
		return nil, nil, kerr.Invalid("series[0]", "needs at least 2 observations, got %d", t)
	}
	r := &Result{N: n, Corr: make([]float64, n*n), Means: make([]float64, n), StdDevs: make([]float64, n)}
	centred := make([]float64, n*t)
	for i, s := range series {
		if len(s) != t {
			return nil, nil, kerr.Invalid(fmt.Sprintf("series[%d]", i), "has %d observations, series[0] has %d", len(s), t)
		}
		var sum float64
		for k, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, kerr.Invalid(fmt.Sprintf("series[%d].values[%d]", i, k), "must be finite")
			}
			sum += v
		}
		mean := sum / float64(t)
		r.Means[i] = mean
		if constant(s) {
			// Its rounded mean may differ from the value by an ulp; the
			// variance is exactly 0 and the row stays zero.
			r.Means[i] = s[0]
			continue
		}
		row := centred[i*t : (i+1)*t]
		for k, v := range s {
			row[k] = v - mean
		}
	}
	return r, centred, nil
}

// Matrix computes the correlation of the rows of series (n series of T ≥ 2
// observations each). Groups of four rows of the upper triangle are spread
// over GOMAXPROCS workers (see covGroup); every entry is one sequential dot
// product, so the result does not depend on the number of workers.
func Matrix(ctx context.Context, series [][]float64) (*Result, error) {
	r, centred, err := Centre(series)
	if err != nil {
		return nil, err
	}
	n, t := r.N, len(series[0])
	cov := make([]float64, n*n)
	groups := (n + 3) / 4
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range min(runtime.GOMAXPROCS(0), groups) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				g := int(next.Add(1) - 1)
				if g >= groups || failed.Load() {
					return
				}
				if ctx.Err() != nil {
					failed.Store(true)
					return
				}
				covGroup(cov, centred, n, t, 4*g)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	Fill(r, cov)
	return r, nil
}

// Fill turns a covariance matrix into r's correlations and deviations.
func Fill(r *Result, cov []float64) {
	n := r.N
	for i := range n {
		r.StdDevs[i] = math.Sqrt(math.Max(cov[i*n+i], 0))
		if r.StdDevs[i] == 0 {
			r.Constant = append(r.Constant, i)
		}
	}
	for i := range n {
		r.Corr[i*n+i] = 1
		for j := i + 1; j < n; j++ {
			si, sj := r.StdDevs[i], r.StdDevs[j]
			var c float64 // 0 when either series is constant
			if si != 0 && sj != 0 {
				c = max(-1, min(1, cov[i*n+j]/si/sj))
			}
			// Mirrored rather than recomputed, so the matrix is exactly symmetric.
			r.Corr[i*n+j], r.Corr[j*n+i] = c, c
		}
	}
}

func constant(s []float64) bool {
	for _, v := range s[1:] {
		if v != s[0] {
			return false
		}
	}
	return true
}

// covGroup fills the covariances of rows i0..i0+3 with every row j ≥ i0.
// Four rows share each pass over row j, which cuts the memory traffic that
// dominates for long series, and their four sums are independent chains.
// Entry (i, j) is always computed by the group of i, in the same order, so
// the result does not depend on the scheduling.
func covGroup(cov, x []float64, n, t, i0 int) {
	denom := float64(t - 1)
	if i0+4 > n { // the last, partial group: one row at a time
		for i := i0; i < n; i++ {
			ri := x[i*t : (i+1)*t]
			for j := i; j < n; j++ {
				c := dot(ri, x[j*t:(j+1)*t]) / denom
				cov[i*n+j], cov[j*n+i] = c, c
			}
		}
		return
	}
	r0, r1, r2, r3 := x[i0*t:(i0+1)*t], x[(i0+1)*t:(i0+2)*t], x[(i0+2)*t:(i0+3)*t], x[(i0+3)*t:(i0+4)*t]
	for j := i0; j < n; j++ {
		rj := x[j*t : (j+1)*t]
		rj = rj[:len(r0)]
		r1, r2, r3 := r1[:len(r0)], r2[:len(r0)], r3[:len(r0)]
		var s0, s1, s2, s3 float64
		for k, v := range rj {
			s0 += r0[k] * v
			s1 += r1[k] * v
			s2 += r2[k] * v
			s3 += r3[k] * v
		}
		for d, sum := range [4]float64{s0, s1, s2, s3} {
			if i := i0 + d; i <= j {
				c := sum / denom
				cov[i*n+j], cov[j*n+i] = c, c
			}
		}
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for k := range a {
		s += a[k] * b[k]
	}
	return s
}
