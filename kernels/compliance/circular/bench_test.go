package circular

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/limits"
)

// benchInput is the shape of make bench-compliance's circular-flow case:
// n transactions among accounts, 70% uniform, 30% to a near account.
func benchInput(n, accounts int) *compliancev1.CircularFlowInput {
	rng := rand.New(rand.NewPCG(20261203, 1))
	in := &compliancev1.CircularFlowInput{Transactions: make([]*financev1.Transaction, n)}
	for i := range n {
		s := rng.IntN(accounts)
		d := rng.IntN(accounts)
		if rng.Float64() >= 0.7 {
			d = (s + 1 + rng.IntN(49)) % accounts
		}
		in.Transactions[i] = &financev1.Transaction{Id: fmt.Sprintf("t%07d", i), SourceId: fmt.Sprintf("A%06d", s),
			DestId: fmt.Sprintf("A%06d", d), Amount: 1 + rng.Float64()*9999, Ts: 1_700_000_000 + int64(rng.IntN(86_400*30))}
	}
	return in
}

// BenchmarkCircularFlow1M: Prepare + CPU on 1,000,000 transactions among
// 100,000 accounts (make bench-compliance compares it with igraph).
func BenchmarkCircularFlow1M(b *testing.B) {
	in := benchInput(1_000_000, 100_000)
	lim := limits.Default()
	lim.MaxEdges = 2_000_000
	ctx := limits.With(context.Background(), lim)
	runtime.GC()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for range b.N {
		j, err := Def.Prepare(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Def.CPU(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
	// On a shared machine wall time depends on the other tenants; CPU
	// time (user + system, all threads, GC included) is the run's own cost.
	b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(b.N), "cpu-ms/op")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
