package kmeans

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

// benchBlobs is n × d samples from k Gaussian blobs (centres uniform in
// [-10, 10]^d, standard deviation 1.5), as scripts/bench/ml.py draws them.
func benchBlobs(n, d, k int) matrix.Dense {
	rng := rand.New(rand.NewPCG(7, 1))
	centres := make([]float64, k*d)
	for i := range centres {
		centres[i] = rng.Float64()*20 - 10
	}
	data := make([]float64, n*d)
	for i := 0; i < n; i++ {
		c := rng.IntN(k)
		for j := 0; j < d; j++ {
			data[i*d+j] = centres[c*d+j] + 1.5*rng.NormFloat64()
		}
	}
	return matrix.Dense{Rows: n, Cols: d, Data: data}
}

// BenchmarkKMeans100kx16 is k-means++ with n_init = 10 on 100,000 × 16
// samples, k = 8 (sklearn KMeans(n_init=10, algorithm="lloyd") in the
// reference benchmark). Run with:
//
//	go test ./kernels/ml/kmeans -run '^$' -bench .
func BenchmarkKMeans100kx16(b *testing.B) {
	m := benchBlobs(100_000, 16, 8)
	p := Params{K: 8, MaxIter: 300, Tol: 1e-4, NInit: 10, Seed: 1}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(context.Background(), m, p); err != nil {
			b.Fatal(err)
		}
	}
}
