// Package cudatest holds what the GPU tests share: a registry with the
// domains that have CUDA kernels, and deterministic inputs for each CUDA
// kernel at three scales (unit tests, device correctness checks, and the
// issue's performance targets).
package cudatest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"google.golang.org/protobuf/proto"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	riskv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/risk/v1"
	"github.com/gokernels/gokernels/kernels/graph"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/ml"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/risk"
)

// Registry returns a registry with the graph core, ml clustering and risk
// kernels (every kernel that has a CUDA implementation).
func Registry() (*registry.Registry, error) {
	r := registry.New()
	return r, errors.Join(graph.Register(r), ml.Register(r), risk.Register(r))
}

// Scale selects input sizes.
type Scale int

const (
	Unit   Scale = iota // tiny: unit tests against the emulator
	Check               // moderate: device correctness
	Target              // the performance targets
)

// ParseScale parses "unit", "check" or "target".
func ParseScale(s string) (Scale, error) {
	switch s {
	case "unit":
		return Unit, nil
	case "check", "":
		return Check, nil
	case "target":
		return Target, nil
	}
	return 0, fmt.Errorf("unknown scale %q (unit, check, target)", s)
}

// Case is one kernel input.
type Case struct {
	Name   string // "pagerank-directed"
	Kernel string // registry id
	Size   string // human-readable input size
	Input  proto.Message
}

// Cases returns the inputs of every CUDA kernel at a scale.
func Cases(s Scale) []Case {
	return cases(s, scaleDims[s])
}

type dims struct{ n, m int }

// sizes are the inputs' dimensions at one scale.
type sizes struct {
	g, bc, tri dims
	km         [3]int // samples, features, k
	mc         [2]int // paths, assets
	co         [2]int // series, observations
}

var scaleDims = map[Scale]sizes{
	Unit:   {g: dims{300, 1500}, bc: dims{200, 800}, tri: dims{300, 2000}, km: [3]int{600, 5, 4}, mc: [2]int{20_000, 8}, co: [2]int{12, 200}},
	Check:  {g: dims{20_000, 120_000}, bc: dims{3_000, 15_000}, tri: dims{20_000, 200_000}, km: [3]int{50_000, 16, 8}, mc: [2]int{1_000_000, 50}, co: [2]int{300, 2_000}},
	Target: {g: dims{1_000_000, 10_000_000}, bc: dims{50_000, 250_000}, tri: dims{1_000_000, 10_000_000}, km: [3]int{1_000_000, 32, 16}, mc: [2]int{10_000_000, 100}, co: [2]int{2_000, 10_000}},
}

// Scaled returns the Target cases with every size multiplied by f (0 < f
// ≤ 1): nodes and edges, samples, paths, and series and observations by
// √f each (correlation's work grows with series² × observations). The
// sweep that sets the AUTO thresholds runs them at several f.
func Scaled(f float64) []Case {
	t := scaleDims[Target]
	at := func(x int, f float64) int { return max(2, int(float64(x)*f)) }
	r := math.Sqrt(f)
	return cases(Target, sizes{
		g: dims{at(t.g.n, f), at(t.g.m, f)}, bc: dims{at(t.bc.n, r), at(t.bc.m, r)}, tri: dims{at(t.tri.n, f), at(t.tri.m, f)},
		km: [3]int{at(t.km[0], f), t.km[1], t.km[2]}, mc: [2]int{at(t.mc[0], f), t.mc[1]}, co: [2]int{at(t.co[0], r), at(t.co[1], r)},
	})
}

