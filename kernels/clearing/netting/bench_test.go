package netting

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"syscall"
	"testing"
)

// benchTrades is the netting benchmark's input (issue 22): 1,000,000
// trades among 1,000 parties, 100 isins, 3 currencies and 3 settlement
// dates; scripts/bench/markets.py times a pandas groupby on the same shape.
func benchTrades(n, parties int) []Trade {
	rng := rand.New(rand.NewPCG(22, 22))
	names := make([]string, parties)
	for i := range names {
		names[i] = fmt.Sprintf("P%04d", i)
	}
	isins := make([]string, 100)
	for i := range isins {
		isins[i] = fmt.Sprintf("US%09dX", i)
	}
	ccy := []string{"EUR", "USD", "GBP"}
	dates := []string{"2026-12-04", "2026-12-07", "2026-12-08"}
	out := make([]Trade, n)
	for i := range out {
		b := rng.IntN(parties)
		s := (b + 1 + rng.IntN(parties-1)) % parties
		out[i] = Trade{ISIN: isins[rng.IntN(len(isins))], Buyer: names[b], Seller: names[s], Currency: ccy[rng.IntN(3)],
			SettlementDate: dates[rng.IntN(3)], Quantity: 1 + rng.Int64N(1000), Amount: 1 + rng.Int64N(10_000_000)}
	}
	return out
}

// BenchmarkNetting nets 1,000,000 trades among 1,000 parties (multilateral,
// no bilateral view), reporting wall and process CPU seconds per run (the
// CPU figure is the one to compare on a shared, loaded machine).
// Reproduce: go test ./kernels/clearing/netting -run '^$' -bench Netting -benchtime 3x
func BenchmarkNetting(b *testing.B) {
	trades := benchTrades(1_000_000, 1000)
	b.ResetTimer()
	c0 := cpuSeconds()
	var r Result
	for range b.N {
		r = Net(trades, false)
	}
	b.StopTimer()
	b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/run")
	if r.Trades != len(trades) {
		b.Fatalf("netted %d trades", r.Trades)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
}

// The sparse accumulators (key spaces too large to be dense) give the
// same result as the dense ones, bilateral view included.
func TestSparseEqualsDense(t *testing.T) {
	trades := benchTrades(20_000, 300)
	dense := Net(trades, true)
	old := maxDense
	maxDense = 0
	defer func() { maxDense = old }()
	sparse := Net(trades, true)
	if !reflect.DeepEqual(dense, sparse) {
		t.Fatal("sparse and dense netting differ")
	}
	if len(dense.Securities) < 1000 || len(dense.Summaries) == 0 {
		t.Fatalf("too few positions to compare: %d", len(dense.Securities))
	}
	var sum int64
	for _, p := range dense.Securities {
		sum += p.Net
	}
	if sum != 0 {
		t.Fatalf("Σ net securities = %d", sum)
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
