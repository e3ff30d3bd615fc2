package monitoring

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txfold"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
)

// benchRing applies one-transaction data messages to a handler with the
// ten rules of tenRules over the given number of accounts, two transactions a second
// (172,800 a day: the day-long windows hold that many), and reports
// transactions/s. The first 131,072 messages (18 hours) are applied
// before the clock starts, so the state is near its steady size.
func benchRing(b *testing.B, accounts int, newHandler func() fold.Handler) {
	ctx := context.Background()
	const n = 1 << 19
	txs := stream(n, accounts, 1)
	for i, tx := range txs {
		tx.Ts = int64(i) / 2
	}
	msgs := make([]*compliancev1.TransactionMonitoringInput, n)
	for i, tx := range txs {
		msgs[i] = &compliancev1.TransactionMonitoringInput{Transactions: []*financev1.Transaction{tx}}
	}
	const warm = 1 << 17
	rc := foldtest.New(ctx, 1)
	var h fold.Handler
	reset := func() {
		h = newHandler()
		if err := h.Configure(ctx, tenRules()); err != nil {
			b.Fatal(err)
		}
		for _, m := range msgs[:warm] {
			if err := h.Apply(rc, m); err != nil {
				b.Fatal(err)
			}
			rc.Clear()
		}
	}
	reset()
	b.ReportAllocs()
	runtime.GC()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for i := range b.N {
		k := warm + i%(n-warm)
		if k == warm && i > 0 {
			b.StopTimer()
			reset()
			b.StartTimer()
		}
		if err := h.Apply(rc, msgs[k]); err != nil {
			b.Fatal(err)
		}
		if len(rc.Events()) > 1024 {
			rc.Clear()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
	// On a shared machine wall time depends on the other tenants; CPU
	// time (user + system, GC included) is this process's own cost.
	b.ReportMetric(float64(b.N)/(cpuSeconds()-cpu0), "tx/cpu-s")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkRingApply: the incremental handler. Floor (issue 16): >= 200,000
// transactions/s in-process with 10 rules.
func BenchmarkRingApply(b *testing.B) {
	b.Run("accounts=10k", func(b *testing.B) { benchRing(b, 10_000, RingSpec.New) })
	b.Run("accounts=100k", func(b *testing.B) { benchRing(b, 100_000, RingSpec.New) })
}

// BenchmarkRingApplyTxfold is the baseline in the same run: the previous
// handler, which stored every transaction and evaluated nothing per
// message.
func BenchmarkRingApplyTxfold(b *testing.B) {
	b.Run("accounts=100k", func(b *testing.B) { benchRing(b, 100_000, txfold.Spec(Def).New) })
}
