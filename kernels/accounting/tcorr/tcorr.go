// Package tcorr correlates account balance series (domains.md §9
// accounting/temporal-correlation): pairwise Pearson r on transformed
// series aligned on common dates, two-sided t-test p-values,
// Benjamini–Hochberg q-values, OLS residual anomalies against the
// strongest significant partner, expected-correlation and rolling breaks.
package tcorr

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// Series is one account's balances by day (days since 1970-01-01),
// sorted by day, days unique.
type Series struct {
	Account string
	Days    []int64
	Values  []float64
}

// Transforms.
const (
	Diff = iota
	Level
	Pct
)

// Params are the analysis parameters.
type Params struct {
	Transform             int
	Alpha, MinAbsR        float64
	Expected              []Expected
	RollingWindow         int // 0 = none
	RollingBreakThreshold float64
}

// Expected is an expected correlation between series A and B (indexes).
type Expected struct {
	A, B int
	R    float64
}

// Pair is one pair's statistics; A < B index series sorted by account.
type Pair struct {
	A, B    int
	N       int
	R, P, Q float64
	Type    string
	Days    []int64   // transformed points' days
	X, Y    []float64 // transformed A and B
}

// Anomaly is one standardised OLS residual beyond ±2.
type Anomaly struct {
	Account, Partner int
	Day              int64
	Actual, Expected float64
	Z                float64
	Type             string
}

// Break is an EXPECTED or ROLLING break.
type Break struct {
	Type    string
	A, B    int
	Day     int64 // ROLLING only
	R, RRef float64
	HasDay  bool
}

// RollingPoint is one window's r.
type RollingPoint struct {
	Day     int64
	R       float64
	Defined bool
}

// Result is the analysis.
type Result struct {
	Pairs       []Pair
	Anomalies   []Anomaly
	Breaks      []Break
	Rolling     [][]RollingPoint // per pair, when RollingWindow > 0
	Significant int
}

// Run analyses series, which must be sorted by account.
func Run(ctx context.Context, series []Series, p Params) (Result, error) {
	var res Result
	for a := range series {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		for b := a + 1; b < len(series); b++ {
			pr := Pair{A: a, B: b}
			pr.Days, pr.X, pr.Y = align(series[a], series[b], p.Transform)
			pr.N = len(pr.X)
			pr.R, pr.P = Pearson(pr.X, pr.Y)
			res.Pairs = append(res.Pairs, pr)
		}
	}
	ps := make([]float64, len(res.Pairs))
	for i, pr := range res.Pairs {
		ps[i] = pr.P
	}
	for i, q := range BH(ps) {
		pr := &res.Pairs[i]
		pr.Q, pr.Type = q, "NONE"
		if q <= p.Alpha && math.Abs(pr.R) >= p.MinAbsR {
			pr.Type = "POSITIVE"
			if pr.R < 0 {
				pr.Type = "NEGATIVE"
			}
			res.Significant++
		}
	}
	// Anomalies: each account against its strongest significant partner.
	best := make([]int, len(series))
	for i := range best {
		best[i] = -1
	}
	partner := func(pr Pair, acc int) int {
		if pr.A == acc {
			return pr.B
		}
		return pr.A
	}
	for i, pr := range res.Pairs {
		if pr.Type == "NONE" {
			continue
		}
		for _, acc := range []int{pr.A, pr.B} {
			j := best[acc]
			if j < 0 || math.Abs(pr.R) > math.Abs(res.Pairs[j].R) ||
				(math.Abs(pr.R) == math.Abs(res.Pairs[j].R) && series[partner(pr, acc)].Account < series[partner(res.Pairs[j], acc)].Account) {
				best[acc] = i
			}
		}
	}
	for acc, j := range best {
		if j < 0 {
			continue
		}
		pr := res.Pairs[j]
		y, x := pr.X, pr.Y
		if acc == pr.B {
			y, x = pr.Y, pr.X
		}
		res.Anomalies = append(res.Anomalies, residualAnomalies(acc, partner(pr, acc), pr.Days, x, y)...)
	}
	// Breaks.
	for _, e := range p.Expected {
		a, b := min(e.A, e.B), max(e.A, e.B)
		pr := res.Pairs[pairIndex(len(series), a, b)]
		if math.Abs(pr.R-e.R) > 0.3 {
			res.Breaks = append(res.Breaks, Break{Type: "EXPECTED", A: a, B: b, R: pr.R, RRef: e.R})
		}
	}
	if w := p.RollingWindow; w > 0 {
		res.Rolling = make([][]RollingPoint, len(res.Pairs))
		for i, pr := range res.Pairs {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
			var prev *RollingPoint
			for end := w; end <= pr.N; end++ {
				r, defined := pearsonR(pr.X[end-w:end], pr.Y[end-w:end])
				pt := RollingPoint{Day: pr.Days[end-1], R: r, Defined: defined}
				res.Rolling[i] = append(res.Rolling[i], pt)
				if defined && prev != nil && prev.Defined && math.Abs(r-prev.R) > p.RollingBreakThreshold {
					res.Breaks = append(res.Breaks, Break{Type: "ROLLING", A: pr.A, B: pr.B, Day: pt.Day, HasDay: true, R: r, RRef: prev.R})
				}
				prev = &res.Rolling[i][len(res.Rolling[i])-1]
			}
		}
	}
	slices.SortStableFunc(res.Anomalies, func(x, y Anomaly) int {
		return cmp.Or(strings.Compare(series[x.Account].Account, series[y.Account].Account), cmp.Compare(x.Day, y.Day))
	})
	return res, nil
}

