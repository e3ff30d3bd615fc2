// Package changepoint segments a series where its mean (or mean and
// variance) changes: PELT (exact penalised optimum), greedy binary
// segmentation, and recursive CUSUM segmentation.
//
// A segmentation is given by its change points: the start indexes of every
// segment after the first, ascending. Segment costs come from prefix sums, so
// each costs O(1).
package changepoint

import (
	"context"
	"math"
	"slices"
)

// Cost is a segment cost function.
type Cost int

const (
	// L2 is the sum of squared deviations from the segment mean.
	L2 Cost = iota
	// Normal is m ln(var) for a segment of m points with population variance
	// var (floored at 1e-12 var(y)): twice the negative Gaussian
	// log-likelihood of a change in mean and variance, up to constants.
	Normal
)

// costs evaluates segment costs from prefix sums of y - mean(y) (the shift
// keeps s2 - s^2/m accurate for series far from zero).
type costs struct {
	kind      Cost
	cum, cum2 []float64
	floor     float64
}

func newCosts(y []float64, kind Cost) *costs {
	n := len(y)
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(n)
	c := &costs{kind: kind, cum: make([]float64, n+1), cum2: make([]float64, n+1)}
	for i, v := range y {
		d := v - mean
		c.cum[i+1] = c.cum[i] + d
		c.cum2[i+1] = c.cum2[i] + d*d
	}
	c.floor = 1e-12 * (c.cum2[n]/float64(n) - (c.cum[n]/float64(n))*(c.cum[n]/float64(n)))
	return c
}

// of is the cost of the segment [a, b).
func (c *costs) of(a, b int) float64 {
	m := float64(b - a)
	s := c.cum[b] - c.cum[a]
	s2 := c.cum2[b] - c.cum2[a]
	if c.kind == L2 {
		return math.Max(s2-s*s/m, 0)
	}
	mean := s / m
	v := math.Max(s2/m-mean*mean, 0)
	return m * math.Log(math.Max(v, c.floor))
}

// constant reports whether every value equals the first.
func constant(y []float64) bool {
	for _, v := range y {
		if v != y[0] {
			return false
		}
	}
	return true
}

// PELT returns the change points minimising sum of segment costs +
// penalty * (number of change points) over segmentations whose segments all
// have at least minSeg points (Killick, Fearnhead & Eckley 2012). The result
// equals the O(n^2) optimal-partitioning recursion, ties going to the
// earliest last change point: a candidate s is dropped once some t with
// F(s) + C(s, t) > F(t) is at least minSeg points behind the current end,
// because t then beats s for every later end.
func PELT(ctx context.Context, y []float64, kind Cost, penalty float64, minSeg int) ([]int, error) {
	n := len(y)
	if n < 2*minSeg || constant(y) {
		return nil, ctx.Err()
	}
	c := newCosts(y, kind)
	f := make([]float64, n+1)
	last := make([]int, n+1)
	pruneAt := make([]int, n+1) // the end from which candidate s is dominated
	for i := range pruneAt {
		pruneAt[i] = math.MaxInt
	}
	f[0] = -penalty
	var cand []int
	for t := minSeg; t <= n; t++ {
		if t&0x3ff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if s := t - minSeg; s == 0 || s >= minSeg {
			cand = append(cand, s) // s is a valid last change from now on
		}
		keep := cand[:0]
		for _, s := range cand {
			if pruneAt[s] > t {
				keep = append(keep, s)
			}
		}
		cand = keep
		best, arg := math.Inf(1), -1
		for _, s := range cand {
			if v := f[s] + c.of(s, t) + penalty; v < best {
				best, arg = v, s
			}
		}
		f[t], last[t] = best, arg
		for _, s := range cand {
			if f[s]+c.of(s, t) > best && pruneAt[s] == math.MaxInt {
				pruneAt[s] = t + minSeg
			}
		}
	}
	var cps []int
	for t := n; t > 0; t = last[t] {
		if last[t] > 0 {
			cps = append(cps, last[t])
		}
	}
	slices.Sort(cps)
	return cps, nil
}

