package jsoninput

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// listValueInputs are edge lists (repeated google.protobuf.ListValue) of
// every shape a JSON client can send, good and bad.
var listValueInputs = []string{
	`{"num_nodes": 3, "edges": [[0, 1], [1, 2]]}`,
	`{"num_nodes": 3, "edges": []}`,
	`{"num_nodes": 3, "edges": [[]]}`,
	`{"num_nodes": 3, "edges": [[0, 1, 2], [1]]}`,
	`{"num_nodes": 3, "edges": [[0.5, -1e308], [1e-320, 9007199254740993]]}`,
	`{"num_nodes": 3, "edges": [[null, true], [false, "x"], ["NaN", "\u00e9\n"]]}`,
	`{"num_nodes": 3, "edges": [[[0, [1, []]], {"a": [1, {"b": null}]}]]}`,
	`{"num_nodes": 3, "edges": [[{}], [{"a": 1, "a": 2}]]}`,
	`{"num_nodes": 3, "edges": [[1e400]]}`,
	`{"num_nodes": 3, "edges": [[-0, 0e5, 1E2, 2.50e1]]}`,
	`{"num_nodes": 3, "edges": [[01]]}`,
	`{"num_nodes": 3, "edges": [[NaN]]}`,
	`{"num_nodes": 3, "edges": [[nul]]}`,
	`{"num_nodes": 3, "edges": [[tru]]}`,
	`{"num_nodes": 3, "edges": [[0 1]]}`,
	`{"num_nodes": 3, "edges": [[0, 1]`,
	`{"num_nodes": 3, "edges": [5]}`,
	`{"num_nodes": 3, "edges": [null]}`,
	`{"num_nodes": 3, "edges": ["01"]}`,
	"{\"num_nodes\": 3, \"edges\": [[\"\xff\"]]}",
	`{"num_nodes": 3, "remove_edges": [[2, 0]], "pairs": []}`,
}

// TestListValueAgreesWithProtojson: the transcoder's own ListValue/Value
// path reads exactly what protojson reads, into the same message, and
// refuses what protojson refuses with a field error.
func TestListValueAgreesWithProtojson(t *testing.T) {
	for _, body := range listValueInputs {
		var a, b graphv1.DegreeCentralityInput
		// The ListValue path itself (Decode writes plain pairs as
		// packed_edges; packededges_test.go compares the two).
		errA := decode([]byte(body), &a, false)
		errB := protojson.Unmarshal([]byte(body), &b)
		if errA != nil {
			if _, ok := kerr.AsField(errA); !ok {
				t.Errorf("%s: error %v is not a field error", body, errA)
			}
		}
		switch {
		case (errA == nil) != (errB == nil):
			// protojson reports a duplicate key in an object inside a
			// Value; so do we. Anything else must agree.
			t.Errorf("%s: Decode error %v, protojson error %v", body, errA, errB)
		case errA == nil && !proto.Equal(&a, &b):
			t.Errorf("%s: Decode gave %v, protojson %v", body, &a, &b)
		}
	}
}

// TestValueFieldsAgreeWithProtojson: the same for a singular Value field
// (a forensic-query predicate's value) and a map of Values.
func TestValueFieldsAgreeWithProtojson(t *testing.T) {
	for _, v := range []string{`1.5`, `"x"`, `true`, `[1, "a", [null]]`, `{"k": [1]}`, `-1e308`, `1e999`, `[`} {
		body := `{"field": "amount", "op": "GT", "value": ` + v + `}`
		var a, b behavioralv1.Predicate
		errA := Decode([]byte(body), &a)
		errB := protojson.Unmarshal([]byte(body), &b)
		if (errA == nil) != (errB == nil) || errA == nil && !proto.Equal(&a, &b) {
			t.Errorf("%s: Decode %v (%v), protojson %v (%v)", body, &a, errA, &b, errB)
		}
	}
}

// TestListValueErrorsNameTheElement: an error inside an edge names the edge
// and the value, as graphinput does for the shapes JSON can carry.
func TestListValueErrorsNameTheElement(t *testing.T) {
	for _, c := range []struct{ body, field string }{
		{`{"edges": [[0, 1], [0, 1e400]]}`, "edges[1][1]"},
		{`{"edges": [[0, 1], [0, [1, 01]]]}`, "edges[1][1][1]"},
		{`{"edges": [[0, 1], null]}`, "edges[1]"},
		{"{\"edges\": [[0, \"\xff\"]]}", "edges[0][1]"},
	} {
		var in graphv1.DegreeCentralityInput
		fe, ok := kerr.AsField(Decode([]byte(c.body), &in))
		if !ok || fe.Field != c.field {
			t.Errorf("%s: %v, want a field error on %s", c.body, fe, c.field)
		}
	}
}

// TestListValueDepthIsBounded: arrays nested beyond any real input are a
// field error, not a stack overflow.
func TestListValueDepthIsBounded(t *testing.T) {
	const n = 200_000
	body := `{"edges": [` + strings.Repeat("[", n) + strings.Repeat("]", n) + `]}`
	var in graphv1.DegreeCentralityInput
	if _, ok := kerr.AsField(Decode([]byte(body), &in)); !ok {
		t.Fatal("deep nesting: no field error")
	}
}
