package components

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// benchEdges draws m undirected pairs without self-loops on n nodes with
// Chung-Lu power-law degrees (exponent 2.5), like scripts/bench/graph.py.
func benchEdges(n, m int) (src, dst []int32) {
	rng := rand.New(rand.NewPCG(7, 1))
	cum := make([]float64, n)
	acc := 0.0
	for i := range cum {
		acc += math.Pow(float64(i)+10, -2.0/3)
		cum[i] = acc
	}
	draw := func() int32 { return int32(sort.SearchFloat64s(cum, rng.Float64()*acc)) }
	for len(src) < m {
		if a, b := draw(), draw(); a != b {
			src, dst = append(src, a), append(dst, b)
		}
	}
	return src, dst
}

// BenchmarkWeakEdges1M is union-find on 1,000,000 edges over 200,000 nodes,
// what graph/connected-components runs for undirected graphs (igraph's
// Graph.connected_components() in the reference benchmark). Run with:
//
//	go test ./kernels/graph/components -run '^$' -bench .
func BenchmarkWeakEdges1M(b *testing.B) {
	const n = 200_000
	src, dst := benchEdges(n, 1_000_000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := WeakEdges(context.Background(), n, src, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStrong compares Strong (Pearce) with the textbook Tarjan search
// in one run, on 1,000,000 directed power-law arcs over 100,000 nodes (the
// shape of compliance/circular-flow's benchmark graph):
//
//	go test ./kernels/graph/components -run '^$' -bench Strong
func BenchmarkStrong(b *testing.B) {
	const n = 100_000
	src, dst := benchEdges(n, 1_000_000)
	g, err := csr.Build(n, src, dst, nil, true)
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name string
		f    func(context.Context, *csr.Graph) (Result, error)
	}{{"pearce", Strong}, {"tarjan", tarjan}} {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := impl.f(context.Background(), g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
