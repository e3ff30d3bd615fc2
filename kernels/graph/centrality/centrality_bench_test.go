package centrality

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// The graphs of the reference benchmarks (scripts/bench/graph.py, where
// the same computations run against python-igraph). Run with:
//
//	go test ./kernels/graph/centrality -run '^$' -bench .

// benchEdges draws m distinct undirected pairs without self-loops on n
// nodes, endpoints chosen with probability proportional to (i+10)^-alpha
// (alpha = 0: uniform, a G(n, m) graph; alpha = 2/3: Chung-Lu power-law
// degrees with exponent 2.5).
func benchEdges(n, m int, alpha float64, seed uint64) (src, dst []int32) {
	rng := rand.New(rand.NewPCG(seed, 1))
	cum := make([]float64, n)
	acc := 0.0
	for i := range cum {
		acc += math.Pow(float64(i)+10, -alpha)
		cum[i] = acc
	}
	draw := func() int32 { return int32(sort.SearchFloat64s(cum, rng.Float64()*acc)) }
	seen := make(map[uint64]bool, m)
	for len(src) < m {
		a, b := draw(), draw()
		if a == b {
			continue
		}
		lo, hi := min(a, b), max(a, b)
		if key := uint64(lo)<<32 | uint64(hi); !seen[key] {
			seen[key] = true
			src, dst = append(src, a), append(dst, b)
		}
	}
	return src, dst
}

func benchGraph(b *testing.B, n, m int, alpha float64, directed bool) *csr.Graph {
	src, dst := benchEdges(n, m, alpha, 7)
	g, err := csr.Build(n, src, dst, nil, directed)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// BenchmarkBetweenness5k is Brandes on a G(n, m) graph with 5,000 nodes and
// 25,000 edges (igraph's Graph.betweenness() in the reference benchmark).
func BenchmarkBetweenness5k(b *testing.B) {
	g := benchGraph(b, 5000, 25_000, 0, false)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Betweenness(context.Background(), g, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPageRank1M is PageRank on 1,000,000 power-law arcs over 200,000
// nodes, the CSR prebuilt (see BenchmarkPageRank1MWithBuild).
func BenchmarkPageRank1M(b *testing.B) {
	g := benchGraph(b, 200_000, 1_000_000, 2.0/3, true)
	b.ResetTimer()
	for b.Loop() {
		if _, err := PageRank(context.Background(), g, 0.85, 100, 1e-6); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPageRank1MWithBuild includes building the CSR from the edge
// list, as the graph/pagerank kernel does per request.
func BenchmarkPageRank1MWithBuild(b *testing.B) {
	const n = 200_000
	src, dst := benchEdges(n, 1_000_000, 2.0/3, 7)
	b.ResetTimer()
	for b.Loop() {
		g, err := csr.Build(n, src, dst, nil, true)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := PageRank(context.Background(), g, 0.85, 100, 1e-6); err != nil {
			b.Fatal(err)
		}
	}
}