// BinSeg is greedy binary segmentation: while the number of change points is
// below maxCP (0: no bound), split the segment at the position with the
// largest cost reduction C(a, b) - C(a, k) - C(k, b) over all current
// segments (the first in index order on ties), if that reduction exceeds
// penalty. Both parts keep at least minSeg points.
func BinSeg(ctx context.Context, y []float64, kind Cost, penalty float64, minSeg, maxCP int) ([]int, error) {
	n := len(y)
	if constant(y) {
		return nil, ctx.Err()
	}
	c := newCosts(y, kind)
	type seg struct {
		a, b  int
		gain  float64
		split int // -1: too short to split
	}
	bestSplit := func(a, b int) seg {
		s := seg{a: a, b: b, split: -1}
		total := c.of(a, b)
		for k := a + minSeg; k <= b-minSeg; k++ {
			if g := total - c.of(a, k) - c.of(k, b); s.split < 0 || g > s.gain {
				s.gain, s.split = g, k
			}
		}
		return s
	}
	segs := []seg{bestSplit(0, n)}
	var cps []int
	for maxCP == 0 || len(cps) < maxCP {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		bi := -1
		for i, s := range segs {
			if s.split >= 0 && (bi < 0 || s.gain > segs[bi].gain) {
				bi = i
			}
		}
		if bi < 0 || !(segs[bi].gain > penalty) {
			break
		}
		s := segs[bi]
		cps = append(cps, s.split)
		left, right := bestSplit(s.a, s.split), bestSplit(s.split, s.b)
		segs = slices.Replace(segs, bi, bi+1, left, right) // stays sorted by start
	}
	slices.Sort(cps)
	return cps, nil
}

// CUSUM is recursive CUSUM segmentation for changes in mean: a segment of m
// points is split at the first k in [minSeg, m - minSeg] maximising
// |S_k - (k/m) S_m| (S the segment's cumulative sum) when the L2 cost
// reduction of that split exceeds penalty; then the left part and the right
// part are searched in turn, until maxCP change points (0: no bound).
func CUSUM(ctx context.Context, y []float64, penalty float64, minSeg, maxCP int) ([]int, error) {
	if constant(y) {
		return nil, ctx.Err()
	}
	c := newCosts(y, L2)
	var cps []int
	cum := make([]float64, len(y))
	var rec func(a, b int) error
	rec = func(a, b int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if maxCP > 0 && len(cps) >= maxCP {
			return nil
		}
		m := b - a
		if m < 2*minSeg {
			return nil
		}
		s := 0.0
		for i := 0; i < m; i++ {
			s += y[a+i]
			cum[i] = s
		}
		best, arg := -1.0, -1
		for k := minSeg; k <= m-minSeg; k++ {
			if v := math.Abs(cum[k-1] - float64(k)/float64(m)*cum[m-1]); v > best {
				best, arg = v, k
			}
		}
		k := a + arg
		if !(c.of(a, b)-c.of(a, k)-c.of(k, b) > penalty) {
			return nil
		}
		cps = append(cps, k)
		if err := rec(a, k); err != nil {
			return err
		}
		return rec(k, b)
	}
	if err := rec(0, len(y)); err != nil {
		return nil, err
	}
	slices.Sort(cps)
	return cps, nil
}

// Summary describes a segmentation.
type Summary struct {
	Means, Variances []float64 // per segment; variances with ddof 0
	Cost             float64   // sum of segment costs
	Penalized        float64   // Cost + penalty * len(change points)
}

// Summarize computes segment means, variances and costs for cps.
func Summarize(y []float64, cps []int, kind Cost, penalty float64) Summary {
	c := newCosts(y, kind)
	bounds := append(append([]int{0}, cps...), len(y))
	var s Summary
	for i := 0; i+1 < len(bounds); i++ {
		a, b := bounds[i], bounds[i+1]
		mean := 0.0
		for _, v := range y[a:b] {
			mean += v
		}
		mean /= float64(b - a)
		ss := 0.0
		for _, v := range y[a:b] {
			ss += (v - mean) * (v - mean)
		}
		s.Means = append(s.Means, mean)
		s.Variances = append(s.Variances, ss/float64(b-a))
		s.Cost += c.of(a, b)
	}
	s.Penalized = s.Cost + penalty*float64(len(cps))
	return s
}

// DefaultPenalty is 2 ln(n) for Normal, and 2 ln(n) sigma^2 for L2 with
// sigma = MAD(diff(y)) / (0.6745 sqrt 2), a noise scale that level shifts
// barely move (the sample standard deviation when the MAD is 0).
func DefaultPenalty(y []float64, kind Cost) float64 {
	n := float64(len(y))
	if kind == Normal {
		return 2 * math.Log(n)
	}
	sigma := 0.0
	if len(y) > 1 {
		d := make([]float64, len(y)-1)
		for i := range d {
			d[i] = y[i+1] - y[i]
		}
		med := median(d)
		for i := range d {
			d[i] = math.Abs(d[i] - med)
		}
		sigma = median(d) / (0.6745 * math.Sqrt2)
	}
	if sigma == 0 {
		mean := 0.0
		for _, v := range y {
			mean += v
		}
		mean /= n
		ss := 0.0
		for _, v := range y {
			ss += (v - mean) * (v - mean)
		}
		sigma = math.Sqrt(ss / n)
	}
	return 2 * math.Log(n) * sigma * sigma
}

// median sorts x in place and returns numpy.median(x).
func median(x []float64) float64 {
	slices.Sort(x)
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}
