package irrisk

import (
	"time"

	"github.com/gokernels/gokernels/kernels/clearing/calendar"
)

// AddMonths moves d by k months (k may be negative), clamping the day to the
// month end (domains.md §1.2: 2024-08-31 − 6 months = 2024-02-29).
func AddMonths(d calendar.Day, k int) calendar.Day {
	t := time.Unix(int64(d)*86400, 0).UTC()
	y, m, day := t.Date()
	total := y*12 + int(m) - 1 + k
	ny, nm := total/12, time.Month(total%12+1)
	if total < 0 {
		ny, nm = (total-11)/12, time.Month(((total%12)+12)%12+1)
	}
	if last := time.Date(ny, nm+1, 0, 0, 0, 0, 0, time.UTC).Day(); day > last {
		day = last
	}
	return calendar.Day(time.Date(ny, nm, day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Years is ACT/365F from a to b.
func Years(a, b calendar.Day) float64 { return float64(b-a) / 365 }

// CouponDates lists the coupon dates of a bond paying m times a year that
// fall strictly after val and on or before maturity, generated backward from
// maturity in steps of 12/m months, each counted from maturity directly.
// The result is in ascending order and ends with maturity.
func CouponDates(val, maturity calendar.Day, m int) []calendar.Day {
	var out []calendar.Day
	for k := 0; ; k++ {
		d := AddMonths(maturity, -k*12/m)
		if d <= val {
			break
		}
		out = append(out, d)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
