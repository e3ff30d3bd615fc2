// Package features computes the per-entity audit features of
// audit/feature-extraction (domains.md §11) and the anomaly score over
// them. Calendar fields come from ts + a fixed offset (1970-01-01 was a
// Thursday); Benford tests follow Nigrini (2012).
package features

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"time"
)

// Names are the 31 features, in output order.
var Names = []string{
	"total_count", "total_amount", "avg_amount", "max_amount", "std_amount",
	"count_journalentry", "count_invoice", "count_payment", "count_receipt",
	"count_adjustment", "count_transfer", "count_expense", "count_revenue",
	"time_span_days", "avg_interval_hours", "activity_ratio", "weekend_ratio", "month_end_ratio", "off_hours_ratio",
	"amount_skewness", "amount_kurtosis", "round_number_ratio", "category_concentration",
	"unique_accounts", "unique_counterparties", "counterparty_concentration", "self_transaction_ratio",
	"holiday_ratio", "benford_mad", "benford_chi2", "benford_conformity",
}

// Types are the record types in count_* order.
var Types = []string{"JOURNAL_ENTRY", "INVOICE", "PAYMENT", "RECEIPT", "ADJUSTMENT", "TRANSFER", "EXPENSE", "REVENUE"}

// Record is one audit record.
type Record struct {
	Type                            int // index in Types
	Entity                          string
	TS                              int64
	HasAmount                       bool
	Amount                          float64
	Account, Counterparty, Category string
}

// Options are the calendar parameters.
type Options struct {
	TZOffset     int64
	MonthEndDays int
	Holidays     map[int64]bool // civil days since the epoch
	Robust       bool
}

// Row is one entity's features.
type Row struct {
	Entity string
	Values []float64
}

// Stat is one feature's spread across entities.
type Stat struct{ Mean, Std, Median, MAD float64 }

// Result is the feature matrix, its spread and the anomaly scores.
type Result struct {
	Rows   []Row // sorted by entity
	Stats  []Stat
	Scores []float64 // per row
}

// Extract groups the records by entity and computes every feature.
func Extract(ctx context.Context, recs []Record, opt Options) (Result, error) {
	by := map[string][]int{}
	var ents []string
	for i, r := range recs {
		if _, ok := by[r.Entity]; !ok {
			ents = append(ents, r.Entity)
		}
		by[r.Entity] = append(by[r.Entity], i)
	}
	slices.Sort(ents)
	res := Result{Rows: make([]Row, len(ents))}
	for i, e := range ents {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
		}
		res.Rows[i] = Row{Entity: e, Values: entity(recs, by[e], opt)}
	}
	res.Stats, res.Scores = anomaly(res.Rows, opt.Robust)
	return res, nil
}

// civil splits a shifted timestamp into its day since the epoch and its
// second of the day.
func civil(ts, off int64) (day, sec int64) {
	t := ts + off
	day = t / 86400
	if t%86400 < 0 {
		day--
	}
	return day, t - day*86400
}

func entity(recs []Record, idx []int, opt Options) []float64 {
	v := make([]float64, len(Names))
	n := float64(len(idx))
	var amounts []float64
	days := map[int64]bool{}
	cats, cps := map[string]int{}, map[string]int{}
	accs := map[string]bool{}
	minTS, maxTS := int64(math.MaxInt64), int64(math.MinInt64)
	var weekend, monthEnd, offHours, self, holiday, ncp float64
	for _, i := range idx {
		r := recs[i]
		v[5+r.Type]++
		minTS, maxTS = min(minTS, r.TS), max(maxTS, r.TS)
		day, sec := civil(r.TS, opt.TZOffset)
		days[day] = true
		if wd := (day%7+7+3)%7 + 1; wd >= 6 { // ISO weekday; day 0 was a Thursday (4)
			weekend++
		}
		t := time.Unix(day*86400, 0).UTC()
		last := time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		if t.Day() > last-opt.MonthEndDays {
			monthEnd++
		}
		if h := sec / 3600; h < 9 || h >= 17 {
			offHours++
		}
		if opt.Holidays[day] {
			holiday++
		}
		if r.HasAmount {
			amounts = append(amounts, r.Amount)
		}
		cats[r.Category]++
		if r.Account != "" {
			accs[r.Account] = true
		}
		if r.Counterparty != "" {
			cps[r.Counterparty]++
			ncp++
		}
		if r.Account != "" && r.Account == r.Counterparty {
			self++
		}
	}
	v[0] = n
	m := float64(len(amounts))
	if len(amounts) > 0 {
		sum := fsum(amounts)
		mx := slices.Max(amounts)
		mean := sum / m
		var m2, m3, m4 float64
		for _, a := range amounts {
			d := a - mean
			m2 += d * d
			m3 += d * d * d
			m4 += d * d * d * d
		}
		m2, m3, m4 = m2/m, m3/m, m4/m
		zero := m2 <= (1e-15*mean)*(1e-15*mean)
		v[1], v[2], v[3] = sum, mean, mx
		if !zero {
			v[4] = math.Sqrt(m2)
		}
		if len(amounts) >= 3 && !zero {
			v[19] = m3 / math.Pow(m2, 1.5)
		}
		if len(amounts) >= 4 && !zero {
			v[20] = m4/(m2*m2) - 3
		}
		var round float64
		for _, a := range amounts {
			if math.Abs(math.Mod(a, 100)) < 0.01 || math.Abs(math.Mod(a, 1000)) < 0.01 {
				round++
			}
		}
		v[21] = round / m
		v[22] = hhi(cats, n)
	}
	span := float64(maxTS - minTS)
	v[13] = span / 86400
	if len(idx) > 1 {
		v[14] = span / 3600 / (n - 1)
	}
	first, _ := civil(minTS, opt.TZOffset)
	last, _ := civil(maxTS, opt.TZOffset)
	v[15] = float64(len(days)) / float64(last-first+1)
	v[16], v[17], v[18] = weekend/n, monthEnd/n, offHours/n
	v[23], v[24] = float64(len(accs)), float64(len(cps))
	if ncp > 0 {
		v[25] = hhi(cps, ncp)
	}
	v[26], v[27] = self/n, holiday/n
	v[28], v[29], v[30] = Benford(amounts)
	return v
}