func cases(s Scale, d sizes) []Case {
	g, bc, tri, km, mc, co := d.g, d.bc, d.tri, d.km, d.mc, d.co

	var out []Case
	size := func(n, m int) string { return fmt.Sprintf("%d nodes, %d edges", n, m) }
	out = append(out,
		// networkx's stopping rule is Σ|Δx| < n·tol: with the default tol
		// a large graph stops after one iteration. 1e-10 makes the
		// iterations (the part that runs on the device) count.
		Case{"pagerank", "graph/pagerank", size(g.n, g.m), &graphv1.PageRankInput{
			NumNodes: int32(g.n), PackedEdges: PowerLawEdges(g.n, g.m, 1), Directed: true, Tolerance: proto.Float64(1e-10)}},
		Case{"pagerank-weighted-undirected", "graph/pagerank", size(g.n/2, g.m/2), &graphv1.PageRankInput{
			NumNodes: int32(g.n / 2), PackedEdges: PowerLawEdges(g.n/2, g.m/2, 2), Weights: Weights(g.m/2, 3)}},
		Case{"betweenness", "graph/betweenness-centrality", size(bc.n, bc.m), &graphv1.BetweennessCentralityInput{
			NumNodes: int32(bc.n), PackedEdges: UniformEdges(bc.n, bc.m, 4)}},
		Case{"betweenness-directed", "graph/betweenness-centrality", size(bc.n/2, bc.m/2), &graphv1.BetweennessCentralityInput{
			NumNodes: int32(bc.n / 2), PackedEdges: UniformEdges(bc.n/2, bc.m/2, 5), Directed: true, Normalized: proto.Bool(false)}},
		Case{"degree", "graph/degree-centrality", size(g.n, g.m), &graphv1.DegreeCentralityInput{
			NumNodes: int32(g.n), PackedEdges: PowerLawEdges(g.n, g.m, 6)}},
		Case{"degree-in", "graph/degree-centrality", size(g.n, g.m), &graphv1.DegreeCentralityInput{
			NumNodes: int32(g.n), PackedEdges: PowerLawEdges(g.n, g.m, 7), Directed: true, Mode: "in"}},
		Case{"components", "graph/connected-components", size(g.n, g.m/4), &graphv1.ConnectedComponentsInput{
			NumNodes: int32(g.n), PackedEdges: UniformEdges(g.n, g.m/4, 8)}},
		Case{"components-directed", "graph/connected-components", size(g.n/4, g.m/8), &graphv1.ConnectedComponentsInput{
			NumNodes: int32(g.n / 4), PackedEdges: UniformEdges(g.n/4, g.m/8, 9), Directed: true}},
		Case{"triangles", "graph/triangle-counting", size(tri.n, tri.m), &graphv1.TriangleCountingInput{
			NumNodes: int32(tri.n), PackedEdges: PowerLawEdges(tri.n, tri.m, 10)}},
		kmeansCase(km[0], km[1], km[2], s),
		mcCase(mc[0], mc[1]),
		corrCase(co[0], co[1]),
	)
	return out
}

func kmeansCase(n, d, k int, s Scale) Case {
	rng := rand.New(rand.NewPCG(11, 12))
	centres := make([]float64, k*d)
	for i := range centres {
		centres[i] = rng.NormFloat64() * 5
	}
	data := make([]float64, n*d)
	for i := 0; i < n; i++ {
		c := rng.IntN(k)
		for j := 0; j < d; j++ {
			data[i*d+j] = centres[c*d+j] + rng.NormFloat64()
		}
	}
	in := &mlv1.KMeansClusterInput{Data: data, NSamples: int32(n), NFeatures: int32(d), K: int32(k), Seed: 7}
	if s == Target {
		// Keep the CPU side of the comparison to tens of seconds.
		in.NInit = proto.Int32(1)
		in.MaxIterations = proto.Int32(50)
	} else {
		in.NInit = proto.Int32(3)
	}
	return Case{"kmeans", "ml/kmeans-cluster", fmt.Sprintf("%d × %d, k = %d, n_init = %d", n, d, k, in.GetNInit()), in}
}

func mcCase(paths, assets int) Case {
	rng := rand.New(rand.NewPCG(13, 14))
	pos := make([]float64, assets)
	vol := make([]float64, assets)
	mu := make([]float64, assets)
	for i := range pos {
		pos[i] = 1e6 * (rng.Float64() - 0.3)
		vol[i] = 0.005 + 0.03*rng.Float64()
		mu[i] = 0.0005 * (rng.Float64() - 0.5)
	}
	// Equicorrelation 0.3 is positive definite.
	rows := make([]*riskv1.Row, assets)
	for i := range rows {
		v := make([]float64, assets)
		for j := range v {
			v[j] = 0.3
		}
		v[i] = 1
		rows[i] = &riskv1.Row{Values: v}
	}
	return Case{"monte-carlo-var", "risk/monte-carlo-var", fmt.Sprintf("%d paths × %d assets", paths, assets),
		&riskv1.MonteCarloVarInput{Positions: pos, Volatilities: vol, ExpectedReturns: mu, Correlation: rows,
			NSimulations: proto.Int32(int32(paths)), Seed: 42, ConfidenceLevel: proto.Float64(0.99)}}
}

func corrCase(n, t int) Case {
	rng := rand.New(rand.NewPCG(15, 16))
	factor := make([]float64, t)
	for k := range factor {
		factor[k] = rng.NormFloat64()
	}
	rows := make([]*riskv1.Row, n)
	for i := range rows {
		v := make([]float64, t)
		beta := rng.Float64()*2 - 1
		for k := range v {
			v[k] = 0.01 * (beta*factor[k] + rng.NormFloat64())
		}
		if i == n/2 {
			for k := range v {
				v[k] = 0.25 // a constant series
			}
		}
		rows[i] = &riskv1.Row{Values: v}
	}
	return Case{"correlation", "risk/realtime-correlation", fmt.Sprintf("%d series × %d observations", n, t),
		&riskv1.RealtimeCorrelationInput{Series: rows}}
}

