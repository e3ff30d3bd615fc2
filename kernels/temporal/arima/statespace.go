package arima

import (
	"context"
	"math"
)

// system is the Harvey state-space form of a zero-mean ARMA(p, q) process
// with unit innovation variance, the form statsmodels' SARIMAX uses:
//
//	x_t = Z alpha_t,  alpha_{t+1} = T alpha_t + R eps_{t+1},
//
// with r = max(p, q + 1) states, Z = e_1, T the companion matrix with phi in
// its first column and ones on the superdiagonal, and R = (1, theta_1, ...,
// theta_{r-1})'. The structure of T lets every product with it cost O(r)
// per row instead of a dense O(r^2).
type system struct {
	r   int
	phi []float64 // first column of T, length r (zero padded)
	rv  []float64 // R, length r
}

func newSystem(ar, ma []float64) system {
	r := max(len(ar), len(ma)+1)
	s := system{r: r, phi: make([]float64, r), rv: make([]float64, r)}
	copy(s.phi, ar)
	s.rv[0] = 1
	copy(s.rv[1:], ma)
	return s
}

// tmul writes T m (m is r x r, row-major) into out.
func (s system) tmul(m, out []float64) {
	r := s.r
	for i := 0; i < r; i++ {
		for j := 0; j < r; j++ {
			v := s.phi[i] * m[j]
			if i+1 < r {
				v += m[(i+1)*r+j]
			}
			out[i*r+j] = v
		}
	}
}

// sandwich writes T m T' + R R' into out, using tmp as scratch.
func (s system) sandwich(m, tmp, out []float64) {
	r := s.r
	s.tmul(m, tmp) // tmp = T m
	for i := 0; i < r; i++ {
		for j := 0; j < r; j++ {
			v := s.phi[j] * tmp[i*r]
			if j+1 < r {
				v += tmp[i*r+j+1]
			}
			out[i*r+j] = v + s.rv[i]*s.rv[j]
		}
	}
}

// stationaryCov solves the Lyapunov equation P = T P T' + R R' by doubling:
// P = sum_k T^k R R' T'^k, summed 2^j terms at a time, which converges in
// O(log) steps for any stationary T. ok is false when it does not settle
// (a root on or outside the unit circle).
func (s system) stationaryCov() (p []float64, ok bool) {
	r := s.r
	p = make([]float64, r*r)
	for i := 0; i < r; i++ {
		for j := 0; j < r; j++ {
			p[i*r+j] = s.rv[i] * s.rv[j]
		}
	}
	if r == 1 {
		den := 1 - s.phi[0]*s.phi[0]
		if !(den > 0) {
			return nil, false
		}
		p[0] /= den
		return p, true
	}
	a := make([]float64, r*r) // A = T^(2^j)
	for i := 0; i < r; i++ {
		a[i*r] = s.phi[i]
		if i+1 < r {
			a[i*r+i+1] = 1
		}
	}
	ap := make([]float64, r*r)
	apa := make([]float64, r*r)
	a2 := make([]float64, r*r)
	for iter := 0; iter < 200; iter++ {
		matMul(a, p, ap, r)
		matMulT(ap, a, apa, r) // A P A'
		diff, scale := 0.0, 0.0
		for i := range p {
			p[i] += apa[i]
			diff = math.Max(diff, math.Abs(apa[i]))
			scale = math.Max(scale, math.Abs(p[i]))
		}
		if math.IsNaN(diff) || math.IsInf(scale, 0) {
			return nil, false
		}
		if diff <= 1e-16*scale {
			return p, true
		}
		matMul(a, a, a2, r)
		a, a2 = a2, a
	}
	return nil, false
}

// matMul writes a b into out (all n x n, row-major).
func matMul(a, b, out []float64, n int) {
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := 0.0
			for k := 0; k < n; k++ {
				v += a[i*n+k] * b[k*n+j]
			}
			out[i*n+j] = v
		}
	}
}

// matMulT writes a b' into out.
func matMulT(a, b, out []float64, n int) {
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := 0.0
			for k := 0; k < n; k++ {
				v += a[i*n+k] * b[j*n+k]
			}
			out[i*n+j] = v
		}
	}
}

// steadyTol is the largest change of the state covariance below which the
// filter is treated as converged: from then on the gain is constant and
// each step costs O(r) (statsmodels does the same once P settles).
const steadyTol = 1e-13

// update advances the predicted state a by one observation with gain k
// and innovation v: a <- T (a + k v), using au as scratch.
func (s system) update(a, au, k []float64, v float64) {
	r := s.r
	for i := 0; i < r; i++ {
		au[i] = a[i] + k[i]*v
	}
	for i := 0; i < r-1; i++ {
		a[i] = s.phi[i]*au[0] + au[i+1]
	}
	a[r-1] = s.phi[r-1] * au[0]
}

// concentrated is the exact Gaussian log-likelihood of the series w - mu
// under the system, with the innovation variance profiled out:
// sigma2 = mean(v_t^2 / F_t) and
// ll = -N/2 (ln(2 pi sigma2) + 1) - 1/2 sum ln F_t.
// It returns -Inf for a non-stationary system and ctx.Err() on cancellation.
func (s system) concentrated(ctx context.Context, w []float64, mu float64) (ll, sigma2 float64, err error) {
	p, ok := s.stationaryCov()
	if !ok {
		return math.Inf(-1), 0, nil
	}
	r := s.r
	a := make([]float64, r)
	au := make([]float64, r)
	pu := make([]float64, r*r)
	tmp := make([]float64, r*r)
	next := make([]float64, r*r)
	k := make([]float64, r)
	var sumLogF, sumV2F float64
	t := 0
	// Transient phase: the covariance still moves.
	for ; t < len(w); t++ {
		if t&0x3fff == 0x3fff {
			if err := ctx.Err(); err != nil {
				return 0, 0, err
			}
		}
		f := p[0]
		if !(f > 0) {
			return math.Inf(-1), 0, nil
		}
		for i := 0; i < r; i++ {
			k[i] = p[i*r] / f
		}
		v := w[t] - mu - a[0]
		sumLogF += math.Log(f)
		sumV2F += v * v / f
		s.update(a, au, k, v)
		for i := 0; i < r; i++ {
			for j := 0; j < r; j++ {
				pu[i*r+j] = p[i*r+j] - k[i]*p[j]
			}
		}
		s.sandwich(pu, tmp, next)
		change := 0.0
		for i := range p {
			change = math.Max(change, math.Abs(next[i]-p[i]))
		}
		p, next = next, p
		if change < steadyTol {
			t++
			break
		}
	}
	// Steady state: constant gain and prediction variance, O(r) a step.
	if t < len(w) {
		f := p[0]
		if !(f > 0) {
			return math.Inf(-1), 0, nil
		}
		for i := 0; i < r; i++ {
			k[i] = p[i*r] / f
		}
		sumLogF += float64(len(w)-t) * math.Log(f)
		ss := 0.0
		for ; t < len(w); t++ {
			if t&0xffff == 0xffff {
				if err := ctx.Err(); err != nil {
					return 0, 0, err
				}
			}
			v := w[t] - mu - a[0]
			ss += v * v
			s.update(a, au, k, v)
		}
		sumV2F += ss / f
	}
	n := float64(len(w))
	sigma2 = sumV2F / n
	if !(sigma2 > 0) {
		return math.Inf(-1), 0, nil
	}
	ll = -n/2*(math.Log(2*math.Pi*sigma2)+1) - sumLogF/2
	return ll, sigma2, nil
}
