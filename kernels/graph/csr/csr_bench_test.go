package csr

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Run with: go test ./kernels/graph/csr -run '^$' -bench Build
func benchBuild(b *testing.B, build func(int, []int32, []int32, []float64, bool) (*Graph, error), directed bool) {
	const n, m = 100_000, 1_000_000
	rng := rand.New(rand.NewPCG(1, 2))
	src, dst := make([]int32, m), make([]int32, m)
	for i := range src {
		src[i], dst[i] = int32(rng.IntN(n)), int32(rng.IntN(n))
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := build(n, src, dst, nil, directed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuild1M(b *testing.B) {
	for _, directed := range []bool{false, true} {
		b.Run(fmt.Sprintf("counting/directed=%v", directed), func(b *testing.B) { benchBuild(b, Build, directed) })
		b.Run(fmt.Sprintf("sortfunc/directed=%v", directed), func(b *testing.B) { benchBuild(b, buildSorted, directed) })
	}
}
