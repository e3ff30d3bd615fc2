package causalgraph

import "math"

// grangerF is the ssr-F test of whether x Granger-causes y at lag L: OLS
// with intercept over t = L..n−1, restricted on y[t−1..t−L], unrestricted
// adding x[t−1..t−L]. ok is false on a degenerate design (too few points,
// a constant series or lagged column, rank deficiency).
func grangerF(y, x []float64, L int) (f, p float64, ok bool) {
	n := len(y)
	if n <= 3*L+1 || constant(y) || constant(x) {
		return 0, 0, false
	}
	nobs := n - L
	target := y[L:]
	cols := func(s []float64) [][]float64 {
		var c [][]float64
		for l := 1; l <= L; l++ {
			col := s[L-l : n-l]
			if constant(col) {
				return nil
			}
			c = append(c, col)
		}
		return c
	}
	ly, lx := cols(y), cols(x)
	if ly == nil || lx == nil {
		return 0, 0, false
	}
	ones := make([]float64, nobs)
	for i := range ones {
		ones[i] = 1
	}
	rssR, okR := rss(target, append([][]float64{ones}, ly...))
	rssU, okU := rss(target, append(append([][]float64{ones}, ly...), lx...))
	if !okR || !okU {
		return 0, 0, false
	}
	df2 := float64(nobs - 2*L - 1)
	f = ((rssR - rssU) / float64(L)) / (rssU / df2)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, 0, false
	}
	return f, fSurvival(f, float64(L), df2), true
}

func constant(s []float64) bool {
	for _, v := range s {
		if v != s[0] {
			return false
		}
	}
	return true
}

// rss is the residual sum of squares of y on the columns by modified
// Gram–Schmidt (with one re-orthogonalisation); ok is false when a column
// is (numerically) in the span of the previous ones.
func rss(y []float64, cols [][]float64) (float64, bool) {
	var q [][]float64
	for _, c := range cols {
		v := append([]float64(nil), c...)
		norm0 := math.Sqrt(dot(v, v))
		for pass := 0; pass < 2; pass++ {
			for _, u := range q {
				d := dot(u, v)
				for i := range v {
					v[i] -= d * u[i]
				}
			}
		}
		norm := math.Sqrt(dot(v, v))
		if norm <= 1e-10*math.Max(norm0, 1) {
			return 0, false
		}
		for i := range v {
			v[i] /= norm
		}
		q = append(q, v)
	}
	r := append([]float64(nil), y...)
	for pass := 0; pass < 2; pass++ {
		for _, u := range q {
			d := dot(u, r)
			for i := range r {
				r[i] -= d * u[i]
			}
		}
	}
	return dot(r, r), true
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// fSurvival is P(F > f) for F ~ F(d1, d2): I_{d2/(d2+d1 f)}(d2/2, d1/2).
func fSurvival(f, d1, d2 float64) float64 {
	if f <= 0 {
		return 1
	}
	return regIncBeta(d2/2, d1/2, d2/(d2+d1*f))
}

// regIncBeta is the regularised incomplete beta I_x(a, b) by Lentz's
// continued fraction (Numerical Recipes §6.4).
func regIncBeta(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

func betaCF(a, b, x float64) float64 {
	const tiny = 1e-300
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return h
}
