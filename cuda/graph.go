package cuda

import (
	"context"

	"google.golang.org/protobuf/proto"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph"
	"github.com/gokernels/gokernels/kernels/graph/centrality"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/graph/metrics"
	"github.com/gokernels/gokernels/kernels/registry"
)

// The graph kernels' GPU paths run on the job the kernel's Prepare built
// (kernels/graph: validation, limits, defaults, networkx simple-graph
// semantics, CSR) and move only the algorithm to the device, so outputs
// agree by construction on everything but floating-point summation order.
// Size, Bytes and Supports read the raw input: they run before admission
// and must stay cheap.

// graphFields is what every graph input has.
type graphFields interface {
	proto.Message
	graphinput.Fields
}

func edgesOf(in proto.Message) int64 {
	if g, ok := in.(graphFields); ok {
		return int64(len(g.GetEdges()) + len(g.GetPackedEdges())/2)
	}
	return 0
}

func nodesOf(in proto.Message) int64 {
	if g, ok := in.(graphFields); ok {
		return max(0, int64(g.GetNumNodes()))
	}
	return 0
}

// arcsOf bounds the CSR arcs: an undirected edge is two arcs.
func arcsOf(in proto.Message) int64 {
	m := edgesOf(in)
	if g, ok := in.(graphFields); ok && !g.GetDirected() {
		return 2 * m
	}
	return m
}

func weightedOf(in proto.Message) bool {
	g, ok := in.(graphFields)
	return ok && len(g.GetWeights()) > 0
}

// ------------------------------------------------------------- PageRank

func pageRankSpec() *Spec {
	return &Spec{
		// Measured (docs/gpu.md, TestDeviceSweep on an H200 with 16 host cores, 2026-12-04):
		// the GPU path is no faster at any size from 3k to 10M edges
		// (0.2–1.2×): building the CSR on the host dominates both paths.
		// AUTO keeps it on the CPU; backend=CUDA runs it on demand.
		ID: graph.PageRank.ID, Threshold: 1 << 40, SizeUnit: "edges",
		Size: edgesOf,
		Bytes: func(in proto.Message, _ DeviceInfo) int64 {
			n, m := nodesOf(in), arcsOf(in)
			b := add(sat(n+1, 4), sat(m, 4), sat(n, 8*4), sat(n, 4)) // in-CSR, x/next/y/inv, dangling
			if weightedOf(in) {
				b = add(b, sat(m, 8))
			}
			return add(b, 1<<20)
		},
		Run: registry.DeviceFunc(graph.PageRank, func(ctx context.Context, dev Device, j graph.PageRankJob) (*graphv1.PageRankOutput, error) {
			r, err := dev.PageRank(ctx, pageRankJob(j.G, j.Damping, j.MaxIter, j.Tol))
			if err != nil {
				return nil, err
			}
			return &graphv1.PageRankOutput{Scores: r.Scores, Iterations: int32(r.Iterations), Converged: r.Converged}, nil
		}),
	}
}

// pageRankJob is the device form of a PageRank job: the in-arc CSR and
// the row normalisation centrality.PageRank uses.
func pageRankJob(g *csr.Graph, damping float64, maxIter int, tol float64) *PageRankJob {
	inv, dangling := centrality.OutStrengthInverse(g)
	return &PageRankJob{N: g.N, InPtr: g.InPtr, InIdx: g.InIdx, InW: g.InW, Inv: inv, Dangling: dangling,
		Damping: damping, MaxIter: maxIter, Tol: tol}
}

// ---------------------------------------------------------- betweenness

