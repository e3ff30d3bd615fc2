package reconcile

import (
	"context"
	"fmt"
	"syscall"
	"testing"
)

// lcg is the benchmark's generator, written the same way in
// scripts/bench/ledger.py so both sides build the same items.
type lcg uint64

func (x *lcg) next(n uint64) uint64 {
	*x = *x*6364136223846793005 + 1442695040888963407
	return uint64(*x>>33) % n
}

// benchItems builds n ledger items over 1,000 accounts and a year, and n
// statement items: 50 % exact copies with a reference (dated ±3 days),
// 45 % near copies without one (amount ±50, ±2 days), 5 % unrelated.
func benchItems(n int) (src, tgt []Item) {
	x := lcg(21)
	for i := 0; i < n; i++ {
		acc := fmt.Sprintf("A%03d", x.next(1000))
		amt := int64(10_000 + x.next(10_000_000))
		day := int64(20000 + x.next(365))
		kind := x.next(100)
		ref := ""
		if kind < 50 {
			ref = fmt.Sprintf("R%07d", i)
		}
		src = append(src, Item{ID: fmt.Sprintf("S%07d", i), Account: acc, Currency: "EUR", Amount: amt, Day: day, Reference: ref})
		t := Item{ID: fmt.Sprintf("T%07d", i), Account: acc, Currency: "EUR", Amount: amt, Day: day - 3 + int64(x.next(7)), Reference: ref}
		switch {
		case kind >= 95:
			t.Amount, t.Day = int64(10_000+x.next(10_000_000)), int64(20000+x.next(365))
		case kind >= 50:
			t.Amount += int64(x.next(101)) - 50
			t.Day = day - 2 + int64(x.next(5))
		}
		tgt = append(tgt, t)
	}
	return src, tgt
}

// BenchParams are the defaults with pass 3 off (the pandas baseline's
// pass 3 is a Python loop; see scripts/bench/ledger.py).
var BenchParams = Params{AbsTol: 100, PctTol: 0.001, DateTol: 3, Lambda: 1, MaxGroup: 3, DuplicateDays: 7}

// BenchmarkReconcile reconciles 100,000 ledger items against 100,000
// statement items (passes 1 and 2 and the duplicate finder), reporting
// wall and process CPU seconds per run.
// Reproduce: go test ./kernels/accounting/reconcile -run '^$' -bench Reconcile -benchtime 1x
func BenchmarkReconcile(b *testing.B) {
	src, tgt := benchItems(100_000)
	b.ResetTimer()
	c0 := cpuSeconds()
	var res Result
	for range b.N {
		var err error
		if res, err = Run(context.Background(), src, tgt, BenchParams); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/run")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
	b.ReportMetric(float64(len(res.Matches)), "matches")
	b.ReportMetric(float64(res.Pass2Count), "pass2")
	b.ReportMetric(float64(res.Pass2Cost), "pass2-cost")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
