package montecarlo

import (
	"context"
	"testing"

	"github.com/gokernels/gokernels/kernels/risk/corrmat"
)

// BenchmarkSimulate1e6x100 is the acceptance bar: 10⁶ paths × 100 assets.
// Run with: go test ./kernels/risk/montecarlo -run '^$' -bench Simulate
func BenchmarkSimulate1e6x100(b *testing.B) {
	n := 100
	pf := equicorrelated(b, n, 0.3)
	cfg := Config{Confidence: 0.99, HoldingDays: 10, Paths: 1_000_000, Seed: 7}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Simulate(context.Background(), pf, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func equicorrelated(tb testing.TB, n int, rho float64) Portfolio {
	c := make([]float64, n*n)
	for i := range n {
		for j := range n {
			c[i*n+j] = rho
		}
		c[i*n+i] = 1
	}
	l, err := corrmat.Cholesky(context.Background(), c, n)
	if err != nil {
		tb.Fatal(err)
	}
	pf := Portfolio{Positions: make([]float64, n), ExpectedReturns: make([]float64, n), Volatilities: make([]float64, n), Chol: l}
	for i := range n {
		pf.Positions[i] = 1e6 * float64(1+i%7)
		pf.ExpectedReturns[i] = 0.0002 * float64(i%5-2)
		pf.Volatilities[i] = 0.01 + 0.001*float64(i%11)
	}
	return pf
}

// BenchmarkPathPnL100 is one path of 100 factors on one goroutine.
func BenchmarkPathPnL100(b *testing.B) {
	loading := make([]float64, 100)
	for j := range loading {
		loading[j] = 1 + float64(j)*0.01
	}
	z := make([]float64, 100)
	var s float64
	p := uint64(0)
	for b.Loop() {
		s += PathPnL(7, p, 0, loading, z)
		p++
	}
	sink = s
}

var sink float64
