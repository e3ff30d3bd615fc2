// Package anomaly flags outlying points of a series by z-score, by Tukey's
// IQR fences, or by Rosner's generalized ESD test, with the semantics of the
// SciPy / NumPy references named on each function.
package anomaly

import (
	"context"
	"math"
	"slices"
)

// Result is the outcome of one method.
type Result struct {
	Indices      []int     // anomalies, ascending
	Scores       []float64 // one per point
	Lower, Upper float64   // value bounds ("zscore", "iqr")
	// Generalized ESD only, in the order the test removed the points.
	Candidates []int
	Statistics []float64
	Critical   []float64
}

// ZScore scores each point by (x - mean) / std with the population standard
// deviation (scipy.stats.zscore) and flags |score| > threshold. A constant
// series scores 0 everywhere (SciPy would give NaN).
func ZScore(x []float64, threshold float64) Result {
	mean, sd := meanStd(x, 0)
	res := Result{Scores: make([]float64, len(x)), Lower: mean - threshold*sd, Upper: mean + threshold*sd}
	if !(sd > 0) {
		return res
	}
	for i, v := range x {
		z := (v - mean) / sd
		res.Scores[i] = z
		if math.Abs(z) > threshold {
			res.Indices = append(res.Indices, i)
		}
	}
	return res
}

// IQR scores each point by its distance beyond the quartiles in units of the
// interquartile range, max(q1 - x, x - q3, 0) / (q3 - q1), with
// numpy.percentile's linear interpolation, and flags scores above
// multiplier (points outside Tukey's fences). When q3 = q1 the distance is
// left unscaled and any point outside [q1, q3] is flagged.
func IQR(x []float64, multiplier float64) Result {
	sorted := slices.Clone(x)
	slices.Sort(sorted)
	q1, q3 := percentile(sorted, 25), percentile(sorted, 75)
	iqr := q3 - q1
	res := Result{Scores: make([]float64, len(x)), Lower: q1 - multiplier*iqr, Upper: q3 + multiplier*iqr}
	for i, v := range x {
		d := math.Max(math.Max(q1-v, v-q3), 0)
		if iqr > 0 {
			d /= iqr
			if d > multiplier {
				res.Indices = append(res.Indices, i)
			}
		} else if d > 0 {
			res.Indices = append(res.Indices, i)
		}
		res.Scores[i] = d
	}
	return res
}

// percentile is numpy.percentile(sorted, q) with linear interpolation.
func percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	pos := q / 100 * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return sorted[n-1]
	}
	frac := pos - float64(lo)
	// numpy's _lerp: a + (b - a) t, switched to b - (b - a)(1 - t) for t >= 0.5.
	a, b := sorted[lo], sorted[lo+1]
	if frac >= 0.5 {
		return b - (b-a)*(1-frac)
	}
	return a + (b-a)*frac
}

// ESD runs Rosner's (1983) generalized extreme Studentized deviate test for
// up to r outliers at level alpha. Step i removes the point farthest from
// the mean of the remaining points (the first such point on ties, as
// numpy.argmax), with statistic R_i = |x - mean| / s (s with ddof 1) and
// critical value lambda_i = (n - i) t / sqrt((n - i - 1 + t^2)(n - i + 1)),
// t = scipy.stats.t.ppf(1 - alpha / (2 (n - i + 1)), n - i - 1). The
// outliers are the first k removed points, k the largest i with R_i >
// lambda_i. Scores are |x - mean| / s over the whole series. It needs
// 1 <= r <= n - 2.
//
// The farthest point is always the smallest or the largest one left, so the
// points are sorted once and each step costs O(1): O(n log n) in all.
func ESD(ctx context.Context, x []float64, alpha float64, r int) (Result, error) {
	n := len(x)
	mean, sd := meanStd(x, 1)
	res := Result{Scores: make([]float64, n)}
	for i, v := range x {
		if sd > 0 {
			res.Scores[i] = math.Abs(v-mean) / sd
		}
	}
	// Running sums of x - shift keep the variance accurate for series far
	// from zero.
	shift := mean
	var s1, s2 float64
	for _, v := range x {
		d := v - shift
		s1 += d
		s2 += d * d
	}
	asc := make([]int, n)  // by value, then index
	desc := make([]int, n) // by value descending, then index
	for i := range asc {
		asc[i], desc[i] = i, i
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	// Ties by index make the order total, so an unstable sort is
	// deterministic.
	slices.SortFunc(asc, func(a, b int) int {
		if c := cmpFloat(x[a], x[b]); c != 0 {
			return c
		}
		return a - b
	})
	slices.SortFunc(desc, func(a, b int) int {
		if c := cmpFloat(x[b], x[a]); c != 0 {
			return c
		}
		return a - b
	})
	removed := make([]bool, n)
	lo, hi := 0, 0
	k := 0
	for i := 1; i <= r; i++ {
		if i&0x3ff == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
		}
		m := float64(n - i + 1) // points left before this step
		for removed[asc[lo]] {
			lo++
		}
		for removed[desc[hi]] {
			hi++
		}
		mu := s1 / m
		variance := (s2 - s1*s1/m) / (m - 1)
		s := math.Sqrt(math.Max(variance, 0))
		a, b := asc[lo], desc[hi]
		da, db := math.Abs(x[a]-shift-mu), math.Abs(x[b]-shift-mu)
		pick := a
		if db > da || (db == da && b < a) {
			pick = b
		}
		stat := 0.0
		if s > 0 {
			stat = math.Max(da, db) / s
		}
		p := 1 - alpha/(2*m)
		df := m - 2
		t := studentTQuantile(p, df)
		lam := (m - 1) * t / math.Sqrt((df+t*t)*m)
		res.Candidates = append(res.Candidates, pick)
		res.Statistics = append(res.Statistics, stat)
		res.Critical = append(res.Critical, lam)
		if stat > lam {
			k = i
		}
		removed[pick] = true
		d := x[pick] - shift
		s1 -= d
		s2 -= d * d
	}
	res.Indices = slices.Clone(res.Candidates[:k])
	slices.Sort(res.Indices)
	return res, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// meanStd returns the mean and the standard deviation with ddof degrees of
// freedom removed, in two passes.
func meanStd(x []float64, ddof int) (mean, sd float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	if len(x) <= ddof {
		return mean, 0
	}
	ss := 0.0
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(x)-ddof))
}
