package jsoninput

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// TestEncodeNumbersSameAsPerElement: the block-allocated encoding of numeric
// lists is exactly the per-element one, for every numeric kind, including
// non-finite floats and large 64-bit integers; other kinds are left to the
// per-element path.
func TestEncodeNumbersSameAsPerElement(t *testing.T) {
	kinds := []descriptorpb.FieldDescriptorProto_Type{
		descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, descriptorpb.FieldDescriptorProto_TYPE_FLOAT,
		descriptorpb.FieldDescriptorProto_TYPE_INT32, descriptorpb.FieldDescriptorProto_TYPE_SINT32,
		descriptorpb.FieldDescriptorProto_TYPE_SFIXED32, descriptorpb.FieldDescriptorProto_TYPE_INT64,
		descriptorpb.FieldDescriptorProto_TYPE_SINT64, descriptorpb.FieldDescriptorProto_TYPE_SFIXED64,
		descriptorpb.FieldDescriptorProto_TYPE_UINT32, descriptorpb.FieldDescriptorProto_TYPE_FIXED32,
		descriptorpb.FieldDescriptorProto_TYPE_UINT64, descriptorpb.FieldDescriptorProto_TYPE_FIXED64,
		descriptorpb.FieldDescriptorProto_TYPE_BOOL, descriptorpb.FieldDescriptorProto_TYPE_STRING,
	}
	msg := &descriptorpb.DescriptorProto{Name: proto.String("Lists")}
	for i, k := range kinds {
		msg.Field = append(msg.Field, &descriptorpb.FieldDescriptorProto{
			Name: proto.String("f" + k.String()), Number: proto.Int32(int32(i + 1)), Type: k.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum(),
		})
	}
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: proto.String("lists_test.proto"), Package: proto.String("jsoninputtest"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{msg},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessage(fd.Messages().Get(0))
	floats := []float64{0, -1.5, 1e300, math.NaN(), math.Inf(1), math.Inf(-1), 3.25, math.SmallestNonzeroFloat64}
	ints := []int64{0, -1, 1, math.MaxInt32, math.MinInt32, 1 << 53, -(1 << 53), math.MaxInt64}
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		l := m.Mutable(f).List()
		for j := range floats {
			var v protoreflect.Value
			switch f.Kind() {
			case protoreflect.DoubleKind:
				v = protoreflect.ValueOfFloat64(floats[j])
			case protoreflect.FloatKind:
				v = protoreflect.ValueOfFloat32(float32(floats[j]))
			case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
				v = protoreflect.ValueOfInt32(int32(ints[j]))
			case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
				v = protoreflect.ValueOfInt64(ints[j])
			case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
				v = protoreflect.ValueOfUint32(uint32(ints[j]))
			case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
				v = protoreflect.ValueOfUint64(uint64(ints[j]))
			case protoreflect.BoolKind:
				v = protoreflect.ValueOfBool(j%2 == 0)
			case protoreflect.StringKind:
				v = protoreflect.ValueOfString("s")
			}
			l.Append(v)
		}
	}
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		l := m.Get(f).List()
		want := make([]*structpb.Value, l.Len())
		for j := range want {
			want[j] = encodeSingle(l.Get(j), f)
		}
		got := encodeField(m.Get(f), f)
		if !proto.Equal(got, structpb.NewListValue(&structpb.ListValue{Values: want})) {
			t.Errorf("%s: block encoding %v differs from per-element %v", f.Kind(), got, want)
		}
		numeric := f.Kind() != protoreflect.BoolKind && f.Kind() != protoreflect.StringKind
		if (encodeNumbers(l, f) != nil) != numeric {
			t.Errorf("%s: fast path taken = %v, want %v", f.Kind(), !numeric, numeric)
		}
	}
	// Empty lists stay empty lists.
	if got := encodeField(dynamicpb.NewMessage(fd.Messages().Get(0)).Get(fields.Get(0)), fields.Get(0)); len(got.GetListValue().GetValues()) != 0 || got.GetListValue() == nil {
		t.Errorf("empty list encoded as %v", got)
	}
}

func BenchmarkToStructScores(b *testing.B) {
	fd, _ := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: proto.String("scores_bench.proto"), Package: proto.String("jsoninputbench"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Out"), Field: []*descriptorpb.FieldDescriptorProto{{
			Name: proto.String("scores"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_DOUBLE.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum(),
		}}}},
	}, nil)
	m := dynamicpb.NewMessage(fd.Messages().Get(0))
	l := m.Mutable(fd.Messages().Get(0).Fields().Get(0)).List()
	for i := 0; i < 1000; i++ {
		l.Append(protoreflect.ValueOfFloat64(float64(i) / 7))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ToStruct(m); err != nil {
			b.Fatal(err)
		}
	}
}