// fsum is Neumaier's compensated sum: a constant column then has its
// exact mean, so its spread is 0 as with numpy's pairwise sum, rather than
// a rounding residue that a skewness or a z-score would blow up.
func fsum(xs []float64) float64 {
	var s, c float64
	for _, x := range xs {
		t := s + x
		if math.Abs(s) >= math.Abs(x) {
			c += (s - t) + x
		} else {
			c += (x - t) + s
		}
		s = t
	}
	return s + c
}

// hhi is Σ share² of the counts over their total.
func hhi(counts map[string]int, total float64) float64 {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a fixed summation order
	var s float64
	for _, k := range keys {
		p := float64(counts[k]) / total
		s += p * p
	}
	return s
}

// Benford returns the first-digit MAD, chi-square statistic and Nigrini
// conformity class over the amounts with |x| ≥ 10; all 0 when none.
func Benford(amounts []float64) (mad, chi2, class float64) {
	var c [10]float64
	var m float64
	buf := make([]byte, 0, 32)
	for _, a := range amounts {
		a = math.Abs(a)
		if a >= 10 {
			buf = strconv.AppendFloat(buf[:0], a, 'e', -1, 64)
			c[buf[0]-'0']++
			m++
		}
	}
	if m == 0 {
		return 0, 0, 0
	}
	for d := 1; d <= 9; d++ {
		p := math.Log10(1 + 1/float64(d))
		mad += math.Abs(c[d]/m - p)
		e := m * p
		chi2 += (c[d] - e) * (c[d] - e) / e
	}
	mad /= 9
	switch {
	case mad <= 0.006:
		class = 0
	case mad <= 0.012:
		class = 1
	case mad <= 0.015:
		class = 2
	default:
		class = 3
	}
	return mad, chi2, class
}

// anomaly computes each feature's spread and each row's mean |z|.
func anomaly(rows []Row, robust bool) ([]Stat, []float64) {
	k := len(Names)
	stats := make([]Stat, k)
	scores := make([]float64, len(rows))
	if len(rows) == 0 {
		return stats, scores
	}
	n := float64(len(rows))
	col := make([]float64, len(rows))
	center, scale := make([]float64, k), make([]float64, k)
	for f := 0; f < k; f++ {
		for i, r := range rows {
			col[i] = r.Values[f]
		}
		mean := fsum(col) / n
		var ss float64
		for _, x := range col {
			ss += (x - mean) * (x - mean)
		}
		st := Stat{Mean: mean, Std: math.Sqrt(ss / n)}
		st.Median = median(col)
		dev := make([]float64, len(col))
		for i, x := range col {
			dev[i] = math.Abs(x - st.Median)
		}
		st.MAD = 1.4826 * median(dev)
		stats[f] = st
		if robust {
			center[f] = st.Median
			if st.MAD > 1e-15*math.Abs(st.Median) {
				scale[f] = st.MAD
			}
		} else {
			center[f] = mean
			if ss/n > (1e-15*mean)*(1e-15*mean) {
				scale[f] = st.Std
			}
		}
	}
	for i, r := range rows {
		var s, used float64
		for f := 0; f < k; f++ {
			if scale[f] > 0 {
				s += math.Abs(r.Values[f]-center[f]) / scale[f]
				used++
			}
		}
		if used > 0 {
			scores[i] = s / used
		}
	}
	return stats, scores
}

// median of xs (sorted copy; mean of the middle two for even lengths).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.SortFunc(s, cmp.Compare[float64])
	h := len(s) / 2
	if len(s)%2 == 1 {
		return s[h]
	}
	return (s[h-1] + s[h]) / 2
}
