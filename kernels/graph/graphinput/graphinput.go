// Package graphinput turns the common fields of every graph kernel's input
// (num_nodes, edges or packed_edges, weights, directed) into a csr.Graph, enforcing the
// server's size limits and reporting bad input as kerr field errors named
// the way the JSON request names them ("num_nodes", "edges[3]",
// "edges[3][1]", "weights", "weights[7]").
//
// edges (and remove_edges, and the similarity kernels' pairs) are the JSON
// form of a pair list: google.protobuf.ListValue items, so that protojson
// clients such as grpcurl can send [[0, 1], [1, 2]] as they are. Pair reads
// one item, checking what the type cannot: exactly two numbers, integers,
// ids in [0, num_nodes).
package graphinput

import (
	"context"
	"errors"
	"math"
	"strconv"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// Fields is what every generated graph input message has (num_nodes,
// edges, weights, directed, packed_edges as fields 1-5).
type Fields interface {
	GetNumNodes() int32
	GetEdges() []*structpb.ListValue
	GetWeights() []float64
	GetDirected() bool
	GetPackedEdges() []int32
}

// FromInput is Build on an input message's common fields (its edges given
// as edges or as packed_edges).
func FromInput(ctx context.Context, in Fields) (*csr.Graph, error) {
	src, dst, err := EdgesOf(ctx, in)
	if err != nil {
		return nil, err
	}
	var w []float64
	if len(in.GetWeights()) > 0 {
		w = in.GetWeights()
	}
	return csrBuildNamed(int(in.GetNumNodes()), src, dst, w, in.GetDirected(), edgeName(in))
}

// EdgesOf validates an input's common fields like Edges, reading the edges
// from edges or packed_edges (not both), as parallel source/target slices.
func EdgesOf(ctx context.Context, in Fields) (src, dst []int32, err error) {
	p := in.GetPackedEdges()
	if len(p) == 0 {
		return Edges(ctx, in.GetNumNodes(), in.GetEdges(), in.GetWeights())
	}
	if len(in.GetEdges()) > 0 {
		return nil, nil, kerr.Invalid("packed_edges", "give edges or packed_edges, not both (%d edges and %d packed ids)", len(in.GetEdges()), len(p))
	}
	if len(p)%2 != 0 {
		return nil, nil, kerr.Invalid("packed_edges", "must hold [source, target] pairs: %d ids is an odd count", len(p))
	}
	numNodes, m, weights := in.GetNumNodes(), len(p)/2, in.GetWeights()
	if err := checkCommon(ctx, numNodes, "packed_edges", m, weights); err != nil {
		return nil, nil, err
	}
	src = make([]int32, m)
	dst = make([]int32, m)
	for i := range m {
		s, t := p[2*i], p[2*i+1]
		if s < 0 || s >= numNodes || t < 0 || t >= numNodes {
			return nil, nil, kerr.Invalid(field("packed_edges", 2*i), "node id out of range [0, %d): [%d, %d]", numNodes, s, t)
		}
		src[i], dst[i] = s, t
	}
	return src, dst, finiteWeights(weights)
}

// edgeName names the i-th edge the way the request spelled it.
func edgeName(in Fields) func(int) string {
	if len(in.GetPackedEdges()) > 0 {
		return func(i int) string { return field("packed_edges", 2*i) }
	}
	return func(i int) string { return field("edges", i) }
}

// UndirectedView validates an input's common fields like Build but returns
// the unweighted undirected graph on its edges (G.to_undirected() without
// edge data), for kernels that ignore direction and weights, such as
// triangle counting.
func UndirectedView(ctx context.Context, in Fields) (*csr.Graph, error) {
	src, dst, err := EdgesOf(ctx, in)
	if err != nil {
		return nil, err
	}
	return csrBuildNamed(int(in.GetNumNodes()), src, dst, nil, false, edgeName(in))
}

// Build validates the common graph fields and builds the CSR graph.
//
// It checks, in this order and before allocating anything proportional to
// num_nodes: num_nodes >= 1 and within limits.MaxNodes; the edge count
// within limits.MaxEdges; weights either absent or one per edge; every edge
// present with both ids in [0, num_nodes); every weight finite. Weights are
// used when given (weighted graph), ignored otherwise. Duplicate edges and
// self-loops follow networkx's simple graphs (see csr.Build).
func Build(ctx context.Context, numNodes int32, edges []*structpb.ListValue, weights []float64, directed bool) (*csr.Graph, error) {
	src, dst, err := Edges(ctx, numNodes, edges, weights)
	if err != nil {
		return nil, err
	}
	var w []float64
	if len(weights) > 0 {
		w = weights
	}
	return csrBuild(int(numNodes), src, dst, w, directed)
}

// csrBuild builds the CSR, turning its errors into field errors.
func csrBuild(n int, src, dst []int32, w []float64, directed bool) (*csr.Graph, error) {
	return csrBuildNamed(n, src, dst, w, directed, func(i int) string { return field("edges", i) })
}

func csrBuildNamed(n int, src, dst []int32, w []float64, directed bool, name func(int) string) (*csr.Graph, error) {
	g, err := csr.Build(n, src, dst, w, directed)
	if err != nil {
		var ee *csr.EdgeError
		if errors.As(err, &ee) {
			return nil, kerr.Invalid(name(ee.Index), "%s", ee.Msg)
		}
		return nil, kerr.Invalid("edges", "%v", err)
	}
	return g, nil
}

// Edges validates the common fields like Build but returns the edges as
// parallel source/target slices instead of building a CSR, for kernels
// that work on the raw edge list (union-find components).
func Edges(ctx context.Context, numNodes int32, edges []*structpb.ListValue, weights []float64) (src, dst []int32, err error) {
	if err := checkCommon(ctx, numNodes, "edges", len(edges), weights); err != nil {
		return nil, nil, err
	}
	src = make([]int32, len(edges))
	dst = make([]int32, len(edges))
	for i, e := range edges {
		s, t, err := Pair("edges", i, e, numNodes)
		if err != nil {
			return nil, nil, err
		}
		src[i], dst[i] = s, t
	}
	return src, dst, finiteWeights(weights)
}

// Pair reads item i of the pair list called name (edges, remove_edges,
// pairs): a list of exactly two numbers that are integers, each in
// [0, numNodes). A wrong count or an id out of range is an error on
// name[i] ("edges[3]"); a value that is not an integer — a string, null,
// a bool, a list, 1.5, NaN, ±1e308 — is an error on name[i][j]. It never
// allocates unless it fails.
func Pair(name string, i int, item *structpb.ListValue, numNodes int32) (u, v int32, err error) {
	vals := item.GetValues()
	if len(vals) != 2 {
		return 0, 0, kerr.Invalid(field(name, i), "must be a pair [u, v] of node ids, got %d values", len(vals))
	}
	u, err = intValue(name, i, 0, vals[0])
	if err != nil {
		return 0, 0, err
	}
	v, err = intValue(name, i, 1, vals[1])
	if err != nil {
		return 0, 0, err
	}
	if u < 0 || u >= numNodes || v < 0 || v >= numNodes {
		return 0, 0, kerr.Invalid(field(name, i), "node id out of range [0, %d): [%d, %d]", numNodes, u, v)
	}
	return u, v, nil
}

// intValue reads a node id: a number that is an integer in int32 range.
// Every float64 that passes is exact (|x| < 2^31), so 2^53+1, rounded to
// 2^53 by any JSON reader, is out of range rather than misread.
func intValue(name string, i, j int, x *structpb.Value) (int32, error) {
	n, ok := x.GetKind().(*structpb.Value_NumberValue)
	if !ok {
		return 0, kerr.Invalid(field(name, i)+"["+strconv.Itoa(j)+"]", "must be an integer node id, got %s", kindName(x))
	}
	f := n.NumberValue
	// NaN fails the first test (NaN != NaN), ±Inf the range test.
	if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, kerr.Invalid(field(name, i)+"["+strconv.Itoa(j)+"]", "must be an integer node id in int32 range, got %v", f)
	}
	return int32(f), nil
}

