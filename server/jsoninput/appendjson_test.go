package jsoninput

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
)

// TestAppendJSONSameAsStruct: the one-pass rendering parses to the same JSON
// value as the Struct rendering, for tuples, nested rows, maps, optional and
// message fields, escapes, invalid UTF-8 and non-finite and extreme numbers.
func TestAppendJSONSameAsStruct(t *testing.T) {
	outs := []*testingv1.EchoOutput{
		{},
		{Count: -3, Pairs: []*testingv1.Pair{{A: 1, B: 0.5}, {A: -2147483648, B: -1e21}, {A: 7, B: 1e-7}}, Rows: []*testingv1.Row{{Values: []float64{3, 1e308, 5e-324}}, {}},
			Scale: new(float64), Mode: "q\"u\\o\te\x01 é", Nested: &testingv1.Nested{Name: "x"},
			Weights: map[string]float64{"b": 2, "a": math.Inf(1), "c": math.Inf(-1)}, Big: 1 << 52, Flag: true, NotANumber: math.NaN()},
	}
	for _, out := range outs {
		st, err := ToStruct(out)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := protojson.Marshal(st)
		got, err := AppendJSON([]byte("prefix"), out, 0)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[:6]) != "prefix" {
			t.Fatalf("buffer prefix lost: %q", got)
		}
		var g, w any
		if err := json.Unmarshal(got[6:], &g); err != nil {
			t.Fatalf("invalid JSON %s: %v", got[6:], err)
		}
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("AppendJSON\n %s\nStruct\n %s", got[6:], want)
		}
	}
}

// TestAppendJSONExactInt64: 64-bit integers keep every digit.
func TestAppendJSONExactInt64(t *testing.T) {
	got, _ := AppendJSON(nil, &testingv1.EchoOutput{Big: 1<<53 + 1}, 0)
	var v struct{ Big json.Number }
	d := json.NewDecoder(bytesReader(got))
	d.UseNumber()
	if err := d.Decode(&v); err != nil || v.Big != "9007199254740993" {
		t.Fatalf("big = %q (%v) in %s", v.Big, err, got)
	}
}

// TestAppendJSONStopsAtLimit: a rendering over the limit stops early with
// ErrTooLarge instead of building the whole text.
func TestAppendJSONStopsAtLimit(t *testing.T) {
	row := &testingv1.Row{Values: make([]float64, 1_000_000)}
	for i := range row.Values {
		row.Values[i] = float64(i) + 0.123456789
	}
	out := &testingv1.EchoOutput{Rows: []*testingv1.Row{row}}
	b, err := AppendJSON(nil, out, 100_000)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if len(b) > 200_000 {
		t.Fatalf("rendered %d bytes past a 100 kB limit before stopping", len(b))
	}
	if _, err := AppendJSON(nil, out, 50_000_000); err != nil {
		t.Fatalf("under the limit: %v", err)
	}
}

// TestAppendJSONStopsWhenTheContextEnds: rendering a large output stops
// with the context's error once the request's deadline has passed, instead
// of finishing an answer nobody will read.
func TestAppendJSONStopsWhenTheContextEnds(t *testing.T) {
	rows := make([]*testingv1.Row, 100_000)
	for i := range rows {
		rows[i] = &testingv1.Row{Values: []float64{float64(i), 0.5}}
	}
	out := &testingv1.EchoOutput{Rows: rows}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b, err := AppendJSONContext(ctx, nil, out, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if full, _ := AppendJSON(nil, out, 0); len(b) >= len(full)/10 {
		t.Fatalf("rendered %d of %d bytes after the context ended", len(b), len(full))
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// TestAppendJSONInvalidUTF8: a string with invalid UTF-8 (which protojson
// refuses to marshal) renders with U+FFFD, still valid JSON.
func TestAppendJSONInvalidUTF8(t *testing.T) {
	got, err := AppendJSON(nil, &testingv1.EchoOutput{Mode: "a\xffb"}, 0)
	var v struct{ Mode string }
	if err != nil || json.Unmarshal(got, &v) != nil || v.Mode != "a\ufffdb" {
		t.Fatalf("%s: %v %q", got, err, v.Mode)
	}
}

// TestAppendJSONSliceFastPath: numeric lists of generated messages are
// written from their Go slices, byte for byte as the generic protoreflect
// path writes them (a dynamic message takes the generic path).
func TestAppendJSONSliceFastPath(t *testing.T) {
	out := &testingv1.EchoOutput{Rows: []*testingv1.Row{{Values: []float64{0, -1.5, 1e-7, 1e21, 123456789.125, math.Inf(1), math.NaN(), 5e-324}}}}
	row := out.Rows[0].ProtoReflect()
	fd := row.Descriptor().Fields().ByName("values")
	e := jsonEncoder{}
	if !e.numbers(row, fd) {
		t.Fatal("a generated message's []float64 did not take the slice path")
	}
	b, _ := proto.Marshal(out)
	dyn := dynamicpb.NewMessage(out.ProtoReflect().Descriptor())
	if err := proto.Unmarshal(b, dyn); err != nil {
		t.Fatal(err)
	}
	drow := dyn.Get(dyn.Descriptor().Fields().ByName("rows")).List().Get(0).Message()
	if (&jsonEncoder{}).numbers(drow, fd) {
		t.Fatal("a dynamic message took the slice path; the comparison would be vacuous")
	}
	fast, _ := AppendJSON(nil, out, 0)
	generic, _ := AppendJSON(nil, dyn, 0)
	if string(fast) != string(generic) {
		t.Fatalf("slice path %s\ngeneric    %s", fast, generic)
	}
}
