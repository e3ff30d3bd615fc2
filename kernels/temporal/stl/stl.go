// Package stl is a port of the netlib STL procedure of Cleveland, Cleveland,
// McRae & Terpenning (1990), "STL: A Seasonal-Trend Decomposition Procedure
// Based on Loess", as statsmodels 0.13 ships it (statsmodels.tsa.STL, with
// its fixed robustness-weight median).
//
// Each inner iteration smooths the cycle-subseries of the detrended series
// by LOESS (extended one period at both ends), removes their low-pass
// filtered version, and smooths the deseasonalised series into the trend;
// outer iterations recompute bisquare robustness weights from the
// residuals. Positions inside the smoothers are 1-based, as in the Fortran,
// so that every index computation matches the original.
//
// The cycle-subseries are independent and are smoothed in parallel, each
// with its own scratch space; the result does not depend on the number of
// cores.
package stl

import (
	"context"
	"math"
	"slices"

	"github.com/gokernels/gokernels/kernels/par"
)

// Params are STL's windows, degrees and jumps (statsmodels' names).
type Params struct {
	Period                               int  // np, >= 2
	Seasonal, Trend, LowPass             int  // ns, nt, nl: odd, >= 3
	SeasonalDeg, TrendDeg, LowPassDeg    int  // 0 or 1
	SeasonalJump, TrendJump, LowPassJump int  // >= 1
	Robust                               bool // (only sets the iteration defaults)
	InnerIter, OuterIter                 int
}

// DefaultTrend is statsmodels' default trend window: the smallest odd
// integer >= ceil(1.5 period / (1 - 1.5 / seasonal)).
func DefaultTrend(period, seasonal int) int {
	t := int(math.Ceil(1.5 * float64(period) / (1 - 1.5/float64(seasonal))))
	if t%2 == 0 {
		t++
	}
	return t
}

// DefaultLowPass is statsmodels' default low-pass window: the smallest odd
// integer > period.
func DefaultLowPass(period int) int {
	l := period + 1
	if l%2 == 0 {
		l++
	}
	return l
}

// Result is the decomposition.
type Result struct {
	Trend, Seasonal, Residual, Weights []float64
}

// Decompose runs STL on y. The caller validates the parameters (odd windows
// >= 3, trend and low_pass > period, iterations >= 1 / >= 0).
func Decompose(ctx context.Context, y []float64, p Params) (*Result, error) {
	n := len(y)
	s := &state{p: p, y: y, n: n,
		trend: make([]float64, n), season: make([]float64, n), rw: make([]float64, n)}
	for i := range s.work {
		s.work[i] = make([]float64, n+2*p.Period)
	}
	for i := range s.rw {
		s.rw[i] = 1
	}
	for k := 0; ; {
		if err := s.onestp(ctx); err != nil {
			return nil, err
		}
		k++
		if k > p.OuterIter {
			break
		}
		for i := 0; i < n; i++ {
			s.work[0][i] = s.trend[i] + s.season[i]
		}
		s.rwts()
		s.useRW = true
	}
	res := &Result{Trend: s.trend, Seasonal: s.season, Weights: s.rw, Residual: make([]float64, n)}
	for i := range y {
		res.Residual[i] = y[i] - s.season[i] - s.trend[i]
	}
	return res, nil
}

type state struct {
	p                 Params
	y                 []float64
	n                 int
	useRW             bool
	trend, season, rw []float64
	work              [5][]float64
}

// onestp is STL's inner loop.
func (s *state) onestp(ctx context.Context) error {
	n, np, w := s.n, s.p.Period, &s.work
	for j := 0; j < s.p.InnerIter; j++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			w[0][i] = s.y[i] - s.trend[i]
		}
		if err := s.ss(ctx); err != nil {
			return err
		}
		s.fts()
		ess(ctx, w[2], n, s.p.LowPass, s.p.LowPassDeg, s.p.LowPassJump, false, w[3], w[0], w[4])
		for i := 0; i < n; i++ {
			s.season[i] = w[1][np+i] - w[0][i]
			w[0][i] = s.y[i] - s.season[i]
		}
		ess(ctx, w[0], n, s.p.Trend, s.p.TrendDeg, s.p.TrendJump, s.useRW, s.rw, s.trend, w[2])
	}
	return ctx.Err()
}