func betweennessSpec() *Spec {
	return &Spec{
		// Measured (docs/gpu.md, TestDeviceSweep on an H200 with 16 host cores, 2026-12-04):
		// 5.6× at 456 nodes × 2,282 edges (1.0e6), 13–30× above.
		ID: graph.Betweenness.ID, Threshold: 1_000_000, SizeUnit: "nodes × edges",
		Size: func(in proto.Message) int64 { return sat(nodesOf(in), max(1, edgesOf(in))) },
		Bytes: func(in proto.Message, dev DeviceInfo) int64 {
			n, m := nodesOf(in), arcsOf(in)
			return add(sat(n+1, 4), sat(m, 4), sat(n, 8), sat(BetweennessBlocks(int(n), dev), PerSourceBytes(n)), 1<<20)
		},
		Supports: func(in proto.Message) (bool, string) {
			if weightedOf(in) {
				return false, "weighted graphs need Dijkstra, which runs on the CPU only; omit weights or use backend CPU"
			}
			return true, ""
		},
		Run: registry.DeviceFunc(graph.Betweenness, func(ctx context.Context, dev Device, j graph.BetweennessJob) (*graphv1.BetweennessCentralityOutput, error) {
			g := j.G
			if g.W != nil { // not chosen by the selector; correct anyway
				return graph.Betweenness.CPU(ctx, j)
			}
			bc, err := dev.Betweenness(ctx, &BetweennessJob{N: g.N, Ptr: g.Ptr, Idx: g.Idx})
			if err != nil {
				return nil, err
			}
			if scale, ok := centrality.BetweennessScale(g.N, j.Normalized, g.Directed); ok {
				for v := range bc {
					bc[v] *= scale
				}
			}
			return &graphv1.BetweennessCentralityOutput{Scores: bc}, nil
		}),
	}
}

// PerSourceBytes is the device scratch of one concurrent Brandes search
// over n nodes: depth (int32), sigma, delta coefficient (float64), BFS order
// and level offsets (int32).
func PerSourceBytes(n int64) int64 { return sat(n, 4+8+8+4+4) + 64 }

// BetweennessBlocks is the number of sources searched concurrently: two
// per multiprocessor (one thread block each), at most n, and at most what
// 1 GiB of scratch allows.
func BetweennessBlocks(n int, dev DeviceInfo) int64 {
	sms := dev.SMs
	if sms <= 0 {
		sms = 132 // H100 SXM; the estimate only needs to be in range
	}
	b := int64(2 * sms)
	if per := PerSourceBytes(int64(n)); per > 0 {
		b = min(b, max(1, (1<<30)/per))
	}
	return max(1, min(b, int64(n)))
}

// --------------------------------------------------------------- degree

func degreeSpec() *Spec {
	return &Spec{
		// The CSR is built on the host either way and the degree pass is
		// O(n): the GPU cannot win on AUTO, so the threshold is above any
		// admissible graph. Measured (docs/gpu.md, TestDeviceSweep on an H200 with 16 host cores, 2026-12-04):
		// 0.6–1.3× from 3k to 10M edges. backend=CUDA runs it on demand.
		ID: graph.Degree.ID, Threshold: 1 << 40, SizeUnit: "edges",
		Size: edgesOf,
		Bytes: func(in proto.Message, _ DeviceInfo) int64 {
			n, m := nodesOf(in), arcsOf(in)
			return add(sat(n+1, 8), sat(m, 4), sat(n, 8), 1<<20)
		},
		Run: registry.DeviceFunc(graph.Degree, func(ctx context.Context, dev Device, j graph.DegreeJob) (*graphv1.DegreeCentralityOutput, error) {
			g := j.G
			if g.N <= 1 {
				return graph.Degree.CPU(ctx, j)
			}
			job := &DegreeJob{N: g.N, Directed: g.Directed, Mode: int(j.Mode), Ptr: g.Ptr, Idx: g.Idx,
				Scale: 1 / float64(g.N-1)}
			if g.Directed {
				job.InPtr = g.InPtr
			}
			scores, err := dev.Degree(ctx, job)
			if err != nil {
				return nil, err
			}
			return &graphv1.DegreeCentralityOutput{Scores: scores}, nil
		}),
	}
}

