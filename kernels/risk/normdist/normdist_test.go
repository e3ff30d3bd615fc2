package normdist

import (
	"math"
	"testing"
)

// Reference values printed by scipy 1.10.1 scipy.special.ndtri (Cephes), an
// implementation independent of AS 241.
var ndtri = []struct{ p, z float64 }{
	{0.5, 0},
	{0.975, 1.959963984540054},
	{0.99, 2.3263478740408408},
	{0.999, 3.090232306167813},
	{0.05, -1.6448536269514729},
	{0.3, -0.5244005127080409},
	{0.0001, -3.7190164854556804},
	{1e-10, -6.361340902404056},
	{1e-300, -37.0470962993612},
	{0.9999999, 5.199337582290661},
	{0.925, 1.4395314709384563},
	{0.075, -1.4395314709384563},
	{1.1641532182693481e-10, -6.3379577545537895}, // 2^-33: the smallest philox.Uniform
	{0.9999999998835847, 6.3379577545537895},
}

func TestQuantileMatchesScipy(t *testing.T) {
	for _, c := range ndtri {
		got := Quantile(c.p)
		if math.Abs(got-c.z) > 1e-14*math.Max(1, math.Abs(c.z)) {
			t.Errorf("Quantile(%g) = %.17g, scipy %.17g", c.p, got, c.z)
		}
	}
}

func TestQuantileRoundTrip(t *testing.T) {
	for p := 0.0005; p < 1; p += 0.001 {
		if back := CDF(Quantile(p)); math.Abs(back-p) > 1e-14 {
			t.Fatalf("CDF(Quantile(%g)) = %.17g", p, back)
		}
	}
}

func TestQuantileEnds(t *testing.T) {
	if !math.IsInf(Quantile(0), -1) || !math.IsInf(Quantile(1), 1) {
		t.Error("Quantile(0), Quantile(1) must be -Inf, +Inf")
	}
	for _, p := range []float64{-0.1, 1.1, math.NaN()} {
		if !math.IsNaN(Quantile(p)) {
			t.Errorf("Quantile(%g) must be NaN", p)
		}
	}
}

func TestPDF(t *testing.T) {
	if got, want := PDF(0), 0.3989422804014327; math.Abs(got-want) > 1e-16 {
		t.Errorf("PDF(0) = %.17g, want %.17g", got, want)
	}
	if got, want := PDF(2.3263478740408408), 0.02665214220345808; math.Abs(got-want) > 1e-16 {
		t.Errorf("PDF(z99) = %.17g, want %.17g", got, want)
	}
}
