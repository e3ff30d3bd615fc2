// Package jsoninput converts between kernel proto messages and the JSON shape
// REST clients send and receive (google.protobuf.Struct / Value).
//
// protojson cannot do this alone: the reference API writes records such as
// edges as arrays ("edges": [[0, 1]]), which proto has no direct form for.
// Messages marked with the (gokernels.v1.tuple) option are therefore read and
// written positionally. Everything else follows protojson: fields by proto
// name or JSON name, unknown fields rejected, NaN/Infinity as strings. Every
// error names the offending field path ("edges[3]", "init[1].values").
package jsoninput

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// FromStruct fills msg from a Struct. Errors are *kerr.FieldError.
func FromStruct(s *structpb.Struct, msg proto.Message) error {
	return decodeObject(nil, s.GetFields(), msg.ProtoReflect())
}

// pathNode is a field path built only when an error needs it: decoding a
// million-element list must not format a million path strings.
type pathNode struct {
	parent *pathNode
	name   string
	idx    int // -1 for a named field
}

func (p *pathNode) child(name string) *pathNode { return &pathNode{parent: p, name: name, idx: -1} }

func (p *pathNode) String() string {
	if p == nil {
		return ""
	}
	prefix := p.parent.String()
	if p.idx >= 0 {
		return prefix + "[" + strconv.Itoa(p.idx) + "]"
	}
	if prefix == "" || strings.HasPrefix(p.name, "[") {
		return prefix + p.name
	}
	return prefix + "." + p.name
}

// tupleCache memoizes isTuple: reading a message option allocates, and the
// decoder asks once per array element.
var tupleCache sync.Map // protoreflect.FullName -> bool

func isTuple(md protoreflect.MessageDescriptor) bool {
	if v, ok := tupleCache.Load(md.FullName()); ok {
		return v.(bool)
	}
	t := readTuple(md)
	tupleCache.Store(md.FullName(), t)
	return t
}

func readTuple(md protoreflect.MessageDescriptor) bool {
	opts := md.Options()
	if opts == nil {
		return false
	}
	t, _ := proto.GetExtension(opts, gokernelsv1.E_Tuple).(bool)
	return t
}

func decodeObject(path *pathNode, fields map[string]*structpb.Value, m protoreflect.Message) error {
	fds := m.Descriptor().Fields()
	for name, v := range fields {
		fd := fds.ByName(protoreflect.Name(name))
		if fd == nil {
			fd = fds.ByJSONName(name)
		}
		if fd == nil {
			return kerr.Invalid(path.child(name).String(), "unknown field")
		}
		if err := decodeField(path.child(name), v, m, fd); err != nil {
			return err
		}
	}
	return nil
}

func decodeField(path *pathNode, v *structpb.Value, m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	if _, isNull := v.GetKind().(*structpb.Value_NullValue); isNull {
		return nil
	}
	switch {
	case fd.IsList():
		lv, ok := v.GetKind().(*structpb.Value_ListValue)
		if !ok {
			return kerr.Invalid(path.String(), "must be an array")
		}
		list := m.Mutable(fd).List()
		ep := &pathNode{parent: path} // reused: only rendered on error
		for i, ev := range lv.ListValue.GetValues() {
			ep.idx = i
			if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
				em := list.NewElement()
				if err := decodeMessage(ep, ev, em.Message()); err != nil {
					return err
				}
				list.Append(em)
				continue
			}
			sv, err := decodeScalar(ep, ev, fd)
			if err != nil {
				return err
			}
			list.Append(sv)
		}
		return nil
	case fd.IsMap():
		sv, ok := v.GetKind().(*structpb.Value_StructValue)
		if !ok {
			return kerr.Invalid(path.String(), "must be an object")
		}
		mp := m.Mutable(fd).Map()
		for k, ev := range sv.StructValue.GetFields() {
			ep := path.child(fmt.Sprintf("[%q]", k))
			key, err := decodeMapKey(ep.String(), k, fd.MapKey())
			if err != nil {
				return err
			}
			vd := fd.MapValue()
			if vd.Kind() == protoreflect.MessageKind {
				val := mp.NewValue()
				if err := decodeMessage(ep, ev, val.Message()); err != nil {
					return err
				}
				mp.Set(key, val)
				continue
			}
			val, err := decodeScalar(ep, ev, vd)
			if err != nil {
				return err
			}
			mp.Set(key, val)
		}
		return nil
	case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
		return decodeMessage(path, v, m.Mutable(fd).Message())
	default:
		sv, err := decodeScalar(path, v, fd)
		if err != nil {
			return err
		}
		m.Set(fd, sv)
		return nil
	}
}

func decodeMessage(path *pathNode, v *structpb.Value, m protoreflect.Message) error {
	md := m.Descriptor()
	if md.FullName().Parent() == "google.protobuf" {
		// Well-known types have their own JSON forms; let protojson read them.
		b, err := protojson.Marshal(v)
		if err != nil {
			return kerr.Invalid(path.String(), "%v", err)
		}
		if err := protojson.Unmarshal(b, m.Interface()); err != nil {
			return kerr.Invalid(path.String(), "%v", err)
		}
		return nil
	}
	switch k := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		return decodeObject(path, k.StructValue.GetFields(), m)
	case *structpb.Value_ListValue:
		if !isTuple(md) {
			return kerr.Invalid(path.String(), "must be an object")
		}
		return decodeTuple(path, k.ListValue.GetValues(), m)
	default:
		if isTuple(md) {
			return kerr.Invalid(path.String(), "must be an array")
		}
		return kerr.Invalid(path.String(), "must be an object")
	}
}

