// Package volatility estimates conditional variances of returns: the
// RiskMetrics EWMA and GARCH(1, 1) by Gaussian maximum likelihood.
package volatility

import (
	"context"
	"errors"
	"math"
	"sync"

	"github.com/gokernels/gokernels/kernels/temporal/optim"
	"github.com/gokernels/gokernels/kernels/temporal/smooth"
)

// LogReturns returns ln(p[t] / p[t-1]); prices must be positive.
func LogReturns(p []float64) []float64 {
	r := make([]float64, len(p)-1)
	for i := range r {
		r[i] = math.Log(p[i+1] / p[i])
	}
	return r
}

// EWMAResult is the RiskMetrics estimate.
type EWMAResult struct {
	Variance []float64 // s_t, including r_t
	LogLik   float64
}

// EWMA is s_0 = r_0^2, s_t = lambda s_{t-1} + (1 - lambda) r_t^2, computed
// exactly as pandas.Series(r**2).ewm(alpha=1-lambda, adjust=False).mean().
// LogLik is the Gaussian log-likelihood of r_t given s_{t-1} for t >= 1,
// skipping terms where s_{t-1} is 0.
func EWMA(r []float64, lambda float64) EWMAResult {
	sq := make([]float64, len(r))
	for i, v := range r {
		sq[i] = v * v
	}
	s := smooth.EWM(sq, 1-lambda, false)
	ll := 0.0
	for t := 1; t < len(r); t++ {
		if s[t-1] > 0 {
			ll -= 0.5 * (math.Log(2*math.Pi) + math.Log(s[t-1]) + sq[t]/s[t-1])
		}
	}
	return EWMAResult{Variance: s, LogLik: ll}
}

// GARCHResult is a fitted GARCH(1, 1).
type GARCHResult struct {
	Mu, Omega, Alpha, Beta float64
	Variance               []float64 // h_t
	LogLik                 float64
	Converged              bool
}

// Forecast returns the variance forecasts for steps 1..h after the last
// return: h_{n} = omega + alpha e_{n-1}^2 + beta h_{n-1}, then
// h_{n+k} = omega + (alpha + beta) h_{n+k-1}.
func (g *GARCHResult) Forecast(r []float64, h int) []float64 {
	out := make([]float64, h)
	if h == 0 {
		return out
	}
	n := len(r)
	e := r[n-1] - g.Mu
	v := g.Omega + g.Alpha*e*e + g.Beta*g.Variance[n-1]
	for i := range out {
		out[i] = v
		v = g.Omega + (g.Alpha+g.Beta)*v
	}
	return out
}

// ErrNoVariation is returned for constant returns.
var ErrNoVariation = errors.New("volatility: the returns have no variation")