// kindName names what a non-number Value holds, for error messages.
func kindName(x *structpb.Value) string {
	switch x.GetKind().(type) {
	case *structpb.Value_StringValue:
		return "a string"
	case *structpb.Value_BoolValue:
		return "a bool"
	case *structpb.Value_ListValue:
		return "a list"
	case *structpb.Value_StructValue:
		return "an object"
	}
	return "null"
}

// PairList builds the JSON form of a pair list (edges, remove_edges,
// pairs) from [u, v] pairs: for tests and Go callers that hold ids. Clients
// that send many edges should use packed_edges instead.
func PairList(pairs ...[2]int32) []*structpb.ListValue {
	out := make([]*structpb.ListValue, len(pairs))
	for i, p := range pairs {
		out[i] = &structpb.ListValue{Values: []*structpb.Value{structpb.NewNumberValue(float64(p[0])), structpb.NewNumberValue(float64(p[1]))}}
	}
	return out
}

// checkCommon checks num_nodes, the edge count m (of the field named
// edges) against the limits and the weights' count, before anything
// proportional to them is allocated.
func checkCommon(ctx context.Context, numNodes int32, edges string, m int, weights []float64) error {
	lim := limits.From(ctx)
	if numNodes < 1 {
		return kerr.Invalid("num_nodes", "must be at least 1, got %d", numNodes)
	}
	if err := limits.Check("num_nodes", int(numNodes), lim.MaxNodes); err != nil {
		return err
	}
	if err := limits.Check(edges, m, lim.MaxEdges); err != nil {
		return err
	}
	if len(weights) != 0 && len(weights) != m {
		return kerr.Invalid("weights", "must have one value per edge: %d weights for %d edges", len(weights), m)
	}
	return nil
}

func finiteWeights(weights []float64) error {
	for i, w := range weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return kerr.Invalid(field("weights", i), "must be finite")
		}
	}
	return nil
}

// NonNegative rejects negative weights (shortest paths, PageRank, ...),
// naming the first offender.
func NonNegative(weights []float64) error {
	for i, w := range weights {
		if w < 0 {
			return kerr.Invalid(field("weights", i), "must be non-negative, got %v", w)
		}
	}
	return nil
}

// Positive rejects weights that are not strictly positive (betweenness,
// where zero-length edges make shortest-path counts ill-defined).
func Positive(weights []float64) error {
	for i, w := range weights {
		if !(w > 0) {
			return kerr.Invalid(field("weights", i), "must be positive, got %v", w)
		}
	}
	return nil
}

// Node checks that a node-id parameter (such as a source) is in range.
func Node(name string, id, numNodes int32) error {
	if id < 0 || id >= numNodes {
		return kerr.Invalid(name, "node id %d out of range [0, %d)", id, numNodes)
	}
	return nil
}

func field(name string, i int) string {
	return name + "[" + strconv.Itoa(i) + "]"
}
