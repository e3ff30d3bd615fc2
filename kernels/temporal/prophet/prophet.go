// Package prophet fits a Prophet-style additive model by ordinary least
// squares: a piecewise-linear trend with changepoints plus Fourier
// seasonalities,
//
//	y(t) = k + m s + sum_j delta_j (s - s_j)_+ + sum_P sum_k [a sin(2 pi k t / P) + b cos(2 pi k t / P)],
//
// with s = (t - t_0) / (t_{n-1} - t_0). The changepoints sit where Prophet
// puts them (evenly over the first changepoint_range of the rows); unlike
// Prophet there is no prior, so the fit is the minimum-norm least-squares
// solution numpy.linalg.lstsq gives for the same design.
//
// The design is never held in memory: row chunks are reduced in parallel to
// the triangular factor of [X | y] by Householder QR, the chunk factors are
// merged in order, and the small system is solved through an SVD of R (the
// singular values of X) with lstsq's rank cut-off.
package prophet

import (
	"context"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Seasonality is one Fourier block.
type Seasonality struct {
	Period float64 // in time-axis units
	Order  int     // sin/cos pairs k = 1..Order
}

// Params configure the fit.
type Params struct {
	NChangepoints    int
	ChangepointRange float64 // fraction of the rows, (0, 1]
	Seasonalities    []Seasonality
	Horizon          int // future steps to forecast
}

// Result is the fitted decomposition and forecast.
type Result struct {
	Trend, Seasonal, Residual []float64
	Forecast, ForecastTrend   []float64
	ForecastTimes             []float64
	Changepoints, Deltas      []float64 // times and slope changes per time unit
	GrowthRate, Offset        float64
	SeasonalCoefficients      []float64
	RSS                       float64
}

// Columns is the number of design columns for n points and p, so callers
// can bound n * Columns before fitting.
func Columns(n int, p Params) int {
	c := 2 + len(changepointRows(n, p))
	for _, s := range p.Seasonalities {
		c += 2 * s.Order
	}
	return c
}

// changepointRows are Prophet's changepoint rows:
// round(linspace(0, h - 1, n_changepoints + 1))[1:] with
// h = floor(changepoint_range n), rounding half to even as numpy does,
// without repeats and without row 0 (a ramp from the first row would
// duplicate the slope column).
func changepointRows(n int, p Params) []int {
	h := int(math.Floor(float64(n) * p.ChangepointRange))
	if p.NChangepoints <= 0 || h < 2 {
		return nil
	}
	step := float64(h-1) / float64(p.NChangepoints)
	var rows []int
	for i := 1; i <= p.NChangepoints; i++ {
		v := float64(i) * step
		if i == p.NChangepoints {
			v = float64(h - 1) // numpy.linspace sets the endpoint exactly
		}
		r := int(math.RoundToEven(v))
		if r > 0 && (len(rows) == 0 || rows[len(rows)-1] != r) {
			rows = append(rows, r)
		}
	}
	return rows
}

// design writes the design row at time t into row.
type design struct {
	t0, scale float64
	cps       []float64 // changepoints on the scaled axis
	seas      []Seasonality
}

func (d *design) row(t float64, row []float64) {
	s := (t - d.t0) / d.scale
	row[0] = 1
	row[1] = s
	c := 2
	for _, cp := range d.cps {
		row[c] = math.Max(s-cp, 0)
		c++
	}
	for _, se := range d.seas {
		for k := 1; k <= se.Order; k++ {
			a := 2 * math.Pi * float64(k) * t / se.Period
			row[c] = math.Sin(a)
			row[c+1] = math.Cos(a)
			c += 2
		}
	}
}

// Fit fits the model to y at times t (strictly increasing, len >= 2).
func Fit(ctx context.Context, t, y []float64, p Params) (*Result, error) {
	n := len(y)
	rows := changepointRows(n, p)
	d := &design{t0: t[0], scale: t[n-1] - t[0], seas: p.Seasonalities}
	for _, r := range rows {
		d.cps = append(d.cps, (t[r]-d.t0)/d.scale)
	}
	cols := Columns(n, p)
	nt := 2 + len(rows)
	r, err := triangular(ctx, d, t, y, cols)
	if err != nil {
		return nil, err
	}
	beta, err := minNormSolve(r, cols, n)
	if err != nil {
		return nil, err
	}
	res := &Result{
		Trend: make([]float64, n), Seasonal: make([]float64, n), Residual: make([]float64, n),
		GrowthRate: beta[1] / d.scale, Offset: beta[0],
		SeasonalCoefficients: slices.Clone(beta[nt:]),
	}
	for _, row := range rows {
		res.Changepoints = append(res.Changepoints, t[row])
	}
	for j := 2; j < nt; j++ {
		res.Deltas = append(res.Deltas, beta[j]/d.scale)
	}
	err = par.Ranges(ctx, n, 4096, func(lo, hi int) {
		row := make([]float64, cols)
		for i := lo; i < hi; i++ {
			d.row(t[i], row)
			res.Trend[i], res.Seasonal[i] = split(row, beta, nt)
			// One subtraction, so (trend + seasonal) + residual gives
			// values back exactly whenever the fit is within a factor
			// of two of the value (Sterbenz), and to one rounding
			// otherwise.
			res.Residual[i] = y[i] - (res.Trend[i] + res.Seasonal[i])
		}
	})
	if err != nil {
		return nil, err
	}
	for _, v := range res.Residual {
		res.RSS += v * v
	}
	if p.Horizon > 0 {
		diffs := make([]float64, n-1)
		for i := range diffs {
			diffs[i] = t[i+1] - t[i]
		}
		step := median(diffs)
		row := make([]float64, cols)
		for h := 1; h <= p.Horizon; h++ {
			ft := t[n-1] + step*float64(h)
			d.row(ft, row)
			tr, _ := split(row, beta, nt)
			res.ForecastTimes = append(res.ForecastTimes, ft)
			res.ForecastTrend = append(res.ForecastTrend, tr)
			res.Forecast = append(res.Forecast, dot(row, beta))
		}
	}
	return res, nil
}

// split returns the trend part (first nt columns) and the seasonal part of
// row . beta.
func split(row, beta []float64, nt int) (trend, seasonal float64) {
	return dot(row[:nt], beta[:nt]), dot(row[nt:], beta[nt:])
}

func dot(a, b []float64) float64 {
	v := 0.0
	for i := range a {
		v += a[i] * b[i]
	}
	return v
}

const chunkRows = 2048

// triangular returns the (cols+1) x (cols+1) upper-triangular factor R of
// the augmented design [X | y]: chunk factors are computed in parallel and
// merged in chunk order, so the result does not depend on scheduling.
func triangular(ctx context.Context, d *design, t, y []float64, cols int) (*mat.Dense, error) {
	n := len(y)
	w := cols + 1
	nchunks := (n + chunkRows - 1) / chunkRows
	factors := make([]*mat.Dense, nchunks)
	err := par.Ranges(ctx, nchunks, 1, func(lo, hi int) {
		row := make([]float64, cols)
		for c := lo; c < hi; c++ {
			a, b := c*chunkRows, min((c+1)*chunkRows, n)
			// Zero rows on top keep the block at least as tall as wide.
			m := mat.NewDense(w+b-a, w, nil)
			for i := a; i < b; i++ {
				d.row(t[i], row)
				for j, v := range row {
					m.Set(w+i-a, j, v)
				}
				m.Set(w+i-a, cols, y[i])
			}
			factors[c] = qrR(m)
		}
	})
	if err != nil {
		return nil, err
	}
	r := factors[0]
	for c := 1; c < nchunks; c++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		stack := mat.NewDense(2*w, w, nil)
		stack.Slice(0, w, 0, w).(*mat.Dense).Copy(r)
		stack.Slice(w, 2*w, 0, w).(*mat.Dense).Copy(factors[c])
		r = qrR(stack)
	}
	return r, nil
}

