package metrics

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// BenchmarkTriangles1M counts the triangles of 1,000,000 power-law edges
// (Chung-Lu, exponent 2.5) over 200,000 nodes, the CSR prebuilt (igraph's
// len(Graph.list_triangles()) in the reference benchmark). Run with:
//
//	go test ./kernels/graph/metrics -run '^$' -bench Triangles
func BenchmarkTriangles1M(b *testing.B) {
	const n, m = 200_000, 1_000_000
	rng := rand.New(rand.NewPCG(7, 1))
	cum := make([]float64, n)
	acc := 0.0
	for i := range cum {
		acc += math.Pow(float64(i)+10, -2.0/3)
		cum[i] = acc
	}
	draw := func() int32 { return int32(sort.SearchFloat64s(cum, rng.Float64()*acc)) }
	src, dst := make([]int32, 0, m), make([]int32, 0, m)
	for len(src) < m {
		if a, c := draw(), draw(); a != c {
			src, dst = append(src, a), append(dst, c)
		}
	}
	g, err := csr.Build(n, src, dst, nil, false)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Triangles(context.Background(), g); err != nil {
			b.Fatal(err)
		}
	}
}
