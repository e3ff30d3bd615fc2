package jsoninput

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
)

// TestStructJSONSameAsProtojson: the fast Struct writer gives protojson's
// text byte for byte (after compacting protojson's random whitespace), on
// edge-case values and on random trees.
func TestStructJSONSameAsProtojson(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var structs []*structpb.Struct
	edge := []any{0.0, math.Copysign(0, -1), 1e-7, 1e-6, 9.99e-7, 1e20, 1e21, 1.5e300, -1e308, 5e-324, math.MaxFloat64,
		float64(1<<53 + 1), 0.1, -2.5, 123456789.125, "", "a\"b\\c", "\n\r\t\b\f\x00\x1f\x7f", "é€😀\u2028",
		"<&>", true, false, nil}
	for i, v := range edge {
		s, err := structpb.NewStruct(map[string]any{"k" + strconv.Itoa(i): v, "list": []any{v, v}, "nested": map[string]any{"x": v}})
		if err != nil {
			t.Fatal(err)
		}
		structs = append(structs, s)
	}
	for range 300 {
		structs = append(structs, randomStruct(rng, 3))
	}
	many := map[string]any{}
	for i := range 40 {
		many["key"+strconv.Itoa(rng.IntN(1000))+"_"+strconv.Itoa(i)] = float64(i)
	}
	s, _ := structpb.NewStruct(many)
	structs = append(structs, s, &structpb.Struct{})
	for _, s := range structs {
		want, err := protojson.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, want); err != nil {
			t.Fatal(err)
		}
		got, ok := appendStructJSON(nil, s)
		if !ok || string(got) != compact.String() {
			t.Fatalf("ok=%v\n got %s\nwant %s", ok, got, compact.String())
		}
	}
}

// TestStructJSONFallsBack: what protojson refuses is refused by the fast
// writer too, so FromStruct answers it on the protojson path (the same
// field error as before).
func TestStructJSONFallsBack(t *testing.T) {
	bad := []*structpb.Struct{
		{Fields: map[string]*structpb.Value{"count": structpb.NewNumberValue(math.NaN())}},
		{Fields: map[string]*structpb.Value{"rows": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewNumberValue(math.Inf(-1))}})}},
		{Fields: map[string]*structpb.Value{"mode": structpb.NewStringValue("a\xffb")}},
		{Fields: map[string]*structpb.Value{"a\xff": structpb.NewNullValue()}},
		{Fields: map[string]*structpb.Value{"mode": {}}},
	}
	for _, s := range bad {
		if _, err := protojson.Marshal(s); err == nil {
			t.Fatalf("protojson accepts %v", s)
		}
		if b, ok := appendStructJSON(nil, s); ok {
			t.Fatalf("fast writer accepts %v: %s", s, b)
		}
		var in testingv1.EchoInput
		if err := FromStruct(s, &in); err == nil {
			t.Fatalf("FromStruct accepts %v", s)
		}
	}
	// And a good one decodes to what the protojson text decodes to.
	s, _ := structpb.NewStruct(map[string]any{"count": 3.0, "mode": "fast", "pairs": []any{[]any{1.0, 2.5}}})
	var a, b testingv1.EchoInput
	if err := FromStruct(s, &a); err != nil {
		t.Fatal(err)
	}
	text, _ := protojson.Marshal(s)
	if err := Decode(text, &b); err != nil || !proto.Equal(&a, &b) || a.GetCount() != 3 {
		t.Fatalf("FromStruct %v, Decode(protojson) %v (%v)", &a, &b, err)
	}
}

func randomStruct(rng *rand.Rand, depth int) *structpb.Struct {
	s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for range rng.IntN(6) {
		s.Fields[randomString(rng)] = randomValue(rng, depth)
	}
	return s
}

func randomValue(rng *rand.Rand, depth int) *structpb.Value {
	n := 5
	if depth > 0 {
		n = 7
	}
	switch rng.IntN(n) {
	case 0:
		return structpb.NewNullValue()
	case 1:
		return structpb.NewBoolValue(rng.IntN(2) == 0)
	case 2:
		return structpb.NewNumberValue(math.Float64frombits(rng.Uint64()) / 1e10)
	case 3:
		return structpb.NewNumberValue(float64(rng.IntN(2000) - 1000))
	case 4:
		return structpb.NewStringValue(randomString(rng))
	case 5:
		return structpb.NewStructValue(randomStruct(rng, depth-1))
	default:
		l := &structpb.ListValue{}
		for range rng.IntN(5) {
			l.Values = append(l.Values, randomValue(rng, depth-1))
		}
		return structpb.NewListValue(l)
	}
}

func randomString(rng *rand.Rand) string {
	runes := []rune{'a', 'Z', '0', '"', '\\', '\n', 0x01, 0x7f, 'é', '€', 0x1F600, 0x2028, ' '}
	var out []rune
	for range rng.IntN(6) {
		out = append(out, runes[rng.IntN(len(runes))])
	}
	return string(out)
}
