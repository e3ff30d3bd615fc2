package irrisk

import (
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/clearing/calendar"
)

func near(t *testing.T, what string, got, want, rtol float64) {
	t.Helper()
	if math.Abs(got-want) > rtol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// Hull, Options, Futures and Other Derivatives, Example 4.5 (duration): a
// 3-year 10 % bond, coupons semi-annually, yield 12 % continuously
// compounded: price 94.213, duration 2.653 years. A flat zero curve is
// continuous compounding, so modified = Macaulay.
func TestHullDurationExample(t *testing.T) {
	c := Curve{Nodes: []float64{1}, Rates: []float64{0.12}}
	var flows []Flow
	for k := 1; k <= 6; k++ {
		a := 5.0
		if k == 6 {
			a += 100
		}
		flows = append(flows, Flow{T: float64(k) / 2, Amount: a})
	}
	r := c.Measure(flows)
	near(t, "price", r.PV, 94.213, 1e-5/94.213*10)
	near(t, "duration", r.Macaulay, 2.653, 1e-3)
	near(t, "modified", r.Modified, r.Macaulay, 1e-15)
	// Continuous compounding: dP/dy = −D·P, so DV01 ≈ D·P·1bp and the
	// effective duration equals Macaulay to O(bp²).
	near(t, "dv01", r.DV01, r.Macaulay*r.PV*BP, 1e-8)
	near(t, "effective", r.Effective, r.Macaulay, 1e-6)
	// Convexity of continuous-compounding flows is Σ t²·PV_k / P.
	var c2 float64
	for _, f := range flows {
		c2 += f.T * f.T * f.Amount * math.Exp(-0.12*f.T)
	}
	near(t, "convexity", r.Convexity, c2/r.PV, 1e-5)
}

// A par bond (coupon = yield, m_y = m) on a coupon date with coupon times
// exactly k/m years is priced at par; its modified duration follows the
// closed form D_mod = (1 − (1+y/m)^(−mT)) / y; DV01 ≈ P·D_mod·1e-4.
func TestParBondClosedForm(t *testing.T) {
	for _, m := range []int{1, 2, 4, 12} {
		y, T := 0.07, 10
		c := Curve{Flat: true, Y: y, M: float64(m)}
		var flows []Flow
		for k := 1; k <= m*T; k++ {
			a := 100 * y / float64(m)
			if k == m*T {
				a += 100
			}
			flows = append(flows, Flow{T: float64(k) / float64(m), Amount: a})
		}
		r := c.Measure(flows)
		near(t, "par price", r.PV, 100, 1e-12)
		dmod := (1 - math.Pow(1+y/float64(m), -float64(m*T))) / y
		near(t, "modified", r.Modified, dmod, 1e-12)
		if math.Abs(r.DV01-r.PV*r.Modified*1e-4) > 1e-4*math.Abs(r.DV01) {
			t.Errorf("m=%d: DV01 %g vs P·D_mod·1bp %g", m, r.DV01, r.PV*r.Modified*1e-4)
		}
	}
}

// A zero-coupon bond's Macaulay duration is its maturity.
func TestZeroCouponMacaulayIsT(t *testing.T) {
	for _, c := range []Curve{{Flat: true, Y: 0.04, M: 2}, {Nodes: []float64{1, 5}, Rates: []float64{0.02, 0.05}}} {
		r := c.Measure([]Flow{{T: 7.3, Amount: 1e6}})
		near(t, "macaulay", r.Macaulay, 7.3, 1e-14)
	}
}

// Σ key-rate DV01 equals the parallel DV01 within 1e-4 relative: the
// triangular bumps form a partition of unity.
func TestKeyRatesSumToParallel(t *testing.T) {
	c := Curve{Nodes: []float64{0.5, 1, 2, 5, 10}, Rates: []float64{0.02, 0.022, 0.025, 0.03, 0.032}}
	var flows []Flow
	for k := 1; k <= 30; k++ {
		flows = append(flows, Flow{T: float64(k) * 0.4, Amount: 3 + float64(k%4)})
	}
	flows = append(flows, Flow{T: 0.1, Amount: -50}, Flow{T: 14, Amount: 100})
	var sum float64
	for _, k := range c.KeyRateDV01(flows) {
		sum += k
	}
	r := c.Measure(flows)
	if math.Abs(sum-r.DV01) > 1e-4*math.Abs(r.DV01) {
		t.Errorf("Σ key-rate DV01 %g, parallel %g", sum, r.DV01)
	}
}

// Coupon dates are generated backward from maturity, each counted from the
// maturity date directly, clamped to the month end.
func TestCouponDatesClampFromMaturity(t *testing.T) {
	d := func(s string) calendar.Day { x, _ := calendar.Parse(s); return x }
	got := CouponDates(d("2024-01-15"), d("2025-08-31"), 4)
	want := []string{"2024-02-29", "2024-05-31", "2024-08-31", "2024-11-30", "2025-02-28", "2025-05-31", "2025-08-31"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range got {
		if got[i].String() != want[i] {
			t.Errorf("coupon %d = %s, want %s", i, got[i], want[i])
		}
	}
	if s := AddMonths(d("2024-02-29"), -12).String(); s != "2023-02-28" {
		t.Errorf("2024-02-29 − 12 months = %s", s)
	}
	if s := AddMonths(d("0001-03-31"), -1).String(); s != "0001-02-28" {
		t.Errorf("0001-03-31 − 1 month = %s", s)
	}
}
