package arima

import (
	"context"
	"math/rand/v2"
	"testing"
)

// benchARMA simulates n points of an ARMA(len(ar), len(ma)) process with
// unit-variance Gaussian innovations and the given mean (200 burn-in).
func benchARMA(n int, ar, ma []float64, mean float64) []float64 {
	rng := rand.New(rand.NewPCG(7, 1))
	const burn = 200
	x := make([]float64, n+burn)
	e := make([]float64, n+burn)
	for t := range x {
		e[t] = rng.NormFloat64()
		v := e[t]
		for i, a := range ar {
			if t-1-i >= 0 {
				v += a * x[t-1-i]
			}
		}
		for i, b := range ma {
			if t-1-i >= 0 {
				v += b * e[t-1-i]
			}
		}
		x[t] = v
	}
	y := x[burn:]
	for i := range y {
		y[i] += mean
	}
	return y
}

// BenchmarkFitARIMA201 fits ARIMA(2,0,1) with a mean to 1,000 points and
// forecasts 10 steps (statsmodels ARIMA(...).fit() in the reference
// benchmark). Run with:
//
//	go test ./kernels/temporal/arima -run '^$' -bench .
func BenchmarkFitARIMA201(b *testing.B) {
	y := benchARMA(1000, []float64{0.6, -0.3}, []float64{0.4}, 5)
	o := Order{P: 2, Q: 1, Mean: true}
	b.ResetTimer()
	for b.Loop() {
		m, err := Fit(context.Background(), y, o)
		if err != nil {
			b.Fatal(err)
		}
		m.Forecast(10, 0.05)
	}
}

// BenchmarkFitARIMA202Long is ARIMA(2,0,2) with a mean on 5,000 points.
func BenchmarkFitARIMA202Long(b *testing.B) {
	y := benchARMA(5000, []float64{0.5, 0.2}, []float64{0.3, -0.2}, 1)
	o := Order{P: 2, Q: 2, Mean: true}
	b.ResetTimer()
	for b.Loop() {
		m, err := Fit(context.Background(), y, o)
		if err != nil {
			b.Fatal(err)
		}
		m.Forecast(10, 0.05)
	}
}
