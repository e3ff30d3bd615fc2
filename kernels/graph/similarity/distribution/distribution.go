// Package distribution compares two discrete distributions on a common
// support: the Jensen–Shannon distance and the Wasserstein-1 distance, with
// scipy 1.10's definitions (scipy.spatial.distance.jensenshannon and
// scipy.stats.wasserstein_distance with weights).
package distribution

import (
	"fmt"
	"math"
	"slices"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Check validates p and q as weight vectors of equal length with finite,
// non-negative entries and positive sums, and support (nil allowed) as one
// finite position per entry. Errors name the JSON fields p, q and support.
func Check(p, q, support []float64) error {
	if len(p) == 0 {
		return kerr.Invalid("p", "must not be empty")
	}
	if len(q) != len(p) {
		return kerr.Invalid("q", "has %d values, p has %d", len(q), len(p))
	}
	if support != nil && len(support) != len(p) {
		return kerr.Invalid("support", "has %d values, p has %d", len(support), len(p))
	}
	for _, x := range []struct {
		name string
		v    []float64
	}{{"p", p}, {"q", q}} {
		var sum float64
		for i, w := range x.v {
			if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
				return kerr.Invalid(fmt.Sprintf("%s[%d]", x.name, i), "must be finite and non-negative")
			}
			sum += w
		}
		if !(sum > 0) || math.IsInf(sum, 0) {
			return kerr.Invalid(x.name, "must have a positive, finite sum")
		}
	}
	for i, s := range support {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return kerr.Invalid(fmt.Sprintf("support[%d]", i), "must be finite")
		}
	}
	return nil
}

// JensenShannon returns scipy's jensenshannon(p, q, base): the square root
// of half the sum of the relative entropies of p and q to their mean, after
// normalising both to sum 1, with logarithms in the given base (> 1).
// p and q must pass Check.
func JensenShannon(p, q []float64, base float64) (float64, error) {
	if !(base > 1) || math.IsInf(base, 0) {
		// Below 1 every logarithm changes sign: scipy's divergence is then
		// negative and its distance NaN, which is no distance at all.
		return 0, kerr.Invalid("base", "must be finite and greater than 1 (below 1 the divergence is negative and its square root undefined), got %g", base)
	}
	var sp, sq float64
	for i := range p {
		sp += p[i]
		sq += q[i]
	}
	var left, right float64
	for i := range p {
		pi, qi := p[i]/sp, q[i]/sq
		m := (pi + qi) / 2
		left += relEntr(pi, m)
		right += relEntr(qi, m)
	}
	js := (left + right) / math.Log(base)
	// Round-off can leave a hair below zero for identical inputs.
	return math.Sqrt(max(js/2, 0)), nil
}

// relEntr is scipy.special.rel_entr for the cases that can occur here
// (x >= 0, y >= x/2 > 0 whenever x > 0).
func relEntr(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	return x * math.Log(x/y)
}

// Wasserstein returns scipy's wasserstein_distance(s, s, p, q) for the
// positions s (support, or 0..n-1 when nil): the integral of |P(x) - Q(x)|
// over x, where P and Q are the cumulative distributions of the normalised
// weights. p, q and support must pass Check.
func Wasserstein(p, q, support []float64) float64 {
	n := len(p)
	pos := support
	if pos == nil {
		pos = make([]float64, n)
		for i := range pos {
			pos[i] = float64(i)
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case pos[a] < pos[b]:
			return -1
		case pos[a] > pos[b]:
			return 1
		}
		return 0
	})
	var sp, sq float64
	for i := range p {
		sp += p[i]
		sq += q[i]
	}
	// Between consecutive support points both CDFs are constant, so the
	// integral is a sum of rectangles (points at equal positions add none).
	var cp, cq, w float64
	for k := 0; k+1 < n; k++ {
		i := order[k]
		cp += p[i]
		cq += q[i]
		w += math.Abs(cp/sp-cq/sq) * (pos[order[k+1]] - pos[i])
	}
	return w
}