// pairIndex is the position of pair (a, b), a < b, in row-major order.
func pairIndex(n, a, b int) int { return a*n - a*(a+1)/2 + (b - a - 1) }

// align inner-joins two day-sorted series and applies the transform.
func align(s, t Series, transform int) (days []int64, x, y []float64) {
	var d []int64
	var xs, ys []float64
	for i, j := 0, 0; i < len(s.Days) && j < len(t.Days); {
		switch {
		case s.Days[i] < t.Days[j]:
			i++
		case s.Days[i] > t.Days[j]:
			j++
		default:
			d, xs, ys = append(d, s.Days[i]), append(xs, s.Values[i]), append(ys, t.Values[j])
			i++
			j++
		}
	}
	if transform == Level {
		return d, xs, ys
	}
	if len(d) < 2 {
		return nil, nil, nil
	}
	change := func(v []float64) []float64 {
		out := make([]float64, len(v)-1)
		for i := 1; i < len(v); i++ {
			out[i-1] = v[i] - v[i-1]
			if transform == Pct {
				if v[i-1] == 0 {
					out[i-1] = 0
				} else {
					out[i-1] /= v[i-1]
				}
			}
		}
		return out
	}
	return d[1:], change(xs), change(ys)
}

// Pearson returns r and the two-sided p-value from t(n−2); r = 0, p = 1
// when n < 3 or a series is constant; p = 0 when |r| = 1.
func Pearson(x, y []float64) (r, p float64) {
	n := len(x)
	if n < 3 {
		return 0, 1
	}
	r, ok := pearsonR(x, y)
	if !ok {
		return 0, 1
	}
	if math.Abs(r) == 1 {
		return r, 0
	}
	t := math.Abs(r) * math.Sqrt(float64(n-2)/((1-r)*(1+r)))
	return r, 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 2)}.Survival(t)
}

// pearsonR is scipy's formulation: centre, normalise each vector, dot,
// clip to [−1, 1]. ok is false when a series is constant.
func pearsonR(x, y []float64) (float64, bool) {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var nx, ny float64
	for i := range x {
		nx = math.Hypot(nx, x[i]-mx)
		ny = math.Hypot(ny, y[i]-my)
	}
	if nx == 0 || ny == 0 || allEqual(x) || allEqual(y) {
		return 0, false
	}
	var r float64
	for i := range x {
		r += ((x[i] - mx) / nx) * ((y[i] - my) / ny)
	}
	return max(-1, min(1, r)), true
}

func allEqual(v []float64) bool {
	for _, x := range v[1:] {
		if x != v[0] {
			return false
		}
	}
	return true
}

// BH returns Benjamini–Hochberg adjusted p-values (statsmodels fdr_bh):
// q_(i) = min_{j ≥ i} p_(j)·m/j, capped at 1, in input order.
func BH(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[a], p[b]) })
	q := make([]float64, m)
	run := math.Inf(1)
	for k := m - 1; k >= 0; k-- {
		run = math.Min(run, p[idx[k]]*float64(m)/float64(k+1))
		q[idx[k]] = math.Min(run, 1)
	}
	return q
}

// residualAnomalies fits y = α + βx by OLS and reports |z| > 2 with
// z = e/s, s² = Σe²/(n−2).
func residualAnomalies(acc, partner int, days []int64, x, y []float64) []Anomaly {
	n := len(x)
	if n < 3 {
		return nil
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/float64(n), my/float64(n)
	var sxx, sxy float64
	for i := range x {
		sxx += (x[i] - mx) * (x[i] - mx)
		sxy += (x[i] - mx) * (y[i] - my)
	}
	if sxx == 0 {
		return nil
	}
	beta := sxy / sxx
	alpha := my - beta*mx
	e := make([]float64, n)
	var sse float64
	for i := range x {
		e[i] = y[i] - (alpha + beta*x[i])
		sse += e[i] * e[i]
	}
	s := math.Sqrt(sse / float64(n-2))
	if s == 0 {
		return nil
	}
	var out []Anomaly
	for i := range e {
		z := e[i] / s
		if math.Abs(z) > 2 {
			typ := "UNEXPECTED_HIGH"
			if z < 0 {
				typ = "UNEXPECTED_LOW"
			}
			out = append(out, Anomaly{Account: acc, Partner: partner, Day: days[i], Actual: y[i], Expected: alpha + beta*x[i], Z: z, Type: typ})
		}
	}
	return out
}
