// Package classical is the classical moving-average seasonal decomposition,
// statsmodels 0.13's seasonal_decompose(x, model, period=period,
// two_sided=two_sided, extrapolate_trend=extrapolate).
//
// The trend is a moving average over one period (a 2 x period average with
// half weights at the ends for even periods), centred or trailing; the ends
// it cannot reach are NaN or, with extrapolate > 0, continued by
// least-squares lines through the nearest extrapolate + 1 trend values. The
// seasonal component is the per-phase mean of the detrended series
// (ignoring NaN), normalised to sum 0 (additive) or mean 1
// (multiplicative), repeated over the series.
package classical

import (
	"context"
	"math"

	"github.com/gokernels/gokernels/kernels/par"
)

// Result is the decomposition; Trend and Residual are NaN where the moving
// average is undefined and extrapolation is off.
type Result struct {
	Trend, Seasonal, Residual []float64
}

// Decompose requires len(x) >= 2 period, period >= 2, and positive x for
// the multiplicative model (the caller checks). The moving average costs
// O(n period) and runs in parallel; it returns ctx.Err() when ctx is done.
func Decompose(ctx context.Context, x []float64, period int, multiplicative, twoSided bool, extrapolate int) (Result, error) {
	n := len(x)
	filt := make([]float64, 0, period+1)
	if period%2 == 0 {
		filt = append(filt, 0.5/float64(period))
		for i := 0; i < period-1; i++ {
			filt = append(filt, 1/float64(period))
		}
		filt = append(filt, 0.5/float64(period))
	} else {
		for i := 0; i < period; i++ {
			filt = append(filt, 1/float64(period))
		}
	}
	trend, err := convolve(ctx, x, filt, twoSided)
	if err != nil {
		return Result{}, err
	}
	if extrapolate > 0 {
		extrapolateTrend(trend, extrapolate+1)
	}
	detrended := make([]float64, n)
	for i := range x {
		if multiplicative {
			detrended[i] = x[i] / trend[i]
		} else {
			detrended[i] = x[i] - trend[i]
		}
	}
	avg := make([]float64, period)
	for p := 0; p < period; p++ {
		sum, cnt := 0.0, 0
		for i := p; i < n; i += period {
			if !math.IsNaN(detrended[i]) {
				sum += detrended[i]
				cnt++
			}
		}
		avg[p] = sum / float64(cnt)
	}
	mean := 0.0
	for _, v := range avg {
		mean += v
	}
	mean /= float64(period)
	for p := range avg {
		if multiplicative {
			avg[p] /= mean
		} else {
			avg[p] -= mean
		}
	}
	res := Result{Trend: trend, Seasonal: make([]float64, n), Residual: make([]float64, n)}
	for i := range x {
		s := avg[i%period]
		res.Seasonal[i] = s
		if multiplicative {
			res.Residual[i] = x[i] / s / trend[i]
		} else {
			res.Residual[i] = detrended[i] - s
		}
	}
	return res, nil
}

// convolve is statsmodels' convolution_filter(x, filt, nsides): the valid
// part of the convolution placed at the centre (two-sided) or the end
// (trailing) of the window, NaN elsewhere. Each output is a direct dot
// product (as scipy's direct convolution), computed in parallel chunks.
func convolve(ctx context.Context, x, filt []float64, twoSided bool) ([]float64, error) {
	n, l := len(x), len(filt)
	out := make([]float64, n)
	head := l - 1
	if twoSided {
		head = (l+1)/2 - 1
	}
	for i := range out {
		out[i] = math.NaN()
	}
	chunk := max(1, 1<<16/l)
	err := par.Ranges(ctx, max(n-l+1, 0), chunk, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			v := 0.0
			for j := 0; j < l; j++ {
				v += filt[j] * x[t+l-1-j]
			}
			out[t+head] = v
		}
	})
	return out, err
}

// extrapolateTrend is statsmodels' _extrapolate_trend(trend, npoints): a
// line fitted to the first npoints defined values continues the trend to
// the start, and one fitted to the npoints values before the last defined
// one (statsmodels leaves the last out) continues it to the end.
func extrapolateTrend(trend []float64, npoints int) {
	n := len(trend)
	front := 0
	for front < n && math.IsNaN(trend[front]) {
		front++
	}
	back := n - 1
	for back >= 0 && math.IsNaN(trend[back]) {
		back--
	}
	if front >= n {
		return
	}
	frontLast := min(front+npoints, back)
	k, c := lineFit(trend, front, frontLast)
	for i := 0; i < front; i++ {
		trend[i] = float64(i)*k + c
	}
	backFirst := max(back-npoints, front)
	k, c = lineFit(trend, backFirst, back)
	for i := back + 1; i < n; i++ {
		trend[i] = float64(i)*k + c
	}
}

// lineFit is the least-squares line through (i, y[i]) for i in [lo, hi).
func lineFit(y []float64, lo, hi int) (slope, intercept float64) {
	m := float64(hi - lo)
	switch {
	case m <= 0:
		return 0, 0
	case m == 1:
		// numpy.linalg.lstsq's minimum-norm solution of one equation
		// slope i + intercept = y.
		x := float64(lo)
		return x * y[lo] / (x*x + 1), y[lo] / (x*x + 1)
	}
	var mx, my float64
	for i := lo; i < hi; i++ {
		mx += float64(i)
		my += y[i]
	}
	mx /= m
	my /= m
	var sxy, sxx float64
	for i := lo; i < hi; i++ {
		dx := float64(i) - mx
		sxy += dx * (y[i] - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return 0, my
	}
	slope = sxy / sxx
	return slope, my - slope*mx
}
