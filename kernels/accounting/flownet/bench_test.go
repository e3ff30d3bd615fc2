package flownet

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
)

// lcg is the benchmark's generator, written the same way in
// scripts/bench/ledger.py so both sides build the same ledger.
type lcg uint64

func (x *lcg) next(n uint64) uint64 {
	*x = *x*6364136223846793005 + 1442695040888963407
	return uint64(*x>>33) % n
}

// benchEntries builds the make bench-ledger ledger: entries of 2 lines
// (one debit, one credit: step A) and of 4 lines (two debits, two credits
// of equal amounts: step B) until lines lines, over 200 accounts, 2
// currencies and 2 entities.
func benchEntries(lines int) []Entry {
	x := lcg(20)
	var out []Entry
	for n := 0; n < lines; {
		k := len(out)
		e := Entry{ID: fmt.Sprintf("J%07d", k), PostingDate: "2025-06-30"}
		cur := []string{"EUR", "USD"}[x.next(2)]
		ent := []string{"E1", "E2"}[x.next(2)]
		pairs := 1 + int(x.next(2))
		for p := 0; p < pairs; p++ {
			amt := int64(1 + x.next(1_000_000))
			d, c := fmt.Sprintf("%04d", 1000+x.next(200)), fmt.Sprintf("%04d", 1000+x.next(200))
			no := int32(2*p + 1)
			e.Lines = append(e.Lines, Line{No: no, Account: d, Entity: ent, Currency: cur, Debit: amt},
				Line{No: no + 1, Account: c, Entity: ent, Currency: cur, Credit: amt})
		}
		n += len(e.Lines)
		out = append(out, e)
	}
	return out
}

// BenchmarkNetworkGeneration solves 1,000,000 journal lines into flows and
// aggregates the network, reporting wall and process CPU seconds per run;
// scripts/bench/ledger.py (make bench-ledger) times the pandas merge /
// groupby of the same definition on the same ledger.
// Reproduce: go test ./kernels/accounting/flownet -run '^$' -bench NetworkGeneration -benchtime 1x
func BenchmarkNetworkGeneration(b *testing.B) {
	entries := benchEntries(1_000_000)
	lines := 0
	for _, e := range entries {
		lines += len(e.Lines)
	}
	runtime.GC() // the input's garbage is not the kernel's
	b.ResetTimer()
	c0 := cpuSeconds()
	var edges []Edge
	var flows int
	for range b.N {
		g := New(Options{SuspenseAccount: "SUSPENSE", MaxSubsetLines: 12})
		all := make([]Flow, 0, lines+len(entries)) // as the kernel does
		for _, e := range entries {
			f, _ := g.Solve(e)
			all = append(all, f...)
		}
		_, edges = Network(all)
		flows = len(all)
	}
	b.StopTimer()
	var total int64
	for _, e := range edges {
		total += e.Amount
	}
	b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/run")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
	b.ReportMetric(float64(flows), "flows")
	b.ReportMetric(float64(len(edges)), "edges")
	b.ReportMetric(float64(total), "amount")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