// GARCH fits r_t = mu + e_t, h_t = omega + alpha e_{t-1}^2 + beta h_{t-1},
// h_0 = mean(e^2), by maximising the Gaussian log-likelihood under omega > 0,
// alpha, beta >= 0, alpha + beta < 1 (mu = 0 when !withMean).
//
// The search runs on r / sd (so that omega is of order one) over an
// unconstrained reparameterisation (omega = exp(u), (alpha, beta) the first
// two of a softmax over three logits), by BFGS from several starting points
// concurrently; the best optimum wins (the first on ties). Mapping back is
// exact: mu = sd mu_z, omega = sd^2 omega_z, loglik = loglik_z - n ln sd.
func GARCH(ctx context.Context, r []float64, withMean bool) (*GARCHResult, error) {
	n := len(r)
	mean, sd := 0.0, 0.0
	for _, v := range r {
		mean += v
	}
	mean /= float64(n)
	for _, v := range r {
		sd += (v - mean) * (v - mean)
	}
	sd = math.Sqrt(sd / float64(n))
	if !(sd > 0) {
		return nil, ErrNoVariation
	}
	z := make([]float64, n)
	for i, v := range r {
		z[i] = v / sd
	}
	zmean := mean / sd
	unpack := func(u []float64) (mu, omega, a, b float64) { return unpackParams(u, zmean, withMean) }
	nll := scaledNLL(ctx, z, zmean, withMean)
	type start struct{ a, b float64 }
	// The last starts sit near the boundary (beta or alpha ≈ 0): there the
	// logits must run off towards −∞, and from interior starts BFGS can
	// stall on the flat ridge well short of it (issue 13: 0.05 to 0.14 in
	// log-likelihood below scipy's SLSQP on 366-point series whose optimum
	// has beta = 0).
	starts := []start{{0.05, 0.9}, {0.1, 0.8}, {0.2, 0.6}, {0.02, 0.97}, {0.3, 0.3}, {0.1, 0.89},
		{0.05, 1e-4}, {0.2, 1e-4}, {1e-4, 0.5}, {1e-4, 1e-4}}
	results := make([]optim.Result, len(starts))
	var wg sync.WaitGroup
	for i, s := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := 1 - s.a - s.b
			u := []float64{math.Log(c), math.Log(s.a / c), math.Log(s.b / c)}
			if withMean {
				u = append(u, 0)
			}
			results[i], _ = optim.Minimize(ctx, nll, u, optim.Settings{GradTol: 1e-9, MaxIter: 1000})
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	best := -1
	for i, res := range results {
		if math.IsInf(res.F, 0) || math.IsNaN(res.F) || res.X == nil {
			continue
		}
		if best < 0 || res.F < results[best].F {
			best = i
		}
	}
	if best < 0 {
		return nil, ErrNoVariation
	}
	// Polish: BFGS again from the best point with a fresh inverse Hessian,
	// which the first run may have left badly scaled near a boundary.
	if res, err := optim.Minimize(ctx, nll, results[best].X, optim.Settings{GradTol: 1e-10, MaxIter: 1000}); err != nil {
		return nil, err
	} else if res.X != nil && res.F < results[best].F {
		results[best] = res
	}
	mu, omega, a, b := unpack(results[best].X)
	g := &GARCHResult{Mu: mu * sd, Omega: omega * sd * sd, Alpha: a, Beta: b,
		Variance: make([]float64, n), Converged: results[best].Converged}
	g.LogLik = -negLogLik(r, g.Mu, g.Omega, a, b, g.Variance)
	return g, nil
}

// unpackParams maps the search's unconstrained point u to the parameters
// on the scaled returns: omega = exp(u[0]), (alpha, beta) the first two of
// a softmax over the logits (u[1], u[2], 0), mu = zmean + u[3].
func unpackParams(u []float64, zmean float64, withMean bool) (mu, omega, a, b float64) {
	omega = math.Exp(u[0])
	m := math.Max(0, math.Max(u[1], u[2]))
	ea, eb, e0 := math.Exp(u[1]-m), math.Exp(u[2]-m), math.Exp(-m)
	a, b = ea/(e0+ea+eb), eb/(e0+ea+eb)
	if withMean {
		mu = zmean + u[3]
	}
	return
}

// scaledNLL is the search's objective: the mean negative log-likelihood of
// the scaled returns z at unpackParams(u).
func scaledNLL(ctx context.Context, z []float64, zmean float64, withMean bool) func(u []float64) float64 {
	return func(u []float64) float64 {
		if ctx.Err() != nil {
			return math.Inf(1) // stops the line search; Minimize reports ctx.Err()
		}
		mu, omega, a, b := unpackParams(u, zmean, withMean)
		v := negLogLik(z, mu, omega, a, b, nil)
		if math.IsNaN(v) {
			return math.Inf(1)
		}
		return v / float64(len(z))
	}
}

// Params are GARCH(1, 1) parameters on the returns' own scale.
type Params struct {
	Mu, Omega, Alpha, Beta float64
}

// Params returns g's parameters.
func (g *GARCHResult) Params() Params {
	return Params{Mu: g.Mu, Omega: g.Omega, Alpha: g.Alpha, Beta: g.Beta}
}

// negLogLik is the GARCH(1, 1) negative log-likelihood; it stores h_t in h
// when h is not nil.
func negLogLik(r []float64, mu, omega, a, b float64, h []float64) float64 {
	n := len(r)
	h0 := 0.0
	for _, v := range r {
		e := v - mu
		h0 += e * e
	}
	h0 /= float64(n)
	ht := h0
	sum := 0.0
	prevE := 0.0
	for t, v := range r {
		e := v - mu
		if t > 0 {
			ht = omega + a*prevE*prevE + b*ht
		}
		if !(ht > 0) {
			return math.Inf(1)
		}
		if h != nil {
			h[t] = ht
		}
		sum += math.Log(2*math.Pi) + math.Log(ht) + e*e/ht
		prevE = e
	}
	return 0.5 * sum
}