// decodeTuple reads a positional record: one array element per field in
// field-number order, or, for a message whose only field is repeated, the
// whole array as that field.
func decodeTuple(path *pathNode, elems []*structpb.Value, m protoreflect.Message) error {
	fds := m.Descriptor().Fields()
	if fds.Len() == 1 && fds.Get(0).IsList() {
		return decodeField(path, structpb.NewListValue(&structpb.ListValue{Values: elems}), m, fds.Get(0))
	}
	if len(elems) != fds.Len() {
		names := make([]string, fds.Len())
		for i := range names {
			names[i] = string(fds.Get(i).Name())
		}
		return kerr.Invalid(path.String(), "must be an array of %d values [%s], got %d", fds.Len(), strings.Join(names, ", "), len(elems))
	}
	ep := &pathNode{parent: path}
	for i := 0; i < fds.Len(); i++ {
		ep.idx = i
		if err := decodeField(ep, elems[i], m, fds.Get(i)); err != nil {
			return err
		}
	}
	return nil
}

func decodeMapKey(path, k string, fd protoreflect.FieldDescriptor) (protoreflect.MapKey, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(k).MapKey(), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(k)
		if err != nil {
			return protoreflect.MapKey{}, kerr.Invalid(path, "key must be true or false")
		}
		return protoreflect.ValueOfBool(b).MapKey(), nil
	default:
		v, err := decodeScalar(&pathNode{name: path, idx: -1}, structpb.NewStringValue(k), fd)
		if err != nil {
			return protoreflect.MapKey{}, err
		}
		return v.MapKey(), nil
	}
}

func decodeScalar(path *pathNode, v *structpb.Value, fd protoreflect.FieldDescriptor) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if b, ok := v.GetKind().(*structpb.Value_BoolValue); ok {
			return protoreflect.ValueOfBool(b.BoolValue), nil
		}
		return protoreflect.Value{}, kerr.Invalid(path.String(), "must be true or false")
	case protoreflect.StringKind:
		if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
			return protoreflect.ValueOfString(s.StringValue), nil
		}
		return protoreflect.Value{}, kerr.Invalid(path.String(), "must be a string")
	case protoreflect.BytesKind:
		s, ok := v.GetKind().(*structpb.Value_StringValue)
		if !ok {
			return protoreflect.Value{}, kerr.Invalid(path.String(), "must be a base64 string")
		}
		b, err := base64.StdEncoding.DecodeString(s.StringValue)
		if err != nil {
			if b, err = base64.URLEncoding.DecodeString(s.StringValue); err != nil {
				return protoreflect.Value{}, kerr.Invalid(path.String(), "must be a base64 string")
			}
		}
		return protoreflect.ValueOfBytes(b), nil
	case protoreflect.EnumKind:
		switch k := v.GetKind().(type) {
		case *structpb.Value_StringValue:
			ev := fd.Enum().Values().ByName(protoreflect.Name(k.StringValue))
			if ev == nil {
				return protoreflect.Value{}, kerr.Invalid(path.String(), "unknown value %q", k.StringValue)
			}
			return protoreflect.ValueOfEnum(ev.Number()), nil
		case *structpb.Value_NumberValue:
			n, err := integralAt(path, k.NumberValue, math.MinInt32, math.MaxInt32)
			if err != nil {
				return protoreflect.Value{}, err
			}
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
		}
		return protoreflect.Value{}, kerr.Invalid(path.String(), "must be an enum name")
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f, err := number(path, v)
		if err != nil {
			return protoreflect.Value{}, err
		}
		if fd.Kind() == protoreflect.FloatKind {
			if !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
				return protoreflect.Value{}, kerr.Invalid(path.String(), "out of float range")
			}
			return protoreflect.ValueOfFloat32(float32(f)), nil
		}
		return protoreflect.ValueOfFloat64(f), nil
	}
	// Integers: JSON numbers (or decimal strings, as protojson allows).
	f, err := number(path, v)
	if err != nil {
		return protoreflect.Value{}, err
	}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := integralAt(path, f, math.MinInt32, math.MaxInt32)
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := integralAt(path, f, 0, math.MaxUint32)
		return protoreflect.ValueOfUint32(uint32(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := integralAt(path, f, -(1 << 53), 1<<53)
		return protoreflect.ValueOfInt64(int64(n)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := integralAt(path, f, 0, 1<<53)
		return protoreflect.ValueOfUint64(uint64(n)), err
	}
	return protoreflect.Value{}, kerr.Invalid(path.String(), "unsupported field kind %s", fd.Kind())
}

// number reads a JSON number, or the strings protojson uses for non-finite
// values and large integers.
func number(path *pathNode, v *structpb.Value) (float64, error) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		return k.NumberValue, nil
	case *structpb.Value_StringValue:
		switch k.StringValue {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		f, err := strconv.ParseFloat(k.StringValue, 64)
		if err != nil {
			return 0, kerr.Invalid(path.String(), "must be a number")
		}
		return f, nil
	}
	return 0, kerr.Invalid(path.String(), "must be a number")
}

func integral(path string, f, lo, hi float64) (float64, error) {
	if msg := checkIntegral(f, lo, hi); msg != "" {
		return 0, kerr.Invalid(path, "%s", msg)
	}
	return f, nil
}

// integralAt is integral with a lazily rendered path.
func integralAt(path *pathNode, f, lo, hi float64) (float64, error) {
	if msg := checkIntegral(f, lo, hi); msg != "" {
		return 0, kerr.Invalid(path.String(), "%s", msg)
	}
	return f, nil
}

func checkIntegral(f, lo, hi float64) string {
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
		return "must be an integer"
	}
	if f < lo || f > hi {
		return fmt.Sprintf("out of range [%.0f, %.0f]", lo, hi)
	}
	return ""
}
