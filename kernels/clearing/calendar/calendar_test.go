package calendar

import "testing"

// Count agrees with a day-by-day count (and with numpy.busday_count on the
// fixtures of clearing/validation).
func TestCountBruteForce(t *testing.T) {
	hol := []Day{}
	for _, s := range []string{"2025-01-01", "2025-04-18", "2025-04-21", "2025-05-01", "2025-12-25", "2025-12-27"} {
		d, _ := Parse(s)
		hol = append(hol, d)
	}
	c := New(hol)
	start, _ := Parse("2024-12-20")
	for a := start; a < start+400; a += 7 {
		for b := a - 30; b < a+60; b++ {
			lo, hi, sign := a, b, int64(1)
			if b < a {
				lo, hi, sign = b, a, -1
			}
			var want int64
			for d := lo; d < hi; d++ {
				if c.IsBusinessDay(d) {
					want++
				}
			}
			if got := c.Count(a, b); got != sign*want {
				t.Fatalf("Count(%d, %d) = %d, want %d", a, b, got, sign*want)
			}
		}
	}
	if d, _ := Parse("1970-01-01"); d.Weekday() != 4 {
		t.Fatal("1970-01-01 must be a Thursday")
	}
}
