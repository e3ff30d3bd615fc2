package dbscan

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

// BenchmarkDBSCAN20k clusters 20,000 2-D points (10 blobs of standard
// deviation 1 in [-20, 20]², plus 10 % uniform noise) with eps 0.3 and
// min_samples 5 (sklearn DBSCAN in the reference benchmark). Run with:
//
//	go test ./kernels/ml/dbscan -run '^$' -bench .
func BenchmarkDBSCAN20k(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 1))
	const n = 20_000
	var centres [10][2]float64
	for i := range centres {
		centres[i] = [2]float64{rng.Float64()*40 - 20, rng.Float64()*40 - 20}
	}
	data := make([]float64, 0, 2*n)
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			data = append(data, rng.Float64()*50-25, rng.Float64()*50-25)
			continue
		}
		c := centres[rng.IntN(len(centres))]
		data = append(data, c[0]+rng.NormFloat64(), c[1]+rng.NormFloat64())
	}
	m := matrix.Dense{Rows: n, Cols: 2, Data: data}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(context.Background(), m, 0.3, 5, distance.Euclidean); err != nil {
			b.Fatal(err)
		}
	}
}