// ----------------------------------------------------------- components

func componentsSpec() *Spec {
	return &Spec{
		// Measured (docs/gpu.md, TestDeviceSweep on an H200 with 16 host cores, 2026-12-04):
		// undirected 1.6× at 25k edges, 3× at 250k, 5× at 2.5M; directed
		// (the SCC's CPU part is larger) 0.8–1.1× up to 125k, 1.2× at 1.25M.
		ID: graph.ConnectedComponents.ID, Threshold: 250_000, SizeUnit: "edges",
		Size: edgesOf,
		Bytes: func(in proto.Message, _ DeviceInfo) int64 {
			return add(sat(edgesOf(in), 8), sat(nodesOf(in), 4), 1<<20)
		},
		Run: registry.DeviceFunc(graph.ConnectedComponents, func(ctx context.Context, dev Device, j graph.ComponentsJob) (*graphv1.ConnectedComponentsOutput, error) {
			if j.G == nil { // undirected: the edge list
				rep, err := dev.WeakComponents(ctx, j.N, j.Src, j.Dst)
				if err != nil {
					return nil, err
				}
				return graph.ComponentsOutput(canonicalFromRoots(rep), nil), nil
			}
			// Directed: weak components on the device (from the arcs),
			// strong components by Tarjan on the CPU (inherently sequential).
			g := j.G
			rep, err := dev.WeakComponents(ctx, g.N, arcSources(g), g.Idx)
			if err != nil {
				return nil, err
			}
			strong, err := components.Strong(ctx, g)
			if err != nil {
				return nil, err
			}
			return graph.ComponentsOutput(canonicalFromRoots(rep), &strong), nil
		}),
	}
}

// arcSources expands the CSR row pointers into one source per arc.
func arcSources(g *csr.Graph) []int32 {
	src := make([]int32, len(g.Idx))
	for u := 0; u < g.N; u++ {
		for e := g.Ptr[u]; e < g.Ptr[u+1]; e++ {
			src[e] = int32(u)
		}
	}
	return src
}

// canonicalFromRoots turns "smallest node of my component" into the
// components package's canonical labels: components numbered in the order
// of their smallest node.
func canonicalFromRoots(rep []int32) components.Result {
	labels := make([]int32, len(rep))
	var sizes []int32
	for v, r := range rep {
		if int(r) == v {
			labels[v] = int32(len(sizes))
			sizes = append(sizes, 0)
		} else {
			labels[v] = labels[r] // r < v: already labelled
		}
		sizes[labels[v]]++
	}
	return components.Result{Labels: labels, Sizes: sizes}
}

// ------------------------------------------------------------ triangles

func trianglesSpec() *Spec {
	return &Spec{
		// Measured (docs/gpu.md, TestDeviceSweep on an H200 with 16 host cores, 2026-12-04):
		// 1.2–1.35× from 100k to 1M edges, 1.0× at 10M (host CSR build).
		ID: graph.TriangleCounting.ID, Threshold: 100_000, SizeUnit: "edges",
		Size: edgesOf,
		Bytes: func(in proto.Message, _ DeviceInfo) int64 {
			n, m := nodesOf(in), edgesOf(in)
			return add(sat(n+1, 4), sat(m, 4), sat(n, 8), 1<<20)
		},
		Run: registry.DeviceFunc(graph.TriangleCounting, func(ctx context.Context, dev Device, g *csr.Graph) (*graphv1.TriangleCountingOutput, error) {
			optr, oidx, err := metrics.Orient(ctx, g)
			if err != nil {
				return nil, err
			}
			per, err := dev.Triangles(ctx, optr, oidx)
			if err != nil {
				return nil, err
			}
			var sum int64
			for _, c := range per {
				sum += c
			}
			return &graphv1.TriangleCountingOutput{Triangles: per, Total: sum / 3}, nil
		}),
	}
}
