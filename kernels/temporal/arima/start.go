package arima

import (
	"context"
	"math"

	"gonum.org/v1/gonum/mat"
)

// starts returns the optimiser's starting points in the unconstrained
// space: a Hannan-Rissanen estimate (when it is stationary and invertible)
// and the origin (white noise at the sample mean). The likelihood of mixed
// ARMA models can have more than one local maximum; trying both and keeping
// the better one is what makes the fit agree with statsmodels'.
func (p *problem) starts() [][]float64 {
	dim := p.dim()
	zero := make([]float64, dim)
	if dim == 0 {
		return [][]float64{zero}
	}
	if p.o.P+p.o.Q == 0 {
		return [][]float64{zero}
	}
	w := p.w
	if p.center != 0 {
		w = make([]float64, len(p.w))
		for i, v := range p.w {
			w[i] = v - p.center
		}
	}
	ar, ma, ok := hannanRissanen(p.ctx, w, p.o.P, p.o.Q)
	if !ok {
		return [][]float64{zero}
	}
	x := make([]float64, dim)
	i := 0
	if p.o.Mean {
		i = 1
	}
	xa, okA := unconstrainAR(shrink(ar))
	xm, okM := unconstrainMA(shrink(ma))
	if !okA || !okM {
		return [][]float64{zero}
	}
	copy(x[i:], xa)
	copy(x[i+p.o.P:], xm)
	return [][]float64{x, zero}
}

// shrink pulls coefficients whose partial autocorrelations sit near the
// unit circle inside it, so the start is a proper interior point.
func shrink(c []float64) []float64 {
	out := append([]float64(nil), c...)
	for tries := 0; tries < 50; tries++ {
		if x, ok := unconstrainAR(out); ok && maxAbs(x) < 5 {
			return out
		}
		for i := range out {
			out[i] *= 0.9
		}
	}
	return out
}

func maxAbs(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// hannanRissanen estimates ARMA(p, q) coefficients of the zero-mean series
// w by least squares: a long autoregression supplies residuals, then w_t is
// regressed on its own lags and the lagged residuals. ok is false when the
// series is too short or a regression is singular.
// It gives up (ok false) once ctx is done; the caller reports ctx.Err().
func hannanRissanen(ctx context.Context, w []float64, p, q int) (ar, ma []float64, ok bool) {
	n := len(w)
	if q == 0 {
		ar, ok := yuleWalker(ctx, w, p)
		return ar, nil, ok
	}
	m := max(p+q, int(math.Ceil(10*math.Log10(float64(n)))))
	if n < 3*(m+q)+10 {
		m = max(p+q, n/4)
	}
	if n-m-q < 2*(p+q)+4 {
		return nil, nil, false
	}
	long, ok := yuleWalker(ctx, w, m)
	if !ok || ctx.Err() != nil {
		return nil, nil, false
	}
	e := make([]float64, n)
	for t := m; t < n; t++ {
		v := w[t]
		for i := 0; i < m; i++ {
			v -= long[i] * w[t-1-i]
		}
		e[t] = v
	}
	if ctx.Err() != nil {
		return nil, nil, false
	}
	beta, ok := lagRegression(w, e, p, q, m+q)
	if !ok {
		return nil, nil, false
	}
	return beta[:p], beta[p:], true
}

// lagRegression regresses w_t on w_{t-1..t-p} and e_{t-1..t-q} for
// t = from..n-1 (no intercept) and returns the coefficients. It accumulates
// the normal equations row by row, so memory stays O((p+q)^2) however long
// the series; a starting point does not need QR's extra accuracy.
func lagRegression(w, e []float64, p, q, from int) ([]float64, bool) {
	n := len(w)
	k := p + q
	if k == 0 {
		return nil, true
	}
	if n-from <= k {
		return nil, false
	}
	xtx := make([]float64, k*k) // upper triangle used
	xty := make([]float64, k)
	row := make([]float64, k)
	for t := from; t < n; t++ {
		for i := 0; i < p; i++ {
			row[i] = w[t-1-i]
		}
		for j := 0; j < q; j++ {
			row[p+j] = e[t-1-j]
		}
		for i := 0; i < k; i++ {
			ri := row[i]
			xty[i] += ri * w[t]
			for j := i; j < k; j++ {
				xtx[i*k+j] += ri * row[j]
			}
		}
	}
	for i := 0; i < k; i++ {
		for j := 0; j < i; j++ {
			xtx[i*k+j] = xtx[j*k+i]
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(mat.NewSymDense(k, xtx)) {
		return nil, false
	}
	var beta mat.VecDense
	if err := chol.SolveVecTo(&beta, mat.NewVecDense(k, xty)); err != nil {
		return nil, false
	}
	out := make([]float64, k)
	for i := range out {
		out[i] = beta.AtVec(i)
		if math.IsNaN(out[i]) || math.IsInf(out[i], 0) {
			return nil, false
		}
	}
	return out, true
}

// yuleWalker fits AR(m) to the zero-mean series w from its sample
// autocovariances by the Durbin-Levinson recursion: O(n m), where a least
// squares fit of the long autoregression would cost O(n m^2).
func yuleWalker(ctx context.Context, w []float64, m int) ([]float64, bool) {
	n := len(w)
	acov := make([]float64, m+1)
	for k := 0; k <= m; k++ {
		if ctx.Err() != nil {
			return nil, false
		}
		v := 0.0
		for t := k; t < n; t++ {
			v += w[t] * w[t-k]
		}
		acov[k] = v / float64(n)
	}
	if !(acov[0] > 0) {
		return nil, false
	}
	phi := make([]float64, m)
	prev := make([]float64, m)
	v := acov[0]
	for k := 0; k < m; k++ {
		num := acov[k+1]
		for i := 0; i < k; i++ {
			num -= phi[i] * acov[k-i]
		}
		r := num / v
		copy(prev, phi[:k])
		for i := 0; i < k; i++ {
			phi[i] = prev[i] - r*prev[k-1-i]
		}
		phi[k] = r
		v *= 1 - r*r
		if !(v > 0) {
			return nil, false
		}
	}
	return phi, true
}