// UniformEdges returns m random edges on n nodes (duplicates and self-loops
// included, as clients send them) as packed_edges [s0, t0, s1, t1, ...],
// the binary form gRPC clients send.
func UniformEdges(n, m int, seed uint64) []int32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]int32, 2*m)
	for i := 0; i < m; i++ {
		out[2*i], out[2*i+1] = int32(rng.IntN(n)), int32(rng.IntN(n))
	}
	return out
}

// PowerLawEdges returns m edges whose endpoints are skewed towards low ids
// (a heavy-tailed degree distribution, like web and social graphs), packed
// like UniformEdges.
func PowerLawEdges(n, m int, seed uint64) []int32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	pick := func() int32 {
		u := rng.Float64()
		return int32(min(n-1, int(float64(n)*math.Pow(u, 2.5))))
	}
	out := make([]int32, 2*m)
	for i := 0; i < m; i++ {
		out[2*i] = int32(rng.IntN(n))
		out[2*i+1] = pick()
	}
	return out
}

// Weights returns m positive weights.
func Weights(m int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 3))
	w := make([]float64, m)
	for i := range w {
		w[i] = 0.1 + rng.Float64()
	}
	return w
}

// InvalidCases are inputs the kernels must reject (after protovalidate),
// one or more per CUDA kernel.
func InvalidCases() []Case {
	rows := func(vals ...[]float64) []*riskv1.Row {
		out := make([]*riskv1.Row, len(vals))
		for i, v := range vals {
			out[i] = &riskv1.Row{Values: v}
		}
		return out
	}
	return []Case{
		{"pagerank-negative-weight", "graph/pagerank", "", &graphv1.PageRankInput{NumNodes: 2,
			Edges: graphinput.PairList([2]int32{0, 1}), Weights: []float64{-1}}},
		{"pagerank-node-out-of-range", "graph/pagerank", "", &graphv1.PageRankInput{NumNodes: 2,
			Edges: graphinput.PairList([2]int32{0, 2})}},
		{"betweenness-node-out-of-range", "graph/betweenness-centrality", "", &graphv1.BetweennessCentralityInput{NumNodes: 2,
			Edges: graphinput.PairList([2]int32{0, 1}, [2]int32{-1, 1})}},
		{"degree-in-undirected", "graph/degree-centrality", "", &graphv1.DegreeCentralityInput{NumNodes: 2, Mode: "in"}},
		{"components-weights-count", "graph/connected-components", "", &graphv1.ConnectedComponentsInput{NumNodes: 2,
			Edges: graphinput.PairList([2]int32{0, 1}), Weights: []float64{1, 2}}},
		{"triangles-bad-edge", "graph/triangle-counting", "", &graphv1.TriangleCountingInput{NumNodes: 3,
			Edges: graphinput.PairList([2]int32{0, 1}, [2]int32{3, 1})}},
		{"kmeans-k-too-big", "ml/kmeans-cluster", "", &mlv1.KMeansClusterInput{Data: []float64{1, 2}, NSamples: 2, NFeatures: 1, K: 3}},
		{"kmeans-bad-init", "ml/kmeans-cluster", "", &mlv1.KMeansClusterInput{Data: []float64{1, 2, 3}, NSamples: 3, NFeatures: 1, K: 2,
			Init: []float64{1}}},
		{"mc-not-psd", "risk/monte-carlo-var", "", &riskv1.MonteCarloVarInput{Positions: []float64{1, 1, 1}, Volatilities: []float64{0.1, 0.1, 0.1},
			Correlation: rows([]float64{1, 0.9, -0.9}, []float64{0.9, 1, 0.9}, []float64{-0.9, 0.9, 1})}},
		{"mc-vol-count", "risk/monte-carlo-var", "", &riskv1.MonteCarloVarInput{Positions: []float64{1, 1}, Volatilities: []float64{0.1}}},
		{"correlation-ragged", "risk/realtime-correlation", "", &riskv1.RealtimeCorrelationInput{Series: rows([]float64{1, 2, 3}, []float64{1, 2})}},
		{"correlation-short", "risk/realtime-correlation", "", &riskv1.RealtimeCorrelationInput{Series: rows([]float64{1})}},
	}
}
