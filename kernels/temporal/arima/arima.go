// Package arima fits ARIMA(p, d, q) models by exact Gaussian maximum
// likelihood and forecasts them, reproducing statsmodels 0.13's
// ARIMA(y, order=(p, d, q)).fit() (its default state-space MLE).
//
// The likelihood of the d-times differenced series is evaluated exactly by a
// Kalman filter on the ARMA state-space form with a stationary start, with
// the innovation variance profiled out; BFGS maximises it over the
// unconstrained stationarity / invertibility transforms, from a
// Hannan-Rissanen start and from zero, concurrently. The fitted values,
// log-likelihood and forecasts then come from one pass of the full ARIMA
// filter over the undifferenced series, laid out as statsmodels lays it out.
package arima

import (
	"context"
	"errors"
	"math"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/gokernels/gokernels/kernels/temporal/optim"
)

// Order is the model order and whether it has a mean.
type Order struct {
	P, D, Q int
	// Mean adds the process mean of the differenced series as a parameter
	// (statsmodels' trend "c", which it only allows when D = 0).
	Mean bool
}

// Params is how many parameters the likelihood has, sigma2 included.
func (o Order) Params() int {
	k := o.P + o.Q + 1
	if o.Mean {
		k++
	}
	return k
}

// MinLength is the shortest series Fit accepts for the order: the
// differenced series needs more points than parameters.
func (o Order) MinLength() int { return o.D + o.Params() + 1 }

// ErrTooShort is returned for a series shorter than Order.MinLength.
var ErrTooShort = errors.New("arima: series too short for the order")

// ErrDegenerate is returned when the likelihood has no finite maximum (for
// example a constant differenced series).
var ErrDegenerate = errors.New("arima: the series has no variation to fit")

// Model is a fitted ARIMA model.
type Model struct {
	Order
	AR, MA    []float64
	Mu        float64 // process mean of the differenced series (0 without Mean)
	Sigma2    float64
	LogLik    float64   // statsmodels' llf: first D observations burned
	Fitted    []float64 // one-step-ahead predictions
	Resid     []float64 // y - Fitted
	Converged bool
	Iter      int

	filter *fullFilter
}

// AIC is -2 LogLik + 2 k.
func (m *Model) AIC() float64 { return -2*m.LogLik + 2*float64(m.Params()) }

// BIC is -2 LogLik + k ln(n - D).
func (m *Model) BIC() float64 {
	return -2*m.LogLik + float64(m.Params())*math.Log(float64(len(m.Fitted)-m.D))
}

// Fit estimates the model on y.
func Fit(ctx context.Context, y []float64, o Order) (*Model, error) {
	if len(y) < o.MinLength() {
		return nil, ErrTooShort
	}
	w := difference(y, o.D)
	if allEqual(w) && (o.Mean || w[0] == 0) {
		return nil, ErrDegenerate
	}
	mean, sd := meanSD(w)
	if !(sd > 0) {
		sd = 1
	}
	prob := &problem{ctx: ctx, w: w, o: o, center: mean, scale: sd}
	if !o.Mean {
		prob.center = 0
	}
	best, err := prob.maximise()
	if err != nil {
		return nil, err
	}
	ar, ma, mu := prob.unpack(best.X)
	s := newSystem(ar, ma)
	ll, sigma2, err := s.concentrated(ctx, w, mu)
	if err != nil {
		return nil, err
	}
	if math.IsInf(ll, -1) || !(sigma2 > 0) {
		return nil, ErrDegenerate
	}
	f, ok := newFullFilter(s, o.D, sigma2, mu)
	if !ok {
		return nil, ErrDegenerate
	}
	if err := f.run(ctx, y); err != nil {
		return nil, err
	}
	resid := make([]float64, len(y))
	for i := range y {
		resid[i] = y[i] - f.fitted[i]
	}
	return &Model{Order: o, AR: ar, MA: ma, Mu: mu, Sigma2: sigma2, LogLik: f.ll,
		Fitted: f.fitted, Resid: resid, Converged: best.Converged, Iter: best.Iter, filter: f}, nil
}

// Forecast returns h point forecasts with standard errors and the bounds of
// the two-sided 1 - alpha prediction intervals (Gaussian, as statsmodels'
// get_forecast(h).conf_int(alpha)). It may be called once per Model.
func (m *Model) Forecast(h int, alpha float64) (mean, se, lower, upper []float64) {
	mean, se = m.filter.forecast(h)
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	lower = make([]float64, h)
	upper = make([]float64, h)
	for i := range mean {
		lower[i] = mean[i] - z*se[i]
		upper[i] = mean[i] + z*se[i]
	}
	return mean, se, lower, upper
}

// problem is the concentrated negative log-likelihood over the
// unconstrained parameter vector x = (mean offset?, AR part, MA part).
type problem struct {
	ctx    context.Context
	w      []float64
	o      Order
	center float64 // the mean parameter is center + scale * x[0]
	scale  float64
}

func (p *problem) dim() int {
	d := p.o.P + p.o.Q
	if p.o.Mean {
		d++
	}
	return d
}

func (p *problem) unpack(x []float64) (ar, ma []float64, mu float64) {
	i := 0
	if p.o.Mean {
		mu = p.center + p.scale*x[0]
		i = 1
	}
	ar = constrainAR(x[i : i+p.o.P])
	ma = constrainMA(x[i+p.o.P : i+p.o.P+p.o.Q])
	return ar, ma, mu
}

// value is the negative log-likelihood per observation (so that gradient
// tolerances do not depend on n); +Inf outside the model or once ctx is
// done. It is safe for concurrent use.
func (p *problem) value(x []float64) float64 {
	ar, ma, mu := p.unpack(x)
	ll, _, err := newSystem(ar, ma).concentrated(p.ctx, p.w, mu)
	if err != nil || math.IsNaN(ll) {
		return math.Inf(1)
	}
	return -ll / float64(len(p.w))
}

// maximise runs BFGS from every start concurrently and keeps the best (the
// first start on ties, so the result does not depend on scheduling).
func (p *problem) maximise() (optim.Result, error) {
	starts := p.starts()
	results := make([]optim.Result, len(starts))
	var wg sync.WaitGroup
	for i, x0 := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Errors are only cancellation, checked below.
			results[i], _ = optim.Minimize(p.ctx, p.value, x0, optim.Settings{
				Parallel: len(p.w)*p.dim() >= 20000,
			})
		}()
	}
	wg.Wait()
	if err := p.ctx.Err(); err != nil {
		return optim.Result{}, err
	}
	best := -1
	for i, r := range results {
		if math.IsInf(r.F, 0) || math.IsNaN(r.F) {
			continue
		}
		if best < 0 || r.F < results[best].F {
			best = i
		}
	}
	if best < 0 {
		return optim.Result{}, ErrDegenerate
	}
	return results[best], nil
}

func difference(y []float64, d int) []float64 {
	w := append([]float64(nil), y...)
	for k := 0; k < d; k++ {
		for i := len(w) - 1; i > 0; i-- {
			w[i] -= w[i-1]
		}
		w = w[1:]
	}
	return w
}

func meanSD(w []float64) (mean, sd float64) {
	for _, v := range w {
		mean += v
	}
	mean /= float64(len(w))
	for _, v := range w {
		sd += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(sd / float64(len(w)))
}

func allEqual(w []float64) bool {
	for _, v := range w {
		if v != w[0] {
			return false
		}
	}
	return true
}
