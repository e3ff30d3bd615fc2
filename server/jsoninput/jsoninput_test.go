package jsoninput

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

func TestDecodeTuplesAndFields(t *testing.T) {
	var in testingv1.EchoInput
	err := Decode([]byte(`{"count": 3, "pairs": [[1, 2.5], {"a": 4, "b": -1}], "rows": [[1, 2], []],
		"scale": 0.5, "mode": "fast", "nested": {"name": "x"}, "weights": {"k": 2}, "big": 9007199254740992,
		"sleepMs": 7, "flag": true}`), &in)
	if err != nil {
		t.Fatal(err)
	}
	want := &testingv1.EchoInput{
		Count: 3,
		Pairs: []*testingv1.Pair{{A: 1, B: 2.5}, {A: 4, B: -1}},
		Rows:  []*testingv1.Row{{Values: []float64{1, 2}}, {}},
		Scale: proto.Float64(0.5), Mode: "fast", Nested: &testingv1.Nested{Name: "x"},
		Weights: map[string]float64{"k": 2}, Big: 1 << 53, SleepMs: 7, Flag: true,
	}
	if !proto.Equal(&in, want) {
		t.Fatalf("got %v\nwant %v", &in, want)
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	cases := []struct{ body, field, msg string }{
		{`{"pairs": [[1, 2], [1]]}`, "pairs[1]", "array of 2"},
		{`{"pairs": [[1.5, 2]]}`, "pairs[0][0]", "integer"},
		{`{"count": "x"}`, "count", "number"},
		{`{"count": 3000000000}`, "count", "out of range"},
		{`{"nope": 1}`, "nope", "unknown field"},
		{`{"nested": {"nme": "x"}}`, "nested.nme", "unknown field"},
		{`{"rows": [[1, "a"]]}`, "rows[0][1]", "number"},
		{`{"pairs": 5}`, "pairs", "array"},
		{`{"nested": [1]}`, "nested", "object"},
		{`[1, 2]`, "input", "object"},
		{`{"count": `, "input", "malformed"},
	}
	for _, c := range cases {
		var in testingv1.EchoInput
		err := Decode([]byte(c.body), &in)
		fe, ok := kerr.AsField(err)
		if !ok {
			t.Errorf("%s: err=%v, want a field error", c.body, err)
			continue
		}
		if fe.Field != c.field || !strings.Contains(fe.Desc, c.msg) {
			t.Errorf("%s: got %q: %q, want %q containing %q", c.body, fe.Field, fe.Desc, c.field, c.msg)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	out := &testingv1.EchoOutput{
		Count: 2, Pairs: []*testingv1.Pair{{A: 1, B: 0.5}}, Rows: []*testingv1.Row{{Values: []float64{3}}},
		Big: 42, NotANumber: math.NaN(),
	}
	s, err := ToStruct(out)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := protojson.Marshal(s)
	got := string(b)
	for _, want := range []string{`"pairs":[[1,0.5]]`, `"rows":[[3]]`, `"big":42`, `"not_a_number":"NaN"`, `"flag":false`} {
		if !strings.Contains(strings.ReplaceAll(got, " ", ""), want) {
			t.Errorf("encoded %s lacks %s", got, want)
		}
	}
	if strings.Contains(got, "scale") || strings.Contains(got, "nested") {
		t.Errorf("unset optional/message fields were emitted: %s", got)
	}
}

// TestDecodeAgreesWithFromStruct: the one-pass decoder and the Struct path
// (used for gRPC's JSON-shaped input) produce the same message, including
// for inputs with escapes, nested tuples and non-finite numbers.
func TestDecodeAgreesWithFromStruct(t *testing.T) {
	inputs := []string{
		`{"count": 3, "pairs": [[1, 2.5e-3], {"a": -4, "b": "NaN"}], "rows": [[1, 2], [], [3.25]], "mode": "fa\u0073t"}`,
		`{"nested": {"name": "x\"y\\z"}, "weights": {"k\u00e9": -0.5, "b": "Infinity"}, "big": -9007199254740992}`,
		`{ "sleepMs" : 1 , "flag" : false , "scale" : null }`,
	}
	for _, s := range inputs {
		var a, b testingv1.EchoInput
		if err := Decode([]byte(s), &a); err != nil {
			t.Fatalf("Decode(%s): %v", s, err)
		}
		var st structpb.Struct
		if err := protojson.Unmarshal([]byte(s), &st); err != nil {
			t.Fatal(err)
		}
		if err := FromStruct(&st, &b); err != nil {
			t.Fatalf("FromStruct(%s): %v", s, err)
		}
		if !proto.Equal(&a, &b) {
			t.Errorf("%s:\nDecode     %v\nFromStruct %v", s, &a, &b)
		}
	}
}

func TestSplit(t *testing.T) {
	m, err := Split([]byte(` {"kernel_id": "g/x", "input": {"a": [1, {"b": "}"}]}, "metadata": null} `))
	if err != nil {
		t.Fatal(err)
	}
	if string(m["input"]) != `{"a": [1, {"b": "}"}]}` || string(m["kernel_id"]) != `"g/x"` || string(m["metadata"]) != "null" {
		t.Fatalf("%q", m)
	}
	for _, bad := range []string{`[1]`, `{"a": 1,}`, `{"a": 1} x`, `{"a": [1}`} {
		if _, err := Split([]byte(bad)); err == nil {
			t.Errorf("Split(%s) accepted", bad)
		}
	}
}

// graphBody is a 1,000,000-edge graph input as REST clients send it.
func graphBody() []byte {
	const n, m = 200_000, 1_000_000
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"num_nodes": %d, "directed": true, "edges": [`, n)
	for i := 0; i < m; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "[%d,%d]", (i*7919)%n, (i*104729)%n)
	}
	sb.WriteString("]}")
	return []byte(sb.String())
}

// BenchmarkTranscodeGraph is the REST gateway's work for a 1,000,000-edge
// graph: JSON to protobuf wire format. B/op against input-bytes is the
// transient memory the serving-performance issue bounds (≤ 4×).
func BenchmarkTranscodeGraph(b *testing.B) {
	data := graphBody()
	md := (&graphv1.PageRankInput{}).ProtoReflect().Descriptor()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ReportMetric(float64(len(data)), "input-bytes")
	for b.Loop() {
		if _, err := Transcode(data, md); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeGraph decodes the same body into the typed message, as the
// in-process path (and the fuzz tests) do.
func BenchmarkDecodeGraph(b *testing.B) {
	data := graphBody()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ReportMetric(float64(len(data)), "input-bytes")
	for b.Loop() {
		var in graphv1.PageRankInput
		if err := Decode(data, &in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdlibDecodeGraph is the baseline the graph issue compares with:
// encoding/json decoding the same body into a plain Go struct.
func BenchmarkStdlibDecodeGraph(b *testing.B) {
	data := graphBody()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var in struct {
			NumNodes int        `json:"num_nodes"`
			Directed bool       `json:"directed"`
			Edges    [][2]int32 `json:"edges"`
		}
		if err := json.Unmarshal(data, &in); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecode: arbitrary bytes never panic either decoder, every error names
// a field, and when both accept an input they agree.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"count": 3, "pairs": [[1, 2.5]], "rows": [[1, 2]], "weights": {"a": 1}, "nested": {"name": "x"}}`))
	f.Add([]byte(`{"pairs": [[1, 2, 3]], "big": 1e300, "mode": "\ud800"}`))
	f.Add([]byte(`{"rows": [[` + strings.Repeat("1,", 50) + `1]], "scale": "NaN"}`))
	f.Add([]byte(`{"big": 9007199254740993, "count": 007, "weights": {"a": 1, "a": 2}, "sleepMs": 1, "sleep_ms": 2}`))
	f.Add([]byte(`{"big": "-9223372036854775808", "scale": 1e400, "pairs": [{"a": 1, "a": 1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a testingv1.EchoInput
		errA := Decode(data, &a)
		if errA != nil {
			if _, ok := kerr.AsField(errA); !ok {
				t.Fatalf("Decode error is not a field error: %v", errA)
			}
		}
		var st structpb.Struct
		if protojson.Unmarshal(data, &st) != nil {
			return
		}
		var b testingv1.EchoInput
		errB := FromStruct(&st, &b)
		if errB != nil {
			if _, ok := kerr.AsField(errB); !ok {
				t.Fatalf("FromStruct error is not a field error: %v", errB)
			}
		}
		// A Struct holds numbers as doubles, so a 64-bit integer reaches
		// FromStruct already rounded; Decode reads it exactly. They agree
		// once Decode's result is rounded the same way.
		a.Big = int64(float64(a.Big))
		if errA == nil && errB == nil && !proto.Equal(&a, &b) {
			t.Fatalf("decoders disagree on %q:\n%v\n%v", data, &a, &b)
		}
	})
}
