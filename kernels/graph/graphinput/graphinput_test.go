package graphinput

import (
	"context"
	"math"
	"reflect"
	"slices"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

func edges(pairs ...[2]int32) []*structpb.ListValue { return PairList(pairs...) }

// item is one edge written as the given JSON-ish values.
func item(vals ...*structpb.Value) *structpb.ListValue { return &structpb.ListValue{Values: vals} }

func num(f float64) *structpb.Value { return structpb.NewNumberValue(f) }

func TestBuild(t *testing.T) {
	g, err := Build(context.Background(), 4, edges([2]int32{0, 1}, [2]int32{1, 0}, [2]int32{2, 2}), []float64{1, 5, 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	if g.N != 4 || g.NumEdges != 2 || g.SelfLoops != 1 {
		t.Fatalf("N=%d edges=%d loops=%d, want 4, 2, 1", g.N, g.NumEdges, g.SelfLoops)
	}
	// The later duplicate's weight wins, as in networkx.
	if w, ok := g.EdgeWeight(0, 1); !ok || w != 5 {
		t.Fatalf("weight(0,1) = %v, %v; want 5", w, ok)
	}
	g, err = Build(context.Background(), 3, edges([2]int32{0, 1}), nil, true)
	if err != nil || g.Weighted || !g.Directed || g.HasEdge(1, 0) {
		t.Fatalf("directed unweighted build: %+v, %v", g, err)
	}
}

func TestBuildErrors(t *testing.T) {
	small := limits.With(context.Background(), limits.Limits{MaxNodes: 10, MaxEdges: 2})
	cases := []struct {
		name    string
		ctx     context.Context
		n       int32
		edges   []*structpb.ListValue
		weights []float64
		field   string
	}{
		{"no nodes", context.Background(), 0, nil, nil, "num_nodes"},
		{"too many nodes", small, 11, nil, nil, "num_nodes"},
		{"too many edges", small, 3, edges([2]int32{0, 1}, [2]int32{1, 2}, [2]int32{0, 2}), nil, "edges"},
		{"id too big", context.Background(), 3, edges([2]int32{0, 1}, [2]int32{1, 3}), nil, "edges[1]"},
		{"negative id", context.Background(), 3, edges([2]int32{-1, 1}), nil, "edges[0]"},
		{"nil edge", context.Background(), 3, []*structpb.ListValue{nil}, nil, "edges[0]"},
		{"weights length", context.Background(), 3, edges([2]int32{0, 1}), []float64{1, 2}, "weights"},
		{"nan weight", context.Background(), 3, edges([2]int32{0, 1}, [2]int32{1, 2}), []float64{1, math.NaN()}, "weights[1]"},
		{"inf weight", context.Background(), 3, edges([2]int32{0, 1}), []float64{math.Inf(1)}, "weights[0]"},
	}
	for _, c := range cases {
		_, err := Build(c.ctx, c.n, c.edges, c.weights, false)
		fe, ok := kerr.AsField(err)
		if !ok || fe.Field != c.field {
			t.Errorf("%s: got %v, want a field error on %q", c.name, err, c.field)
		}
	}
}

// TestEdgeShapes: every item of edges must be exactly two numbers that are
// integers in [0, num_nodes); anything protojson can put in a ListValue
// that is not that is a field error naming the item or the value, never a
// panic or a misread id.
func TestEdgeShapes(t *testing.T) {
	ok := item(num(0), num(1))
	for _, c := range []struct {
		name  string
		bad   *structpb.ListValue
		field string
	}{
		{"empty", item(), "edges[1]"},
		{"one id", item(num(0)), "edges[1]"},
		{"three ids", item(num(0), num(1), num(2)), "edges[1]"},
		{"null", item(structpb.NewNullValue(), num(1)), "edges[1][0]"},
		{"nil value", item(num(0), nil), "edges[1][1]"},
		{"string", item(num(0), structpb.NewStringValue("1")), "edges[1][1]"},
		{"bool", item(structpb.NewBoolValue(true), num(1)), "edges[1][0]"},
		{"nested list", item(structpb.NewListValue(item(num(0))), num(1)), "edges[1][0]"},
		{"object", item(num(0), structpb.NewStructValue(&structpb.Struct{})), "edges[1][1]"},
		{"fraction", item(num(0.5), num(1)), "edges[1][0]"},
		{"NaN", item(num(math.NaN()), num(1)), "edges[1][0]"},
		{"+Inf", item(num(0), num(math.Inf(1))), "edges[1][1]"},
		{"-Inf", item(num(math.Inf(-1)), num(1)), "edges[1][0]"},
		{"1e308", item(num(0), num(1e308)), "edges[1][1]"},
		{"-1e308", item(num(-1e308), num(1)), "edges[1][0]"},
		{"2^53+1", item(num(1<<53+1), num(1)), "edges[1][0]"},
		{"2^31", item(num(1<<31), num(1)), "edges[1][0]"},
		{"-2^31-1", item(num(0), num(-1<<31-1)), "edges[1][1]"},
		{"int32 but out of range", item(num(0), num(3)), "edges[1]"},
		{"negative int32", item(num(-1), num(0)), "edges[1]"},
	} {
		_, err := Build(context.Background(), 3, []*structpb.ListValue{ok, c.bad}, nil, false)
		fe, isField := kerr.AsField(err)
		if !isField || fe.Field != c.field {
			t.Errorf("%s: got %v, want a field error on %q", c.name, err, c.field)
		}
	}
	// Integral doubles are ids, whatever their spelling in JSON (1, 1.0, 1e0).
	src, dst, err := Edges(context.Background(), 3, []*structpb.ListValue{item(num(2), num(1.0))}, nil)
	if err != nil || src[0] != 2 || dst[0] != 1 {
		t.Fatalf("Edges([[2, 1.0]]) = %v %v %v", src, dst, err)
	}
	// The same rules name remove_edges and pairs by their own names.
	if _, _, err := Pair("pairs", 4, item(num(0), structpb.NewStringValue("x")), 3); fieldOf(err) != "pairs[4][1]" {
		t.Errorf("Pair(pairs): %v", err)
	}
	if _, _, err := Pair("remove_edges", 2, item(num(0), num(9)), 3); fieldOf(err) != "remove_edges[2]" {
		t.Errorf("Pair(remove_edges): %v", err)
	}
}

// TestPairDoesNotAllocate: reading a valid edge costs no allocation, so a
// million-edge list costs only its own ListValues.
func TestPairDoesNotAllocate(t *testing.T) {
	lv := PairList([2]int32{3, 7})[0]
	allocs := testing.AllocsPerRun(100, func() {
		if u, v, err := Pair("edges", 0, lv, 10); err != nil || u != 3 || v != 7 {
			t.Fatalf("Pair = %d %d %v", u, v, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Pair allocates %v times per edge", allocs)
	}
}

func fieldOf(err error) string {
	fe, _ := kerr.AsField(err)
	if fe == nil {
		return ""
	}
	return fe.Field
}

func TestWeightSigns(t *testing.T) {
	if err := NonNegative([]float64{0, 1}); err != nil {
		t.Fatal(err)
	}
	if fe, ok := kerr.AsField(NonNegative([]float64{0, -1})); !ok || fe.Field != "weights[1]" {
		t.Fatalf("NonNegative: %v", fe)
	}
	if fe, ok := kerr.AsField(Positive([]float64{1, 0})); !ok || fe.Field != "weights[1]" {
		t.Fatalf("Positive: %v", fe)
	}
	if fe, ok := kerr.AsField(Node("source", 5, 5)); !ok || fe.Field != "source" {
		t.Fatalf("Node: %v", fe)
	}
}

type packedInput = graphv1.PageRankInput

func TestPackedEdgesBuildTheSameGraph(t *testing.T) {
	pairs := [][2]int32{{0, 1}, {1, 0}, {2, 2}, {3, 1}, {0, 1}, {2, 3}}
	w := []float64{1, 5, 2, 0.5, 7, 3}
	var flat []int32
	for _, p := range pairs {
		flat = append(flat, p[0], p[1])
	}
	for _, directed := range []bool{false, true} {
		a, err := FromInput(context.Background(), &packedInput{NumNodes: 4, Edges: edges(pairs...), Weights: w, Directed: directed})
		if err != nil {
			t.Fatal(err)
		}
		b, err := FromInput(context.Background(), &packedInput{NumNodes: 4, PackedEdges: flat, Weights: w, Directed: directed})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("directed=%v: packed_edges built %+v, edges built %+v", directed, b, a)
		}
		ua, _ := UndirectedView(context.Background(), &packedInput{NumNodes: 4, Edges: edges(pairs...)})
		ub, _ := UndirectedView(context.Background(), &packedInput{NumNodes: 4, PackedEdges: flat})
		if !reflect.DeepEqual(ua, ub) {
			t.Errorf("undirected views differ: %+v vs %+v", ub, ua)
		}
	}
	src, dst, err := EdgesOf(context.Background(), &packedInput{NumNodes: 4, PackedEdges: flat})
	if err != nil || !slices.Equal(src, []int32{0, 1, 2, 3, 0, 2}) || !slices.Equal(dst, []int32{1, 0, 2, 1, 1, 3}) {
		t.Errorf("EdgesOf = %v %v %v", src, dst, err)
	}
}

func TestPackedEdgesErrors(t *testing.T) {
	small := limits.With(context.Background(), limits.Limits{MaxNodes: 10, MaxEdges: 2})
	for _, tc := range []struct {
		name  string
		in    *packedInput
		field string
	}{
		{"both forms", &packedInput{NumNodes: 3, Edges: edges([2]int32{0, 1}), PackedEdges: []int32{1, 2}}, "packed_edges"},
		{"odd count", &packedInput{NumNodes: 3, PackedEdges: []int32{0, 1, 2}}, "packed_edges"},
		{"target out of range", &packedInput{NumNodes: 3, PackedEdges: []int32{0, 1, 2, 3}}, "packed_edges[2]"},
		{"negative source", &packedInput{NumNodes: 3, PackedEdges: []int32{0, 1, -1, 2}}, "packed_edges[2]"},
		{"weights per pair", &packedInput{NumNodes: 3, PackedEdges: []int32{0, 1, 1, 2}, Weights: []float64{1}}, "weights"},
		{"non-finite weight", &packedInput{NumNodes: 3, PackedEdges: []int32{0, 1, 1, 2}, Weights: []float64{1, math.Inf(1)}}, "weights[1]"},
		{"over the edge cap", &packedInput{NumNodes: 3, PackedEdges: []int32{0, 1, 1, 2, 2, 0}}, "packed_edges"},
		{"no nodes", &packedInput{NumNodes: 0, PackedEdges: []int32{0, 0}}, "num_nodes"},
	} {
		_, err := FromInput(small, tc.in)
		fe, ok := kerr.AsField(err)
		if !ok || fe.Field != tc.field {
			t.Errorf("%s: error %v, want a field error on %s", tc.name, err, tc.field)
		}
	}
}