// ss smooths each cycle-subseries of work[0] into work[1], one period
// longer at both ends.
func (s *state) ss(ctx context.Context) error {
	n, np, ns := s.n, s.p.Period, s.p.Seasonal
	y, season := s.work[0], s.work[1]
	k0 := (n-1)/np + 1 // longest subseries
	return par.Ranges(ctx, np, 1, func(lo, hi int) {
		work1 := make([]float64, k0)
		work2 := make([]float64, k0+2)
		work3 := make([]float64, k0)
		work4 := make([]float64, k0)
		for j := lo; j < hi; j++ {
			k := (n-(j+1))/np + 1
			for i := 0; i < k; i++ {
				work1[i] = y[i*np+j]
			}
			if s.useRW {
				for i := 0; i < k; i++ {
					work3[i] = s.rw[i*np+j]
				}
			}
			ess(ctx, work1, k, ns, s.p.SeasonalDeg, s.p.SeasonalJump, s.useRW, work3, work2[1:], work4)
			nright := min(ns, k)
			v, ok := est(work1, k, ns, s.p.SeasonalDeg, 0, 1, nright, work4, s.useRW, work3)
			if !ok {
				v = work2[1]
			}
			work2[0] = v
			nleft := max(1, k-ns+1)
			v, ok = est(work1, k, ns, s.p.SeasonalDeg, k+1, nleft, k, work4, s.useRW, work3)
			if !ok {
				v = work2[k]
			}
			work2[k+1] = v
			for m := 0; m < k+2; m++ {
				season[m*np+j] = work2[m]
			}
		}
	})
}

// fts is the low-pass filter: moving averages of lengths np, np and 3 of
// work[1] (length n + 2 np) into work[2].
func (s *state) fts() {
	np := s.p.Period
	n := s.n + 2*np
	ma(s.work[1], n, np, s.work[2])
	ma(s.work[2], n-np+1, np, s.work[0])
	ma(s.work[0], n-2*np+2, 3, s.work[2])
}

// ma is a moving average of length l over x[:n] into ave[:n-l+1].
func ma(x []float64, n, l int, ave []float64) {
	newn := n - l + 1
	fl := float64(l)
	v := 0.0
	for i := 0; i < l; i++ {
		v += x[i]
	}
	ave[0] = v / fl
	k, m := l, 0
	for j := 1; j < newn; j++ {
		v += x[k] - x[m]
		ave[j] = v / fl
		k++
		m++
	}
}

// rwts sets the bisquare robustness weights from the residuals
// y - work[0], scaled by 6 median |residual|.
func (s *state) rwts() {
	n := s.n
	for i := 0; i < n; i++ {
		s.rw[i] = math.Abs(s.y[i] - s.work[0][i])
	}
	sorted := slices.Clone(s.rw)
	slices.Sort(sorted)
	mid0 := n / 2
	mid1 := n - mid0 - 1
	cmad := 3 * (sorted[mid0] + sorted[mid1])
	if cmad == 0 {
		for i := range s.rw {
			s.rw[i] = 1
		}
		return
	}
	c9, c1 := 0.999*cmad, 0.001*cmad
	for i, r := range s.rw {
		switch {
		case r <= c1:
			s.rw[i] = 1
		case r <= c9:
			u := r / cmad
			s.rw[i] = (1 - u*u) * (1 - u*u)
		default:
			s.rw[i] = 0
		}
	}
}

