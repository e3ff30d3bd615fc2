// Package civil handles civil dates "YYYY-MM-DD" (domains.md §1.2): parsing
// and month arithmetic that clamps the day to the month end.
package civil

import (
	"fmt"
	"time"
)

// Date is a civil date.
type Date struct{ Year, Month, Day int }

// Parse reads "YYYY-MM-DD" (or, with compact, also "YYYYMMDD") and checks
// that the date exists.
func Parse(s string, compact bool) (Date, error) {
	layouts := []string{"2006-01-02"}
	if compact {
		layouts = append(layouts, "20060102")
	}
	for _, l := range layouts {
		if len(s) == len(l) {
			if t, err := time.Parse(l, s); err == nil {
				return Date{t.Year(), int(t.Month()), t.Day()}, nil
			}
		}
	}
	return Date{}, fmt.Errorf("%q is not a valid date (want YYYY-MM-DD)", s)
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// AddMonths adds n calendar months (n may be negative), clamping the day
// to the month end: 2024-02-29 - 12 months = 2023-02-28.
func (d Date) AddMonths(n int) Date {
	m := d.Year*12 + (d.Month - 1) + n
	y, mo := m/12, m%12+1
	if m < 0 && m%12 != 0 {
		y--
		mo = m - y*12 + 1
	}
	return Date{y, mo, min(d.Day, daysIn(y, mo))}
}

// Compare orders dates: -1, 0 or +1.
func (d Date) Compare(o Date) int {
	a := d.Year*10000 + d.Month*100 + d.Day
	b := o.Year*10000 + o.Month*100 + o.Day
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
