package jsoninput

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// TestDecode64BitIntegersExactly: int64 and uint64 fields are read as the
// proto3 JSON mapping writes them (numbers and decimal strings) without
// passing through float64, which rounds 2^53+1 to 2^53 and refused
// uint64s above 2^53.
func TestDecode64BitIntegersExactly(t *testing.T) {
	for body, want := range map[string]int64{
		`{"big": 9007199254740993}`:       1<<53 + 1,
		`{"big": "9007199254740993"}`:     1<<53 + 1,
		`{"big": -9007199254740993}`:      -(1<<53 + 1),
		`{"big": 9223372036854775807}`:    math.MaxInt64,
		`{"big": "-9223372036854775808"}`: math.MinInt64,
		`{"big": 1e3}`:                    1000,
		`{"big": "2.50e1"}`:               25,
		`{"big": 12345678901234567.0e2}`:  1234567890123456700,
		`{"big": -0}`:                     0,
	} {
		var in testingv1.EchoInput
		if err := Decode([]byte(body), &in); err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if in.Big != want {
			t.Errorf("%s: got %d, want %d", body, in.Big, want)
		}
	}
	for body, want := range map[string]uint64{
		`{"seed": 9007199254740993}`:         1<<53 + 1,
		`{"seed": "9007199254740993"}`:       1<<53 + 1,
		`{"seed": 18446744073709551615}`:     math.MaxUint64,
		`{"seed": "18446744073709551615"}`:   math.MaxUint64,
		`{"seed": 1.8446744073709551615e19}`: math.MaxUint64,
	} {
		var in mlv1.SecureAggregationInput
		if err := Decode([]byte(body), &in); err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if in.Seed != want {
			t.Errorf("%s: got %d, want %d", body, in.Seed, want)
		}
	}
	bad := []struct{ body, field, msg string }{
		{`{"big": 9223372036854775808}`, "big", "out of range"},
		{`{"big": -9223372036854775809}`, "big", "out of range"},
		{`{"big": 1e19}`, "big", "out of range"},
		{`{"big": 1e999999999999}`, "big", "out of range"},
		{`{"big": 1.5}`, "big", "integer"},
		{`{"big": 1e-999999999}`, "big", "integer"},
		{`{"big": "12a"}`, "big", "integer"},
		{`{"big": " 12"}`, "big", "integer"},
		{`{"big": true}`, "big", "integer"},
		{`{"seed": 18446744073709551616}`, "seed", "out of range"},
		{`{"seed": -1}`, "seed", "out of range"},
	}
	for _, c := range bad {
		var in mlv1.SecureAggregationInput
		var err error
		if strings.Contains(c.body, "big") {
			err = Decode([]byte(c.body), &testingv1.EchoInput{})
		} else {
			err = Decode([]byte(c.body), &in)
		}
		expectField(t, c.body, err, c.field, c.msg)
	}
}

func expectField(t *testing.T, body string, err error, field, msg string) {
	t.Helper()
	fe, ok := kerr.AsField(err)
	if !ok {
		t.Errorf("%s: err=%v, want a field error on %s", body, err, field)
		return
	}
	if fe.Field != field || !strings.Contains(fe.Desc, msg) {
		t.Errorf("%s: got %q: %q, want %q containing %q", body, fe.Field, fe.Desc, field, msg)
	}
}

// TestDecodeRejectsWhatJSONForbids: duplicate keys (also a field under both
// its names), invalid numbers, and numbers beyond a double are errors
// naming the field, not silently "last wins", 7 or ±Inf.
func TestDecodeRejectsWhatJSONForbids(t *testing.T) {
	cases := []struct{ body, field, msg string }{
		{`{"count": 1, "count": 2}`, "count", "more than once"},
		{`{"sleep_ms": 1, "sleepMs": 2}`, "sleepMs", "more than once"},
		{`{"nested": {"name": "a", "name": "b"}}`, "nested.name", "more than once"},
		{`{"pairs": [{"a": 1, "a": 2, "b": 3}]}`, "pairs[0].a", "more than once"},
		{`{"weights": {"k": 1, "k": 2}}`, `weights."k"`, "more than once"},
		{`{"count": 007}`, "count", "not a valid JSON number"},
		{`{"count": 00}`, "count", "not a valid JSON number"},
		{`{"scale": 1.}`, "scale", "not a valid JSON number"},
		{`{"scale": .5}`, "scale", "must be a number"},
		{`{"scale": -}`, "scale", "not a valid JSON number"},
		{`{"scale": 1e}`, "scale", "not a valid JSON number"},
		{`{"scale": 1e+}`, "scale", "not a valid JSON number"},
		{`{"scale": 1-2}`, "scale", "not a valid JSON number"},
		{`{"rows": [[1, 2, 03]]}`, "rows[0][2]", "not a valid JSON number"},
		{`{"scale": "inf"}`, "scale", "must be a number"},
		{`{"scale": "0x10"}`, "scale", "must be a number"},
		{`{"count": "007"}`, "count", "must be a number"},
		{`{"scale": 1e400}`, "scale", "out of range for a double"},
		{`{"scale": -1e400}`, "scale", "out of range for a double"},
		{`{"scale": "1e400"}`, "scale", "out of range for a double"},
		{`{"scale": NaN}`, "scale", "must be a number"},
		{`{"scale": Infinity}`, "scale", "must be a number"},
	}
	for _, c := range cases {
		var in testingv1.EchoInput
		expectField(t, c.body, Decode([]byte(c.body), &in), c.field, c.msg)
	}
	// What stays valid: -0, 0.5, exponents, and NaN/Infinity as strings.
	for _, ok := range []string{`{"scale": -0}`, `{"scale": 0.5e-3}`, `{"scale": 1E+2}`, `{"scale": "NaN"}`, `{"scale": "-Infinity"}`, `{"count": 0}`, `{"count": "12"}`} {
		if err := Decode([]byte(ok), &testingv1.EchoInput{}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestSplitRejectsDuplicateKeys: kernel_id given twice, or as kernel_id and
// kernelId, is an error instead of depending on map order.
func TestSplitRejectsDuplicateKeys(t *testing.T) {
	for _, body := range []string{
		`{"kernel_id": "a", "kernel_id": "b"}`,
		`{"kernel_id": "a", "kernelId": "b"}`,
		`{"input": {}, "input": {}}`,
		`{"typedInput": {}, "typed_input": {}}`,
	} {
		_, err := Split([]byte(body))
		if err == nil || !strings.Contains(err.Error(), "more than once") {
			t.Errorf("%s: err=%v", body, err)
		}
	}
}

// TestFromStructNamesTheNonFiniteField: a Struct (gRPC's JSON-shaped
// input) holding NaN or Inf names the field instead of quoting protojson.
func TestFromStructNamesTheNonFiniteField(t *testing.T) {
	st := &structpb.Struct{Fields: map[string]*structpb.Value{
		"count": structpb.NewNumberValue(1),
		"rows":  structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewNumberValue(1), structpb.NewNumberValue(math.Inf(1))}})}}),
	}}
	err := FromStruct(st, &testingv1.EchoInput{})
	expectField(t, "rows[0][1]=Inf", err, "rows[0][1]", "finite")
	if strings.Contains(err.Error(), "proto:") {
		t.Errorf("message quotes protojson: %v", err)
	}
}
