package distance

import (
	"math"
	"testing"
)

func TestDistances(t *testing.T) {
	a, b := []float64{1, 2, 3}, []float64{4, 0, 3}
	cases := []struct {
		m    Metric
		want float64
	}{
		{Euclidean, math.Sqrt(13)},
		{Manhattan, 5},
		{Chebyshev, 3},
		{Cosine, 1 - 13/(math.Sqrt(14)*5)},
	}
	for _, c := range cases {
		if got := c.m.Dist(a, b); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%v = %.17g, want %.17g", c.m, got, c.want)
		}
	}
	if d := Cosine.Dist([]float64{0, 0}, []float64{1, 2}); d != 1 {
		t.Errorf("cosine to a zero vector = %g, want 1 (sklearn)", d)
	}
}

func TestParse(t *testing.T) {
	for _, s := range Names {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
	if _, err := Parse("mahalanobis"); err == nil {
		t.Error("unknown metric accepted")
	}
}
