// Package contamination turns outlier scores into inlier/outlier labels the
// way sklearn's outlier detectors do.
//
// With contamination = "auto" a detector uses a fixed cut (0.5 on the
// isolation-forest score, 1.5 on LOF). With contamination = c in (0, 0.5],
// sklearn sets offset_ = np.percentile(-score, 100·c) and flags samples with
// -score < offset_; Threshold reproduces that percentile (numpy's default
// "linear" method, including its two-sided lerp) so the same samples are
// flagged.
package contamination

import (
	"math"
	"slices"
)

// Inlier and Outlier are sklearn's predict() labels.
const (
	Inlier  int32 = 1
	Outlier int32 = -1
)

// Percentile is np.percentile(a, q) with the default linear method
// (q in [0, 100], a non-empty).
func Percentile(a []float64, q float64) float64 {
	s := slices.Clone(a)
	slices.Sort(s)
	n := len(s)
	virt := float64(n-1) * (q / 100)
	prev := math.Floor(virt)
	lo := int(prev)
	if lo >= n-1 {
		return s[n-1]
	}
	if lo < 0 {
		return s[0]
	}
	g := virt - prev
	a0, b0 := s[lo], s[lo+1]
	diff := b0 - a0
	if g >= 0.5 {
		return b0 - diff*(1-g)
	}
	return a0 + diff*g
}

// Threshold is the score above which a sample is an outlier when a fraction
// c of the samples is expected to be contaminated: -Percentile(-score, 100c).
func Threshold(scores []float64, c float64) float64 {
	neg := make([]float64, len(scores))
	for i, v := range scores {
		neg[i] = -v
	}
	return -Percentile(neg, 100*c)
}

// Labels marks every sample whose score is strictly above threshold as an
// Outlier, the rest as Inlier.
func Labels(scores []float64, threshold float64) []int32 {
	out := make([]int32, len(scores))
	for i, v := range scores {
		out[i] = Inlier
		if v > threshold {
			out[i] = Outlier
		}
	}
	return out
}
