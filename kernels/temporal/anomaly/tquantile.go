package anomaly

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// studentTQuantile is scipy.stats.t.ppf(p, df) to about 1e-14 relative for
// the whole-number df of the generalized ESD test.
//
// gonum's StudentsT.Quantile inverts the regularized incomplete beta with
// cephes' incbi and evaluates it with incbet, each good to only ~1e-10
// relative (issue 13: 1e-6 at alpha 1e-6, n 1500, p = 1 − 3.3e-10). Its
// answer is the start of Newton steps on the upper tail Q(t) = P(T > t),
// evaluated by studentTUpper without cancellation. Q is convex and
// decreasing for t > 0, so Newton converges monotonically after its first
// step. The tail probability 1 − p is exact in floating point for p ≥ ½
// (Sterbenz), so this is the quantile of the same double p scipy receives.
func studentTQuantile(p, df float64) float64 {
	if p == 0.5 {
		return 0
	}
	if p < 0.5 {
		return -studentTQuantile(1-p, df)
	}
	q := 1 - p
	d := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	t := d.Quantile(p)
	if !(t > 0) || math.IsInf(t, 0) {
		return t
	}
	for range 50 {
		next := t + (studentTUpper(t, df)-q)/d.Prob(t)
		if !(next > 0) {
			next = t / 2 // stay in t > 0, where Q is convex
		}
		if math.Abs(next-t) <= 2e-16*t {
			return next
		}
		t = next
	}
	return t
}

// maxTailTerms bounds studentTUpper's series; beyond it (t² ≪ df, where
// x = df/(df+t²) is within 1e-3 of 1) gonum's incbet is used instead.
const maxTailTerms = 40000

// studentTUpper is P(T > t) for t > 0 and whole-number df: ½ I_x(a, ½) with
// a = df/2, x = df/(df+t²), summed downward from the recurrence
// I_x(a, b) = I_x(a+1, b) + x^a (1−x)^b / (a B(a, b)), whose terms are all
// positive (no cancellation) and shrink by x(a+j+½)/(a+j+1). The first term
// avoids pow and lgamma, whose errors grow with a: x^a is
// exp(−a log1p(t²/df)) and 1/(a B(a, ½)) = Γ(a+½)/(Γ(a+1)√π) is a product
// of df/2 ratios of small integers.
func studentTUpper(t, df float64) float64 {
	y := t * t / df
	x := 1 / (1 + y)
	if df != math.Trunc(df) || df > 1e6 || (1-x)*maxTailTerms < 40 {
		return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(t)
	}
	a := df / 2
	term := math.Exp(-a*math.Log1p(y)) * math.Sqrt(y/(1+y)) * halfGammaRatio(int(df))
	sum := 0.0
	for j := 0; j < maxTailTerms && term > sum*1e-17; j++ {
		sum += term
		term *= x * (a + float64(j) + 0.5) / (a + float64(j) + 1)
	}
	return sum / 2
}

// halfGammaRatio is Γ(a+½)/(Γ(a+1)√π) for a = df/2: ∏_{i≤k} (2i−1)/(2i)
// for df = 2k, and (2/π) ∏_{i≤k} 2i/(2i+1) for df = 2k+1.
func halfGammaRatio(df int) float64 {
	k := df / 2
	r := 1.0
	if df%2 == 0 {
		for i := 1; i <= k; i++ {
			r *= float64(2*i-1) / float64(2*i)
		}
		return r
	}
	r = 2 / math.Pi
	for i := 1; i <= k; i++ {
		r *= float64(2*i) / float64(2*i+1)
	}
	return r
}
