package arima

import (
	"context"
	"math"
)

// diffuseVariance is the prior variance of the differencing states,
// statsmodels' approximate diffuse initialisation (initial_variance = 1e6).
const diffuseVariance = 1e6

// fullFilter runs the Kalman filter of the whole ARIMA(p, d, q) model on the
// undifferenced series, laid out as statsmodels' SARIMAX: the state is
// (y_{t-1}, Delta y_{t-1}, ..., Delta^{d-1} y_{t-1}, alpha_t) with the
// differencing states approximately diffuse (variance 1e6) and the ARMA
// states at their stationary covariance. It yields the one-step predictions
// (statsmodels' fittedvalues), the log-likelihood with the first d
// observations burned (statsmodels' llf), and the predictive state after the
// last observation for forecasting.
type fullFilter struct {
	k      int       // states: d + r
	d      int       // differencing order
	z      []float64 // design row
	t      []float64 // transition, k x k
	rq     []float64 // R Q R', k x k
	a      []float64 // predicted state
	p      []float64 // predicted covariance
	mean   float64
	fitted []float64
	ll     float64
}

func newFullFilter(s system, d int, sigma2, mean float64) (*fullFilter, bool) {
	pa, ok := s.stationaryCov()
	if !ok {
		return nil, false
	}
	r := s.r
	k := d + r
	f := &fullFilter{k: k, d: d, mean: mean,
		z: make([]float64, k), t: make([]float64, k*k), rq: make([]float64, k*k),
		a: make([]float64, k), p: make([]float64, k*k)}
	for i := 0; i <= d; i++ {
		f.z[i] = 1 // y_t = sum of the differencing states + the ARMA output
	}
	for i := 0; i < d; i++ {
		for j := i; j <= d; j++ {
			f.t[i*k+j] = 1 // Delta^i y_t = sum_{j >= i} Delta^j y_{t-1} + w_t
		}
	}
	for i := 0; i < r; i++ {
		f.t[(d+i)*k+d] = s.phi[i]
		if i+1 < r {
			f.t[(d+i)*k+d+i+1] = 1
		}
		for j := 0; j < r; j++ {
			f.rq[(d+i)*k+d+j] = sigma2 * s.rv[i] * s.rv[j]
			f.p[(d+i)*k+d+j] = sigma2 * pa[i*r+j]
		}
	}
	for i := 0; i < d; i++ {
		f.p[i*k+i] = diffuseVariance
	}
	return f, true
}

// run filters y, filling fitted and ll.
func (f *fullFilter) run(ctx context.Context, y []float64) error {
	k := f.k
	f.fitted = make([]float64, len(y))
	pz := make([]float64, k)
	au := make([]float64, k)
	pu := make([]float64, k*k)
	tmp := make([]float64, k*k)
	prev := make([]float64, k*k)
	steady := false
	var fv float64
	for t, obs := range y {
		if t&0xfff == 0xfff {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		pred := f.mean
		for i := 0; i < k; i++ {
			pred += f.z[i] * f.a[i]
		}
		f.fitted[t] = pred
		if !steady {
			for i := 0; i < k; i++ {
				v := 0.0
				for j := 0; j < k; j++ {
					v += f.p[i*k+j] * f.z[j]
				}
				pz[i] = v
			}
			fv = 0
			for i := 0; i < k; i++ {
				fv += f.z[i] * pz[i]
			}
		}
		v := obs - pred
		if t >= f.d {
			f.ll += -0.5 * (math.Log(2*math.Pi) + math.Log(fv) + v*v/fv)
		}
		for i := 0; i < k; i++ {
			au[i] = f.a[i] + pz[i]*v/fv
		}
		if steady {
			f.advance(au)
			continue
		}
		for i := 0; i < k; i++ {
			for j := 0; j < k; j++ {
				pu[i*k+j] = f.p[i*k+j] - pz[i]*pz[j]/fv
			}
		}
		copy(prev, f.p)
		f.predict(au, pu, tmp)
		// Once the covariance stops moving (after the diffuse start) the
		// gain is constant: only the state mean needs updating, O(k^2).
		if t >= f.d {
			change, scale := 0.0, 0.0
			for i := range prev {
				change = math.Max(change, math.Abs(f.p[i]-prev[i]))
				scale = math.Max(scale, math.Abs(f.p[i]))
			}
			steady = change <= steadyTol*scale
		}
	}
	return nil
}

// advance sets a = T au, leaving the covariance as it is.
func (f *fullFilter) advance(au []float64) {
	k := f.k
	for i := 0; i < k; i++ {
		v := 0.0
		for j := 0; j < k; j++ {
			v += f.t[i*k+j] * au[j]
		}
		f.a[i] = v
	}
}

// predict sets a = T au and p = T pu T' + R Q R'.
func (f *fullFilter) predict(au, pu, tmp []float64) {
	f.advance(au)
	k := f.k
	matMul(f.t, pu, tmp, k)
	matMulT(tmp, f.t, f.p, k)
	for i := range f.p {
		f.p[i] += f.rq[i]
	}
}

// forecast extends the filter h steps without observations: the predicted
// means and their standard errors sqrt(Z P Z').
func (f *fullFilter) forecast(h int) (mean, se []float64) {
	k := f.k
	mean = make([]float64, h)
	se = make([]float64, h)
	au := append([]float64(nil), f.a...)
	pu := append([]float64(nil), f.p...)
	tmp := make([]float64, k*k)
	for step := 0; step < h; step++ {
		m, v := f.mean, 0.0
		for i := 0; i < k; i++ {
			m += f.z[i] * f.a[i]
			for j := 0; j < k; j++ {
				v += f.z[i] * f.p[i*k+j] * f.z[j]
			}
		}
		mean[step] = m
		se[step] = math.Sqrt(math.Max(v, 0))
		copy(au, f.a)
		copy(pu, f.p)
		f.predict(au, pu, tmp)
	}
	return mean, se
}
