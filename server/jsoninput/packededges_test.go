package jsoninput

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/limits"
)

// packedEdgesCases are graph inputs of every shape, and whether Decode
// should write their edges as packed_edges (the rest go as ListValue items).
var packedEdgesCases = []struct {
	body   string
	packed bool
}{
	// Plain pairs, ids below num_nodes: packed.
	{`{"num_nodes": 3, "edges": [[0, 1], [1, 2]]}`, true},
	{`{"edges": [[0,1],[1,2]], "num_nodes": 3}`, true},
	{" {\n \"num_nodes\" : 3 ,\t\"edges\" : [ [ 0 , 1 ] , [ 2 , 2 ] ] , \"weights\": [1, 2] } ", true},
	{`{"numNodes": 3, "edges": [[0,1]], "directed": true}`, true},
	{`{"num_nodes": 3, "edges": [[0,1]], "weights": [1, 2]}`, true},        // weights count: same error
	{`{"num_nodes": 3, "edges": [[0,1]], "weights": ["NaN"]}`, true},       // weights[0]: same error
	{`{"num_nodes": 3, "edges": [[0,1]], "remove_edges": [[0, 1]]}`, true}, // remove_edges stay ListValue
	{`{"num_nodes": 2147483647, "edges": [[2147483646, 0]]}`, true},        // num_nodes over the cap: same error
	{`{"num_nodes": 3, "edges": [[0,1]], "packed_edges": null}`, false},    // given (null): ListValue, to be safe
	{`{"num_nodes": 3, "edges": [[0,1]], "damping": 0.5, "tolerance": 1e-3}`, true},
	// Errors elsewhere in the body, after packed edges.
	{`{"num_nodes": 3, "edges": [[0,1]], "directed": "x"}`, false},
	{`{"num_nodes": 3, "edges": [[0,1]], "nope": 1}`, false},
	{`{"num_nodes": 3, "edges": [[0,1]], "edges": [[1,2]]}`, false},
	{`{"num_nodes": 3, "edges": [[0,1]], "weights": [1]`, false},
	{`{"num_nodes": 3, "edges": [[0,1]]} x`, false},
	{`{"num_nodes": "3", "edges": [[0,1]]}`, true},
	{`{"num_nodes": 3.5, "edges": [[0,1]]}`, false},
	// Ids the kernel refuses, or num_nodes not above them: ListValue.
	{`{"num_nodes": 2, "edges": [[0,1],[1,2]]}`, false},
	{`{"num_nodes": 3, "edges": [[0,1],[5,0]], "weights": [1, 2]}`, false},
	{`{"num_nodes": 2147483647, "edges": [[2147483647, 0]]}`, false},
	{`{"edges": [[0,1]]}`, false},
	{`{"num_nodes": 0, "edges": [[0,0]]}`, false},
	{`{"num_nodes": -1, "edges": [[0,0]]}`, false},
	{`{"num_nodes": null, "edges": [[0,0]]}`, false},
	// Both edges and packed_edges, in either order: ListValue (the kernel's
	// "not both" error on packed_edges, or none when packed_edges is empty).
	{`{"num_nodes": 3, "edges": [[0,1]], "packed_edges": [1,2]}`, false},
	{`{"num_nodes": 3, "packed_edges": [1,2], "edges": [[0,1]]}`, false},
	{`{"num_nodes": 3, "edges": [[0,1]], "packed_edges": []}`, false},
	{`{"num_nodes": 3, "packedEdges": [], "edges": [[0,1]]}`, false},
	{`{"num_nodes": 3, "packed_edges": [0, 1, 1, 2]}`, false},
	// Shapes the fast path leaves to ListValue: the same errors, named
	// edges[i] or edges[i][j].
	{`{"num_nodes": 3, "edges": []}`, false},
	{`{"num_nodes": 3, "edges": null}`, false},
	{`{"num_nodes": 3, "edges": {}}`, false},
	{`{"num_nodes": 3, "edges": 5}`, false},
	{`{"num_nodes": 3, "edges": [[]]}`, false},
	{`{"num_nodes": 3, "edges": [[0]]}`, false},
	{`{"num_nodes": 3, "edges": [[0, 1, 2]]}`, false},
	{`{"num_nodes": 3, "edges": [[0, 1], [1]]}`, false},
	{`{"num_nodes": 3, "edges": [[0, 1.5]]}`, false},
	{`{"num_nodes": 3, "edges": [[1.0, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[1e0, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[1E0, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[-0, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[-1, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[01, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[0, "1"]]}`, false},
	{`{"num_nodes": 3, "edges": [[0, "NaN"]]}`, false},
	{`{"num_nodes": 3, "edges": [[0, NaN]]}`, false},
	{`{"num_nodes": 3, "edges": [[0, null]]}`, false},
	{`{"num_nodes": 3, "edges": [[true, 1]]}`, false},
	{`{"num_nodes": 3, "edges": [[{}, 1]]}`, false},
	{`{"num_nodes": 3, "edges": [[[0], 1]]}`, false},
	{`{"num_nodes": 3, "edges": [[1e308, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[-1e308, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[1e400, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[9007199254740993, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[2147483648, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[4294967296, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [[12345678901, 0]]}`, false},
	{`{"num_nodes": 3, "edges": [null]}`, false},
	{`{"num_nodes": 3, "edges": ["x"]}`, false},
	{`{"num_nodes": 3, "edges": [5]}`, false},
	{`{"num_nodes": 3, "edges": [{}]}`, false},
	{"{\"num_nodes\": 3, \"edges\": [[0, \"\xff\"]]}", false},
	// A bad item after good ones: the packed start is undone.
	{`{"num_nodes": 3, "edges": [[0,1],[1,2],[0,"x"]]}`, false},
	{`{"num_nodes": 3, "edges": [[0,1],[1,2],[0,1,2]]}`, false},
	// Malformed JSON inside and around the pairs.
	{`{"num_nodes": 3, "edges": [[0,1]`, false},
	{`{"num_nodes": 3, "edges": [[0,1],]}`, false},
	{`{"num_nodes": 3, "edges": [[0 1]]}`, false},
	{`{"num_nodes": 3, "edges": [[0,1][1,2]]}`, false},
	{`{"num_nodes": 3, "edges": [[0,1}}`, false},
	{`{"num_nodes": 3, "edges": [[0,`, false},
	{`{"num_nodes": 3, "edges": [[0,1x]]}`, false},
}

