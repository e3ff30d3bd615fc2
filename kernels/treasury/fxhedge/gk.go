// Package fxhedge sizes and prices FX hedges: forwards by covered interest
// parity, options by Garman–Kohlhagen (1983, J. Int. Money Finance 2(3)),
// zero-cost collars by Brent's method, the minimum-variance hedge ratio
// (Ederington 1979) and delta-normal VaR (RiskMetrics 1996). Rates are
// continuously compounded, so forward, option and parity agree exactly.
package fxhedge

import (
	"errors"
	"math"

	"github.com/gokernels/gokernels/kernels/risk/normdist"
)

// Market is one currency pair: spot S (domestic per foreign unit), rates
// r_d and r_f, volatility σ and tenor T in years.
type Market struct {
	S, Rd, Rf, Vol, T float64
}

// Forward is F = S·e^{(r_d − r_f)T}.
func (m Market) Forward() float64 { return m.S * math.Exp((m.Rd-m.Rf)*m.T) }

func (m Market) d1d2(k float64) (float64, float64) {
	sq := m.Vol * math.Sqrt(m.T)
	d1 := (math.Log(m.S/k) + (m.Rd-m.Rf+m.Vol*m.Vol/2)*m.T) / sq
	return d1, d1 - sq
}

// Call is the Garman–Kohlhagen call price per foreign unit.
func (m Market) Call(k float64) float64 {
	d1, d2 := m.d1d2(k)
	return m.S*math.Exp(-m.Rf*m.T)*normdist.CDF(d1) - k*math.Exp(-m.Rd*m.T)*normdist.CDF(d2)
}

// Put is the Garman–Kohlhagen put price per foreign unit.
func (m Market) Put(k float64) float64 {
	d1, d2 := m.d1d2(k)
	return k*math.Exp(-m.Rd*m.T)*normdist.CDF(-d2) - m.S*math.Exp(-m.Rf*m.T)*normdist.CDF(-d1)
}

// CallDelta is the spot delta e^{−r_f T}Φ(d1).
func (m Market) CallDelta(k float64) float64 {
	d1, _ := m.d1d2(k)
	return math.Exp(-m.Rf*m.T) * normdist.CDF(d1)
}

// PutDelta is the spot delta −e^{−r_f T}Φ(−d1).
func (m Market) PutDelta(k float64) float64 {
	d1, _ := m.d1d2(k)
	return -math.Exp(-m.Rf*m.T) * normdist.CDF(-d1)
}

// ErrNoRoot reports a collar strike that no bracket contains.
var ErrNoRoot = errors.New("no strike makes the premiums equal")

// StrikeFor returns the strike whose call (call true) or put price equals
// target, by Brent's method to an absolute strike tolerance of 1e-13·S.
func (m Market) StrikeFor(call bool, target float64) (float64, error) {
	f := func(k float64) float64 {
		if call {
			return m.Call(k) - target
		}
		return m.Put(k) - target
	}
	// The call price falls and the put price rises with the strike: bracket
	// the root between a tiny strike and one doubled until the sign flips.
	lo, hi := m.S*1e-6, m.S
	for i := 0; f(lo)*f(hi) > 0; i++ {
		if i == 60 {
			return 0, ErrNoRoot
		}
		hi *= 2
	}
	return brent(f, lo, hi, 1e-13*m.S)
}

// brent finds a root of f in [a, b] (f(a)·f(b) ≤ 0): Brent (1973), as in
// scipy.optimize.brentq.
func brent(f func(float64) float64, a, b, xtol float64) (float64, error) {
	fa, fb := f(a), f(b)
	if fa == 0 {
		return a, nil
	}
	if fb == 0 {
		return b, nil
	}
	c, fc := a, fa
	d := b - a
	e := d
	for range 200 {
		if fb*fc > 0 {
			c, fc = a, fa
			d = b - a
			e = d
		}
		if math.Abs(fc) < math.Abs(fb) {
			a, b, c = b, c, b
			fa, fb, fc = fb, fc, fb
		}
		tol := 2*2.220446049250313e-16*math.Abs(b) + xtol/2
		m := (c - b) / 2
		if math.Abs(m) <= tol || fb == 0 {
			return b, nil
		}
		if math.Abs(e) >= tol && math.Abs(fa) > math.Abs(fb) {
			var p, q float64
			s := fb / fa
			if a == c {
				p = 2 * m * s
				q = 1 - s
			} else {
				q0 := fa / fc
				r := fb / fc
				p = s * (2*m*q0*(q0-r) - (b-a)*(r-1))
				q = (q0 - 1) * (r - 1) * (s - 1)
			}
			if p > 0 {
				q = -q
			} else {
				p = -p
			}
			if 2*p < math.Min(3*m*q-math.Abs(tol*q), math.Abs(e*q)) {
				e = d
				d = p / q
			} else {
				d = m
				e = m
			}
		} else {
			d = m
			e = m
		}
		a, fa = b, fb
		if math.Abs(d) > tol {
			b += d
		} else if m > 0 {
			b += tol
		} else {
			b -= tol
		}
		fb = f(b)
	}
	return b, nil
}