// est is the LOESS fit at 1-based position xs from the points
// nleft..nright of y[:n] (1-based) with window length l and degree ideg,
// using w as scratch. ok is false when all weights vanish.
func est(y []float64, n, l, ideg, xs, nleft, nright int, w []float64, userw bool, rw []float64) (float64, bool) {
	rng := float64(n) - 1
	h := float64(max(xs-nleft, nright-xs))
	if l > n {
		h += float64((l - n) / 2)
	}
	h9, h1 := 0.999*h, 0.001*h
	a := 0.0
	for j := nleft - 1; j < nright; j++ {
		w[j] = 0
		r := math.Abs(float64(j + 1 - xs))
		if r <= h9 {
			if r <= h1 {
				w[j] = 1
			} else {
				q := r / h
				c := 1 - q*q*q
				w[j] = c * c * c
			}
			if userw {
				w[j] *= rw[j]
			}
			a += w[j]
		}
	}
	if a <= 0 {
		return 0, false
	}
	for j := nleft - 1; j < nright; j++ {
		w[j] /= a
	}
	if h > 0 && ideg > 0 {
		a = 0
		for j := nleft - 1; j < nright; j++ {
			a += w[j] * float64(j+1)
		}
		b := float64(xs) - a
		c := 0.0
		for j := nleft - 1; j < nright; j++ {
			d := float64(j+1) - a
			c += w[j] * d * d
		}
		if math.Sqrt(c) > 0.001*rng {
			b /= c
			for j := nleft - 1; j < nright; j++ {
				w[j] *= b*(float64(j+1)-a) + 1
			}
		}
	}
	ys := 0.0
	for j := nleft - 1; j < nright; j++ {
		ys += w[j] * y[j]
	}
	return ys, true
}

// ess is the LOESS smoother of y[:n] into ys[:n] with window l, degree ideg
// and jump njump (fits every njump-th point, interpolating linearly in
// between); res is scratch. Each fit costs O(min(l, n)), so it stops early
// (leaving ys partial) once ctx is done; callers then return ctx.Err().
func ess(ctx context.Context, y []float64, n, l, ideg, njump int, userw bool, rw, ys, res []float64) {
	if n < 2 {
		ys[0] = y[0]
		return
	}
	stopped, fits := false, 0
	fit := func(i, xs, nleft, nright int) {
		if fits++; fits&0xff == 0 && ctx.Err() != nil {
			stopped = true
		}
		if stopped {
			return
		}
		v, ok := est(y, n, l, ideg, xs, nleft, nright, res, userw, rw)
		if !ok {
			v = y[i]
		}
		ys[i] = v
	}
	newnj := min(njump, n-1)
	var nleft, nright int
	switch {
	case l >= n:
		nleft, nright = 1, n
		for i := 0; i < n; i += newnj {
			fit(i, i+1, nleft, nright)
		}
	case newnj == 1:
		nsh := (l + 2) / 2
		nleft, nright = 1, l
		for i := 0; i < n; i++ {
			if i+1 > nsh && nright != n {
				nleft++
				nright++
			}
			fit(i, i+1, nleft, nright)
		}
	default:
		nsh := (l + 1) / 2
		for i := 0; i < n; i += newnj {
			switch {
			case i+1 < nsh:
				nleft, nright = 1, l
			case i+1 >= n-nsh+1:
				nleft, nright = n-l+1, n
			default:
				nleft, nright = i+1-nsh+1, l+i+1-nsh
			}
			fit(i, i+1, nleft, nright)
		}
	}
	if newnj == 1 || stopped {
		return
	}
	for i := 0; i < n-newnj; i += newnj {
		delta := (ys[i+newnj] - ys[i]) / float64(newnj)
		for j := i; j < i+newnj; j++ {
			ys[j] = ys[i] + delta*float64(j-i)
		}
	}
	k := ((n-1)/newnj)*newnj + 1
	if k != n {
		fit(n-1, n, nleft, nright)
		if k != n-1 {
			delta := (ys[n-1] - ys[k-1]) / float64(n-k)
			for j := k; j < n; j++ {
				ys[j] = ys[k-1] + delta*float64(j+1-k)
			}
		}
	}
}
