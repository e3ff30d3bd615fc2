package lof

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

// BenchmarkLOF20k is LOF with 20 neighbours on 20,000 × 8 samples (6 blobs
// plus 2 % uniform outliers; sklearn LocalOutlierFactor in the reference
// benchmark). Run with:
//
//	go test ./kernels/ml/lof -run '^$' -bench .
func BenchmarkLOF20k(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 1))
	const n, d = 20_000, 8
	centres := make([]float64, 6*d)
	for i := range centres {
		centres[i] = rng.Float64()*20 - 10
	}
	data := make([]float64, n*d)
	for i := 0; i < n; i++ {
		c := rng.IntN(6)
		for j := 0; j < d; j++ {
			if i%50 == 0 {
				data[i*d+j] = rng.Float64()*30 - 15
			} else {
				data[i*d+j] = centres[c*d+j] + rng.NormFloat64()
			}
		}
	}
	m := matrix.Dense{Rows: n, Cols: d, Data: data}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(context.Background(), m, 20, distance.Euclidean); err != nil {
			b.Fatal(err)
		}
	}
}
