package jsoninput

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// allKinds is a message with a field of every scalar kind, an enum and maps
// keyed by each key kind, built at test time (no kernel proto has them all).
func allKinds(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	type f struct {
		name string
		kind descriptorpb.FieldDescriptorProto_Type
	}
	scalars := []f{
		{"b", descriptorpb.FieldDescriptorProto_TYPE_BOOL}, {"s", descriptorpb.FieldDescriptorProto_TYPE_STRING},
		{"by", descriptorpb.FieldDescriptorProto_TYPE_BYTES}, {"i32", descriptorpb.FieldDescriptorProto_TYPE_INT32},
		{"i64", descriptorpb.FieldDescriptorProto_TYPE_INT64}, {"s32", descriptorpb.FieldDescriptorProto_TYPE_SINT32},
		{"s64", descriptorpb.FieldDescriptorProto_TYPE_SINT64}, {"u32", descriptorpb.FieldDescriptorProto_TYPE_UINT32},
		{"u64", descriptorpb.FieldDescriptorProto_TYPE_UINT64}, {"f32", descriptorpb.FieldDescriptorProto_TYPE_FIXED32},
		{"f64", descriptorpb.FieldDescriptorProto_TYPE_FIXED64}, {"sf32", descriptorpb.FieldDescriptorProto_TYPE_SFIXED32},
		{"sf64", descriptorpb.FieldDescriptorProto_TYPE_SFIXED64}, {"fl", descriptorpb.FieldDescriptorProto_TYPE_FLOAT},
		{"d", descriptorpb.FieldDescriptorProto_TYPE_DOUBLE},
	}
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	msg := &descriptorpb.DescriptorProto{Name: proto.String("AllKinds")}
	for i, s := range scalars {
		msg.Field = append(msg.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String(s.name), Number: proto.Int32(int32(i + 1)),
			Type: s.kind.Enum(), Label: opt.Enum(), JsonName: proto.String(s.name)})
		msg.Field = append(msg.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String("r" + s.name), Number: proto.Int32(int32(i + 101)),
			Type: s.kind.Enum(), Label: rep.Enum(), JsonName: proto.String("r" + s.name)})
	}
	msg.Field = append(msg.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String("e"), Number: proto.Int32(50),
		Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), TypeName: proto.String(".kinds.Color"), Label: opt.Enum(), JsonName: proto.String("e")})
	for i, k := range []f{{"mb", descriptorpb.FieldDescriptorProto_TYPE_BOOL}, {"mi32", descriptorpb.FieldDescriptorProto_TYPE_INT32},
		{"mi64", descriptorpb.FieldDescriptorProto_TYPE_SINT64}, {"mu32", descriptorpb.FieldDescriptorProto_TYPE_UINT32},
		{"mu64", descriptorpb.FieldDescriptorProto_TYPE_FIXED64}, {"ms", descriptorpb.FieldDescriptorProto_TYPE_STRING}} {
		entry := strings.ToUpper(k.name[:1]) + k.name[1:] + "Entry"
		msg.NestedType = append(msg.NestedType, &descriptorpb.DescriptorProto{
			Name: proto.String(entry), Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("key"), Number: proto.Int32(1), Type: k.kind.Enum(), Label: opt.Enum(), JsonName: proto.String("key")},
				{Name: proto.String("value"), Number: proto.Int32(2), Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum(), Label: opt.Enum(), JsonName: proto.String("value")},
			}})
		msg.Field = append(msg.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String(k.name), Number: proto.Int32(int32(60 + i)),
			Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".kinds.AllKinds." + entry), Label: rep.Enum(), JsonName: proto.String(k.name)})
	}
	file := &descriptorpb.FileDescriptorProto{
		Name: proto.String("kinds.proto"), Package: proto.String("kinds"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{msg},
		EnumType: []*descriptorpb.EnumDescriptorProto{{Name: proto.String("Color"), Value: []*descriptorpb.EnumValueDescriptorProto{
			{Name: proto.String("COLOR_UNSPECIFIED"), Number: proto.Int32(0)}, {Name: proto.String("RED"), Number: proto.Int32(1)},
			{Name: proto.String("BLUE"), Number: proto.Int32(7)}}}},
	}
	fd, err := protodesc.NewFile(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().Get(0)
}

// TestScalarsAgreeWithProtojson: every scalar kind, enum and map key kind
// decoded by Decode and by FromStruct equals protojson's reading of the
// same JSON (protojson is the independent reference); values protojson
// rejects are rejected too, with a field error naming the field.
func TestScalarsAgreeWithProtojson(t *testing.T) {
	md := allKinds(t)
	valid := []string{
		`{"b": true, "s": "héllo", "by": "AAEC/w==", "i32": -2147483648, "i64": -9007199254740993, "s32": -5, "s64": "-9223372036854775808",
		  "u32": 4294967295, "u64": "18446744073709551615", "f32": 7, "f64": 123456789012, "sf32": -7, "sf64": -123456789012,
		  "fl": 3.5, "d": -1e308, "e": "BLUE"}`,
		`{"b": false, "by": "AAEC_w", "i32": 2147483647, "i64": "9223372036854775807", "u32": 0, "fl": -3.4028234663852886e38, "d": 5e-324, "e": 7}`,
		`{"i32": 1e3, "u64": 18446744073709551615, "i64": -12, "s32": 2147483647, "d": 0, "e": "RED"}`,
		`{"rb": [true, false], "rs": ["a", ""], "ri32": [1, -1, 0], "ru64": ["1", 2], "rfl": [0.5], "rd": [1.25, -0.0], "rsf32": [-3], "rby": ["AA=="]}`,
		`{"mb": {"true": 1, "false": 2}, "mi32": {"-7": 1, "2147483647": 2}, "mi64": {"-9223372036854775808": 3},
		  "mu32": {"4294967295": 4}, "mu64": {"18446744073709551615": 5}, "ms": {"k": 6, "": 7}}`,
	}
	for _, js := range valid {
		want := dynamicpb.NewMessage(md)
		if err := protojson.Unmarshal([]byte(js), want); err != nil {
			t.Fatalf("protojson rejects %s: %v", js, err)
		}
		got := dynamicpb.NewMessage(md)
		if err := Decode([]byte(js), got); err != nil {
			t.Errorf("Decode(%s): %v", js, err)
		} else if !proto.Equal(got, want) {
			t.Errorf("Decode(%s) = %v, protojson %v", js, got, want)
		}
	}
	// FromStruct sees numbers as float64: the exactly representable ones.
	viaStruct := []string{
		`{"b": true, "s": "x", "by": "AAEC/w==", "i32": -2147483648, "i64": -9007199254740992, "s32": -5, "u32": 4294967295,
		  "u64": 9007199254740992, "f32": 7, "sf32": -7, "sf64": -123456789012, "fl": 3.5, "d": -1e308, "e": "BLUE"}`,
		`{"e": 7, "i32": 1e3, "ri32": [1, -1], "rb": [false], "rd": [2.5]}`,
		`{"mb": {"true": 1}, "mi32": {"-7": 1}, "mi64": {"-9": 3}, "mu32": {"4294967295": 4}, "mu64": {"8": 5}, "ms": {"k": 6}}`,
	}
	for _, js := range viaStruct {
		want := dynamicpb.NewMessage(md)
		if err := protojson.Unmarshal([]byte(js), want); err != nil {
			t.Fatalf("protojson rejects %s: %v", js, err)
		}
		var st structpb.Struct
		if err := protojson.Unmarshal([]byte(js), &st); err != nil {
			t.Fatal(err)
		}
		got := dynamicpb.NewMessage(md)
		if err := FromStruct(&st, got); err != nil {
			t.Errorf("FromStruct(%s): %v", js, err)
		} else if !proto.Equal(got, want) {
			t.Errorf("FromStruct(%s) = %v, protojson %v", js, got, want)
		}
	}
	invalid := []struct{ json, field string }{
		{`{"i32": 2147483648}`, "i32"},
		{`{"i32": -2147483649}`, "i32"},
		{`{"i32": 1.5}`, "i32"},
		{`{"u32": -1}`, "u32"},
		{`{"u32": 4294967296}`, "u32"},
		{`{"i64": 9223372036854775808}`, "i64"},
		{`{"u64": "-1"}`, "u64"},
		{`{"s64": 1.5}`, "s64"},
		{`{"fl": 3.5e38}`, "fl"},
		{`{"d": 1e400}`, "d"},
		{`{"b": "true"}`, "b"},
		{`{"b": 1}`, "b"},
		{`{"s": 5}`, "s"},
		{`{"by": "***"}`, "by"},
		{`{"by": 5}`, "by"},
		{`{"e": "GREEN"}`, "e"},
		{`{"ri32": [1, "x"]}`, "ri32[1]"},
		{`{"rb": [true, 0]}`, "rb[1]"},
		{`{"mb": {"yes": 1}}`, "mb"},
		{`{"mi32": {"2147483648": 1}}`, "mi32"},
		{`{"mi32": {"x": 1}}`, "mi32"},
		{`{"mu32": {"-1": 1}}`, "mu32"},
		{`{"mu32": {"4294967296": 1}}`, "mu32"},
	}
	for _, c := range invalid {
		if protojson.Unmarshal([]byte(c.json), dynamicpb.NewMessage(md)) == nil {
			t.Fatalf("reference accepts %s", c.json)
		}
		err := Decode([]byte(c.json), dynamicpb.NewMessage(md))
		fe, ok := kerr.AsField(err)
		if !ok || !strings.HasPrefix(fe.Field, c.field) {
			t.Errorf("Decode(%s): %v, want a field error on %s", c.json, err, c.field)
		}
		var st structpb.Struct
		if protojson.Unmarshal([]byte(c.json), &st) != nil {
			continue // not representable as a Struct (1e400)
		}
		err = FromStruct(&st, dynamicpb.NewMessage(md))
		fe, ok = kerr.AsField(err)
		if !ok || !strings.HasPrefix(fe.Field, c.field) {
			t.Errorf("FromStruct(%s): %v, want a field error on %s", c.json, err, c.field)
		}
	}
}