// decodeBoth decodes body with and without packing into fresh messages.
func decodeBoth(body string) (fast, slow *graphv1.PageRankInput, errFast, errSlow error) {
	fast, slow = &graphv1.PageRankInput{}, &graphv1.PageRankInput{}
	errFast = decode([]byte(body), fast, true)
	errSlow = decode([]byte(body), slow, false)
	return fast, slow, errFast, errSlow
}

// checkSameAsListValue fails unless decoding body with packed edges gives
// what the ListValue path gives: the same error, or the same message once
// packed_edges are turned back into edges, and the same edges or the same
// error (field and text) from graphinput.EdgesOf, the kernels' reader.
// It reports whether the edges went as packed_edges.
func checkSameAsListValue(t *testing.T, body string) bool {
	t.Helper()
	fast, slow, errFast, errSlow := decodeBoth(body)
	if fmt.Sprint(errFast) != fmt.Sprint(errSlow) {
		t.Errorf("%q: packed error %v, ListValue error %v", body, errFast, errSlow)
		return false
	}
	if errFast != nil {
		return false
	}
	packed := len(fast.GetPackedEdges()) > 0 && len(slow.GetPackedEdges()) == 0
	if packed {
		if len(fast.GetEdges()) != 0 {
			t.Errorf("%q: both edges and packed_edges written", body)
		}
		back := proto.Clone(fast).(*graphv1.PageRankInput)
		p := back.GetPackedEdges()
		pairs := make([][2]int32, len(p)/2)
		for i := range pairs {
			pairs[i] = [2]int32{p[2*i], p[2*i+1]}
		}
		back.PackedEdges, back.Edges = nil, graphinput.PairList(pairs...)
		if !proto.Equal(back, slow) {
			t.Errorf("%q: packed decodes to %v, ListValue to %v", body, fast, slow)
		}
	} else if !proto.Equal(fast, slow) {
		t.Errorf("%q: decodes to %v, ListValue path to %v", body, fast, slow)
	}
	ctx := limits.With(context.Background(), limits.Limits{})
	srcF, dstF, errF := graphinput.EdgesOf(ctx, fast)
	srcS, dstS, errS := graphinput.EdgesOf(ctx, slow)
	if fmt.Sprint(errF) != fmt.Sprint(errS) || !slices.Equal(srcF, srcS) || !slices.Equal(dstF, dstS) {
		t.Errorf("%q: kernel reads packed as %v %v (%v), ListValue as %v %v (%v)", body, srcF, dstF, errF, srcS, dstS, errS)
	}
	return packed
}

