// Package calendar counts business days (Monday–Friday minus holidays)
// with numpy.busday_count semantics: start inclusive, end exclusive, and a
// negative count when end < start.
package calendar

import (
	"slices"
	"time"
)

// Day is a civil date as days since 1970-01-01 (a Thursday).
type Day int64

// Parse reads YYYY-MM-DD.
func Parse(s string) (Day, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, false
	}
	return Day(t.Unix() / 86400), true
}

// Weekday is the ISO weekday, Monday = 1 … Sunday = 7.
func (d Day) Weekday() int { return int(((int64(d)+3)%7+7)%7) + 1 }

// Calendar is a set of holidays.
type Calendar struct{ holidays []Day } // sorted, unique, weekdays only

// New builds a calendar; weekend holidays do not count twice.
func New(holidays []Day) Calendar {
	var h []Day
	for _, d := range holidays {
		if d.Weekday() <= 5 {
			h = append(h, d)
		}
	}
	slices.Sort(h)
	return Calendar{slices.Compact(h)}
}

// IsBusinessDay reports whether d is a weekday and not a holiday.
func (c Calendar) IsBusinessDay(d Day) bool {
	_, hol := slices.BinarySearch(c.holidays, d)
	return d.Weekday() <= 5 && !hol
}

// Count is numpy.busday_count(begin, end, holidays=...).
func (c Calendar) Count(begin, end Day) int64 {
	if end < begin {
		return -c.Count(end, begin)
	}
	n := int64(end - begin)
	weeks, rest := n/7, n%7
	count := 5 * weeks
	wd := begin.Weekday()
	for i := range rest {
		if (wd-1+int(i))%7 < 5 {
			count++
		}
	}
	lo, _ := slices.BinarySearch(c.holidays, begin)
	hi, _ := slices.BinarySearch(c.holidays, end)
	return count - int64(hi-lo)
}

// String formats the day as YYYY-MM-DD.
func (d Day) String() string { return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly) }

// Following rolls d forward to the next business day (itself if it is one).
func (c Calendar) Following(d Day) Day {
	for !c.IsBusinessDay(d) {
		d++
	}
	return d
}
