package contamination

import (
	"slices"
	"testing"
)

// Values from np.percentile (numpy 1.24, method "linear").
func TestPercentileMatchesNumpy(t *testing.T) {
	cases := []struct {
		a    []float64
		q    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 25, 1.75},
		{[]float64{3, 1, 2, 5, 4}, 10, 1.4},
		{[]float64{0.1, 0.7, 0.2}, 95, 0.6499999999999999}, // the b − (b−a)(1−g) branch
		{[]float64{5}, 30, 5},
		{[]float64{2, 1}, 100, 2},
		{[]float64{2, 1}, 0, 1},
	}
	for _, c := range cases {
		if got := Percentile(c.a, c.q); got != c.want {
			t.Errorf("Percentile(%v, %g) = %.17g, want %.17g", c.a, c.q, got, c.want)
		}
	}
}

// With distinct scores and contamination c, sklearn flags the ⌊c·n⌋ highest
// (the threshold interpolates between the n·c-th and next highest).
func TestLabelsFlagTheTopFraction(t *testing.T) {
	s := make([]float64, 400)
	for i := range s {
		s[i] = float64((i * 37) % 400)
	}
	thr := Threshold(s, 0.05)
	labels := Labels(s, thr)
	n := 0
	for i, l := range labels {
		if l == Outlier {
			n++
			if s[i] < 380 {
				t.Errorf("score %g flagged", s[i])
			}
		}
	}
	if n != 20 {
		t.Errorf("%d outliers, want 20", n)
	}
	if !slices.Contains(labels, Inlier) {
		t.Error("no inliers")
	}
}