// TestPackedEdgesSameAsListValue: for every shape of graph input, good and
// bad, writing edges as packed_edges changes nothing a client sees — the
// decode error, the edges the kernel reads and the field its errors name —
// and the plain ones do go the packed way.
func TestPackedEdgesSameAsListValue(t *testing.T) {
	for _, c := range packedEdgesCases {
		if got := checkSameAsListValue(t, c.body); got != c.packed {
			t.Errorf("%q: packed %v, want %v", c.body, got, c.packed)
		}
	}
}

// TestPackedEdgesErrorNames: an out-of-range id found by the kernel is
// named edges[i] (not packed_edges[2i]) whatever the decoder did, and a
// malformed one edges[i][j].
func TestPackedEdgesErrorNames(t *testing.T) {
	ctx := limits.With(context.Background(), limits.Limits{})
	for body, want := range map[string]string{
		`{"num_nodes": 3, "edges": [[0,1],[1,2],[3,0]]}`:            "edges[2]",
		`{"num_nodes": 3, "edges": [[0,1],[1,2],[0,1.5]]}`:          "edges[2][1]",
		`{"num_nodes": 3, "edges": [[0,1]], "packed_edges": [0,1]}`: "packed_edges",
		`{"edges": [[0,1]]}`: "num_nodes",
	} {
		var in graphv1.PageRankInput
		if err := Decode([]byte(body), &in); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		_, _, err := graphinput.EdgesOf(ctx, &in)
		if !strings.HasPrefix(fmt.Sprint(err), want+":") {
			t.Errorf("%s: kernel error %v, want one on %s", body, err, want)
		}
	}
}

// TestFromStructKeepsEdges: the Struct path (rings' Configure and data
// messages, gRPC's JSON-shaped input) never packs, so a ring names the
// field the client sent.
func TestFromStructKeepsEdges(t *testing.T) {
	var in graphv1.PageRankInput
	var st structpb.Struct
	if err := protojson.Unmarshal([]byte(`{"num_nodes": 3, "edges": [[0, 1]]}`), &st); err != nil {
		t.Fatal(err)
	}
	if err := FromStruct(&st, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.GetEdges()) != 1 || len(in.GetPackedEdges()) != 0 {
		t.Fatalf("FromStruct gave %v", &in)
	}
}

// TestPackedEdgesAllocations: a large edge list costs a few allocations in
// all, not seven per edge.
func TestPackedEdgesAllocations(t *testing.T) {
	const m = 2000
	var sb strings.Builder
	sb.WriteString(`{"num_nodes": 100, "edges": [`)
	for i := range m {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "[%d,%d]", i%100, (i*7)%100)
	}
	sb.WriteString("]}")
	body := []byte(sb.String())
	allocs := func(pack bool) float64 {
		return testing.AllocsPerRun(5, func() {
			var in graphv1.PageRankInput
			if err := decode(body, &in, pack); err != nil {
				t.Fatal(err)
			}
		})
	}
	fast, slow := allocs(true), allocs(false)
	if fast > 20 || slow < 5*m {
		t.Errorf("allocations for %d edges: packed %.0f (want ≤ 20), ListValue %.0f (want ≥ %d)", m, fast, slow, 5*m)
	}
}

// FuzzPackedEdges: on any body, packing edges agrees with the ListValue
// path as TestPackedEdgesSameAsListValue checks.
func FuzzPackedEdges(f *testing.F) {
	for _, c := range packedEdgesCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameAsListValue(t, string(data))
	})
}
