// Package optim minimises smooth functions of a few unconstrained variables
// by BFGS with central-difference gradients, for the maximum-likelihood fits
// of the temporal kernels (ARIMA, GARCH).
//
// gonum's optimize package is not used because it pulls a module
// (golang.org/x/tools, through its CMA-ES method) that this module does not
// require. Problems here have at most a few dozen variables, so the dense
// inverse-Hessian update is cheap next to one function evaluation (a pass
// over the series), and the gradient's 2 dim evaluations run concurrently
// when the caller says the function is safe for that.
package optim

import (
	"context"
	"math"
	"runtime"
	"sync"
)

// Settings tune Minimize. Zero values take the defaults.
type Settings struct {
	GradTol   float64 // stop when max |gradient| <= GradTol (default 1e-8)
	FuncTol   float64 // stop after 3 iterations improving f by <= FuncTol (1 + |f|) (default 1e-13)
	MaxIter   int     // iteration cap (default 500)
	Step      float64 // finite-difference step relative to max(1, |x_i|) (default 6e-6)
	Parallel  bool    // f may be called concurrently: evaluate gradients in parallel
	MaxStepSz float64 // cap on the first trial step's length (default 10)
}

// Result is where Minimize stopped.
type Result struct {
	X         []float64
	F         float64
	Iter      int
	Converged bool // a tolerance was met (not the iteration cap or a stalled line search)
}

// Minimize runs BFGS from x0. f must return +Inf (not NaN) outside its
// domain. It returns ctx.Err() when ctx is done.
func Minimize(ctx context.Context, f func([]float64) float64, x0 []float64, s Settings) (Result, error) {
	if s.GradTol == 0 {
		s.GradTol = 1e-8
	}
	if s.FuncTol == 0 {
		s.FuncTol = 1e-13
	}
	if s.MaxIter == 0 {
		s.MaxIter = 500
	}
	if s.Step == 0 {
		s.Step = 6e-6
	}
	if s.MaxStepSz == 0 {
		s.MaxStepSz = 10
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	n := len(x0)
	x := append([]float64(nil), x0...)
	fx := f(x)
	if n == 0 || math.IsInf(fx, 1) || math.IsNaN(fx) {
		return Result{X: x, F: fx, Converged: n == 0}, ctx.Err()
	}
	g := make([]float64, n)
	gradient(f, x, g, s)
	h := identity(n)
	d := make([]float64, n)
	xn := make([]float64, n)
	gn := make([]float64, n)
	sv := make([]float64, n)
	yv := make([]float64, n)
	hy := make([]float64, n)
	flat := 0
	first := true
	for iter := 1; iter <= s.MaxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if maxAbs(g) <= s.GradTol {
			return Result{X: x, F: fx, Iter: iter - 1, Converged: true}, nil
		}
		// d = -H g; fall back to steepest descent if H lost positivity.
		slope := 0.0
		for i := 0; i < n; i++ {
			v := 0.0
			for j := 0; j < n; j++ {
				v -= h[i*n+j] * g[j]
			}
			d[i] = v
			slope += v * g[i]
		}
		if !(slope < 0) {
			h = identity(n)
			slope = 0
			for i := range d {
				d[i] = -g[i]
				slope -= g[i] * g[i]
			}
		}
		step := 1.0
		if norm := norm2(d); norm > s.MaxStepSz {
			step = s.MaxStepSz / norm
		}
		// Backtracking line search under the Armijo condition.
		var fn float64
		found := false
		for k := 0; k < 60; k++ {
			for i := range x {
				xn[i] = x[i] + step*d[i]
			}
			fn = f(xn)
			if fn <= fx+1e-4*step*slope {
				found = true
				break
			}
			step *= 0.5
		}
		if !found {
			// No decrease along d: the gradient is at its noise floor.
			return Result{X: x, F: fx, Iter: iter, Converged: maxAbs(g) <= 1e3*s.GradTol}, ctx.Err()
		}
		gradient(f, xn, gn, s)
		sy := 0.0
		for i := range x {
			sv[i] = xn[i] - x[i]
			yv[i] = gn[i] - g[i]
			sy += sv[i] * yv[i]
		}
		if first && sy > 0 {
			// Scale the initial inverse Hessian (Nocedal & Wright 6.20).
			yy := dot(yv, yv)
			for i := 0; i < n; i++ {
				h[i*n+i] = sy / yy
			}
			first = false
		}
		if sy > 1e-12*norm2(sv)*norm2(yv) {
			// H <- (I - rho s y') H (I - rho y s') + rho s s'
			rho := 1 / sy
			for i := 0; i < n; i++ {
				v := 0.0
				for j := 0; j < n; j++ {
					v += h[i*n+j] * yv[j]
				}
				hy[i] = v
			}
			yhy := dot(yv, hy)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					h[i*n+j] += -rho*(hy[i]*sv[j]+sv[i]*hy[j]) + (rho*rho*yhy+rho)*sv[i]*sv[j]
				}
			}
		}
		improve := fx - fn
		copy(x, xn)
		copy(g, gn)
		fx = fn
		if improve <= s.FuncTol*(1+math.Abs(fx)) {
			flat++
			if flat >= 3 {
				return Result{X: x, F: fx, Iter: iter, Converged: true}, nil
			}
		} else {
			flat = 0
		}
	}
	return Result{X: x, F: fx, Iter: s.MaxIter}, ctx.Err()
}

// gradient fills g with central differences of f at x.
func gradient(f func([]float64) float64, x, g []float64, s Settings) {
	n := len(x)
	eval := func(i int, xx []float64) {
		h := s.Step * math.Max(1, math.Abs(x[i]))
		copy(xx, x)
		xx[i] = x[i] + h
		fp := f(xx)
		xx[i] = x[i] - h
		fm := f(xx)
		g[i] = (fp - fm) / (2 * h)
		if math.IsInf(fp, 0) || math.IsInf(fm, 0) || math.IsNaN(g[i]) {
			// At the edge of the domain use the one-sided difference
			// that stays inside it.
			f0 := f(x)
			switch {
			case !math.IsInf(fp, 0):
				g[i] = (fp - f0) / h
			case !math.IsInf(fm, 0):
				g[i] = (f0 - fm) / h
			default:
				g[i] = 0
			}
		}
	}
	if !s.Parallel || n < 2 || runtime.GOMAXPROCS(0) < 2 {
		xx := make([]float64, n)
		for i := 0; i < n; i++ {
			eval(i, xx)
		}
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eval(i, make([]float64, n))
		}()
	}
	wg.Wait()
}

func identity(n int) []float64 {
	h := make([]float64, n*n)
	for i := 0; i < n; i++ {
		h[i*n+i] = 1
	}
	return h
}

func dot(a, b []float64) float64 {
	v := 0.0
	for i := range a {
		v += a[i] * b[i]
	}
	return v
}

func norm2(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func maxAbs(a []float64) float64 {
	m := 0.0
	for _, v := range a {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
