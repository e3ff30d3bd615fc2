// Package zerobalance measures zero-balance frequency and balance
// statistics of (party, asset) ledgers, and CSDR settlement efficiency
// (Reg. (EU) 909/2014 Art. 7; Delegated Reg. (EU) 2018/1229).
package zerobalance

import (
	"cmp"
	"slices"

	"github.com/gokernels/gokernels/kernels/clearing/calendar"
)

// Key is a (party, asset) ledger.
type Key struct{ Party, Asset string }

// Posting is a movement; Day is its civil date (ts + offset).
type Posting struct {
	Key Key
	Day calendar.Day
	Qty int64
}

// Row is one ledger's statistics.
type Row struct {
	Key                 Key
	Days, ZeroDays      int
	AvgEOD, AvgTurnover float64
	PeakAbs             int64
}

// ZBF computes the rows; postings must be in ts order (stable).
func ZBF(postings []Posting, opening map[Key]int64) []Row {
	byKey := map[Key][]Posting{}
	for _, p := range postings {
		byKey[p.Key] = append(byKey[p.Key], p)
	}
	rows := make([]Row, 0, len(byKey))
	for k, ps := range byKey {
		bal := opening[k]
		peak := max(bal, -bal)
		first, last := ps[0].Day, ps[0].Day
		for _, p := range ps {
			first, last = min(first, p.Day), max(last, p.Day)
		}
		days := int(last-first) + 1
		eod := make([]int64, days) // balance at the end of each day, carried forward
		var turnover float64
		i := 0
		// Postings are in ts order, so their civil days are non-decreasing
		// for a fixed offset.
		for d := range days {
			for i < len(ps) && int(ps[i].Day-first) <= d {
				bal += ps[i].Qty
				peak = max(peak, bal, -bal)
				turnover += float64(max(ps[i].Qty, -ps[i].Qty))
				i++
			}
			eod[d] = bal
		}
		r := Row{Key: k, Days: days, PeakAbs: peak}
		var sum float64
		for _, b := range eod {
			if b == 0 {
				r.ZeroDays++
			}
			sum += float64(b)
		}
		r.AvgEOD = sum / float64(days)
		r.AvgTurnover = turnover / float64(days)
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Key.Party, b.Key.Party), cmp.Compare(a.Key.Asset, b.Key.Asset))
	})
	return rows
}

// Instruction is a settlement instruction; Settled false = failed.
type Instruction struct {
	Party   string
	ISD     calendar.Day
	Actual  calendar.Day
	Settled bool
	TS      int64
	HasTS   bool
	Value   int64
}

// Efficiency is the CSDR figures of a set of due instructions.
type Efficiency struct {
	Party                              string
	Due, OnTime, Late, Failed          int
	ByVolume, ByValue, FailRate, Delay float64
	PeakRate                           float64
	HasPeak                            bool
}

// Measure computes efficiency over due instructions.
func Measure(party string, ins []Instruction, cal calendar.Calendar, bucket int64) Efficiency {
	e := Efficiency{Party: party, Due: len(ins)}
	var valDue, valOn int64
	var delay int64
	buckets := map[int64]int{}
	for _, x := range ins {
		valDue += x.Value
		switch {
		case !x.Settled:
			e.Failed++
		case x.Actual <= x.ISD:
			e.OnTime++
			valOn += x.Value
		default:
			e.Late++
			delay += cal.Count(x.ISD, x.Actual)
		}
		if x.HasTS {
			b := x.TS / bucket
			if x.TS < 0 && x.TS%bucket != 0 {
				b-- // floor division
			}
			buckets[b]++
			e.HasPeak = true
		}
	}
	if e.Due > 0 {
		e.ByVolume = float64(e.OnTime) / float64(e.Due)
		e.FailRate = float64(e.Failed) / float64(e.Due)
	}
	if valDue > 0 {
		e.ByValue = float64(valOn) / float64(valDue)
	}
	if e.Late > 0 {
		e.Delay = float64(delay) / float64(e.Late)
	}
	peak := 0
	for _, c := range buckets {
		peak = max(peak, c)
	}
	e.PeakRate = float64(peak) / float64(bucket)
	return e
}
