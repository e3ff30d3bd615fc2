// Package lowess is a port of statsmodels 0.13's lowess (Cleveland 1979):
// locally linear fits with tricube distance weights over the k = frac n
// nearest points, robustified by bisquare weights of the residuals, with
// linear interpolation between fits closer than delta.
//
// The fit points and their neighbourhoods depend only on x, so each
// robustness iteration first walks x sequentially (cheap), then computes the
// O(k) local fits in parallel, and finally interpolates the skipped points.
package lowess

import (
	"context"
	"math"
	"slices"

	"github.com/gokernels/gokernels/kernels/par"
)

// Smooth returns statsmodels.nonparametric.lowess(y, x, frac=frac, it=it,
// delta=delta, return_sorted=False) for x strictly increasing.
func Smooth(ctx context.Context, x, y []float64, frac float64, it int, delta float64) ([]float64, error) {
	n := len(x)
	fit := make([]float64, n)
	if n == 0 {
		return fit, nil
	}
	k := int(frac*float64(n) + 1e-10)
	k = max(2, min(k, n))
	if n < 2 {
		copy(fit, y)
		return fit, nil
	}
	// The points where a regression runs, each with its neighbourhood
	// [left, right) and radius; the others are interpolated.
	type point struct {
		i, left, right int
		radius         float64
	}
	var pts []point
	left, right := 0, k
	i, lastFit := 0, 0 // lastFit is set on the first pass
	for {
		xv := x[i]
		for right < n && xv > (x[left]+x[right])/2 {
			left++
			right++
		}
		radius := math.Max(xv-x[left], x[right-1]-xv)
		pts = append(pts, point{i, left, right, radius})
		lastFit = i
		// statsmodels' update_indices, including its Python for-loop
		// semantics: when every remaining point is within delta, k ends on
		// the last index (not one past it) and the next fit is at n - 2.
		cut := x[lastFit] + delta
		kk := lastFit
		for j := lastFit + 1; j < n; j++ {
			kk = j
			if x[j] > cut {
				break
			}
		}
		i = max(kk-1, lastFit+1)
		if lastFit >= n-1 {
			break
		}
	}
	rw := make([]float64, n)
	for j := range rw {
		rw[j] = 1
	}
	resid := make([]float64, n)
	for iter := 0; iter <= it; iter++ {
		err := par.Ranges(ctx, len(pts), 256, func(lo, hi int) {
			w := make([]float64, k)
			for _, p := range pts[lo:hi] {
				fit[p.i] = localFit(x, y, rw, w, p.i, p.left, p.right, p.radius)
			}
		})
		if err != nil {
			return nil, err
		}
		for a := 1; a < len(pts); a++ {
			lo, hi := pts[a-1].i, pts[a].i
			den := x[hi] - x[lo]
			for j := lo + 1; j < hi; j++ {
				t := (x[j] - x[lo]) / den
				fit[j] = t*fit[hi] + (1-t)*fit[lo]
			}
		}
		if iter == it {
			break
		}
		for j := range resid {
			resid[j] = math.Abs(y[j] - fit[j])
		}
		med := median(slices.Clone(resid))
		if med <= 1e-7 {
			break // statsmodels: the fit is (numerically) exact
		}
		scale := 6 * med
		for j := range rw {
			u := math.Min(resid[j]/scale, 1)
			b := 1 - u*u
			rw[j] = b * b
		}
	}
	return fit, nil
}

// localFit is the weighted linear regression at x[i] over [left, right),
// written as statsmodels writes it: normalised weights, then the projection
// weights p_j = w_j (1 + (x_i - xbar)(x_j - xbar) / S). With fewer than two
// positive weights the fit is y[i] itself.
func localFit(x, y, rw, w []float64, i, left, right int, radius float64) float64 {
	xv := x[i]
	w = w[:right-left]
	sum := 0.0
	nonzero := 0
	for j := range w {
		d := math.Abs(x[left+j]-xv) / radius
		c := 1 - d*d*d
		w[j] = c * c * c * rw[left+j]
		sum += w[j]
		if w[j] > 1e-12 {
			nonzero++
		}
	}
	if nonzero < 2 {
		return y[i]
	}
	xbar := 0.0
	for j := range w {
		w[j] /= sum
		xbar += w[j] * x[left+j]
	}
	ss := 0.0
	for j := range w {
		d := x[left+j] - xbar
		ss += w[j] * d * d
	}
	ss = math.Max(ss, 1e-12)
	out := 0.0
	for j := range w {
		p := w[j] * (1 + (xv-xbar)*(x[left+j]-xbar)/ss)
		out += p * y[left+j]
	}
	return out
}

// median sorts x in place and returns numpy.median(x).
func median(x []float64) float64 {
	slices.Sort(x)
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}