// qrR is the square upper-triangular factor of a tall matrix.
func qrR(m *mat.Dense) *mat.Dense {
	_, w := m.Dims()
	var qr mat.QR
	qr.Factorize(m)
	var r mat.Dense
	qr.RTo(&r)
	out := mat.NewDense(w, w, nil)
	out.Copy(r.Slice(0, w, 0, w))
	return out
}

// minNormSolve solves min |R beta - z| for the augmented factor [R z; 0 rho]
// with numpy.linalg.lstsq's rule: singular values at most
// eps max(n, cols) s_max count as zero, and the minimum-norm solution is
// returned.
func minNormSolve(raug *mat.Dense, cols, n int) ([]float64, error) {
	r := raug.Slice(0, cols, 0, cols)
	z := mat.NewVecDense(cols, nil)
	for i := 0; i < cols; i++ {
		z.SetVec(i, raug.At(i, cols))
	}
	var svd mat.SVD
	if !svd.Factorize(r, mat.SVDFull) {
		return nil, errSVD
	}
	s := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	cut := 2.220446049250313e-16 * float64(max(n, cols)) * s[0]
	beta := make([]float64, cols)
	for k, sv := range s {
		if !(sv > cut) {
			continue
		}
		c := 0.0
		for i := 0; i < cols; i++ {
			c += u.At(i, k) * z.AtVec(i)
		}
		c /= sv
		for j := 0; j < cols; j++ {
			beta[j] += c * v.At(j, k)
		}
	}
	return beta, nil
}

// errSVD: LAPACK's SVD gives up on factors of denormal or wildly scaled
// values; the client can fix that by rescaling, so it is a field error.
var errSVD = kerr.Invalid("values", "the least-squares fit did not converge (SVD): values this tiny or ill-scaled cannot be fitted; rescale them")

// median sorts x in place and returns numpy.median(x).
func median(x []float64) float64 {
	slices.Sort(x)
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}
