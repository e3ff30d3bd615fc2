package jsoninput

import (
	"encoding/base64"
	"math"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// ToStruct renders a kernel output message as a Struct with proto field
// names. Scalars are always present (a "converged": false is information),
// unset optional fields and messages are omitted, tuple messages become
// arrays, 64-bit integers become JSON numbers, and non-finite floats become
// the strings "NaN", "Infinity" and "-Infinity" as in protojson.
func ToStruct(msg proto.Message) (*structpb.Struct, error) {
	return encodeObject(msg.ProtoReflect()), nil
}

func encodeObject(m protoreflect.Message) *structpb.Struct {
	fds := m.Descriptor().Fields()
	out := &structpb.Struct{Fields: make(map[string]*structpb.Value, fds.Len())}
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if (fd.HasPresence() || fd.Kind() == protoreflect.MessageKind) && !fd.IsList() && !fd.IsMap() && !m.Has(fd) {
			continue
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() && !m.Has(fd) {
			continue
		}
		out.Fields[string(fd.Name())] = encodeField(m.Get(fd), fd)
	}
	return out
}

func encodeField(v protoreflect.Value, fd protoreflect.FieldDescriptor) *structpb.Value {
	switch {
	case fd.IsList():
		l := v.List()
		if vals := encodeNumbers(l, fd); vals != nil {
			return structpb.NewListValue(&structpb.ListValue{Values: vals})
		}
		vals := make([]*structpb.Value, l.Len())
		for i := range vals {
			vals[i] = encodeSingle(l.Get(i), fd)
		}
		return structpb.NewListValue(&structpb.ListValue{Values: vals})
	case fd.IsMap():
		mp := v.Map()
		fields := make(map[string]*structpb.Value, mp.Len())
		mp.Range(func(k protoreflect.MapKey, val protoreflect.Value) bool {
			fields[k.String()] = encodeSingle(val, fd.MapValue())
			return true
		})
		return structpb.NewStructValue(&structpb.Struct{Fields: fields})
	}
	return encodeSingle(v, fd)
}

func encodeSingle(v protoreflect.Value, fd protoreflect.FieldDescriptor) *structpb.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return structpb.NewBoolValue(v.Bool())
	case protoreflect.StringKind:
		return structpb.NewStringValue(v.String())
	case protoreflect.BytesKind:
		return structpb.NewStringValue(base64.StdEncoding.EncodeToString(v.Bytes()))
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return structpb.NewStringValue(string(ev.Name()))
		}
		return structpb.NewNumberValue(float64(v.Enum()))
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return float(v.Float())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return structpb.NewNumberValue(float64(v.Int()))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return structpb.NewNumberValue(float64(v.Uint()))
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return encodeMessage(v.Message())
	}
	return structpb.NewNullValue()
}

func encodeMessage(m protoreflect.Message) *structpb.Value {
	md := m.Descriptor()
	if md.FullName().Parent() == "google.protobuf" {
		b, err := protojson.Marshal(m.Interface())
		if err == nil {
			var v structpb.Value
			if protojson.Unmarshal(b, &v) == nil {
				return &v
			}
		}
		return structpb.NewNullValue()
	}
	if !isTuple(md) {
		return structpb.NewStructValue(encodeObject(m))
	}
	fds := md.Fields()
	if fds.Len() == 1 && fds.Get(0).IsList() {
		return encodeField(m.Get(fds.Get(0)), fds.Get(0))
	}
	vals := make([]*structpb.Value, fds.Len())
	for i := range vals {
		vals[i] = encodeField(m.Get(fds.Get(i)), fds.Get(i))
	}
	return structpb.NewListValue(&structpb.ListValue{Values: vals})
}

func float(f float64) *structpb.Value {
	switch {
	case math.IsNaN(f):
		return structpb.NewStringValue("NaN")
	case math.IsInf(f, 1):
		return structpb.NewStringValue("Infinity")
	case math.IsInf(f, -1):
		return structpb.NewStringValue("-Infinity")
	}
	return structpb.NewNumberValue(f)
}

// encodeNumbers encodes a list of numbers (scores, labels, counts: most
// kernel outputs) like encodeSingle does, but with the Values and their
// kinds allocated in two blocks instead of two objects per element, which
// matters for outputs with many elements. It returns nil for other kinds.
func encodeNumbers(l protoreflect.List, fd protoreflect.FieldDescriptor) []*structpb.Value {
	var num func(protoreflect.Value) (float64, bool) // value, finite
	switch fd.Kind() {
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		num = func(v protoreflect.Value) (float64, bool) {
			f := v.Float()
			return f, !math.IsNaN(f) && !math.IsInf(f, 0)
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		num = func(v protoreflect.Value) (float64, bool) { return float64(v.Int()), true }
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		num = func(v protoreflect.Value) (float64, bool) { return float64(v.Uint()), true }
	default:
		return nil
	}
	n := l.Len()
	vals := make([]*structpb.Value, n)
	block := make([]structpb.Value, n)
	kinds := make([]structpb.Value_NumberValue, n)
	for i := range vals {
		f, finite := num(l.Get(i))
		if !finite {
			vals[i] = float(f) // "NaN", "Infinity", "-Infinity"
			continue
		}
		kinds[i].NumberValue = f
		block[i].Kind = &kinds[i]
		vals[i] = &block[i]
	}
	return vals
}
