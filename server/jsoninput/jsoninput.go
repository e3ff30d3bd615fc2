// Package jsoninput converts between kernel proto messages and the JSON shape
// REST clients send and receive (google.protobuf.Struct / Value).
//
// protojson cannot do this alone: the reference API writes records such as
// edges as arrays ("edges": [[0, 1]]), which proto has no direct form for.
// Messages marked with the (gokernels.v1.tuple) option are therefore read and
// written positionally. Everything else follows protojson: fields by proto
// name or JSON name, unknown fields rejected, NaN/Infinity as strings. Every
// error names the offending field path ("edges[3]", "init[1].values").
//
// There is one decoder (Transcode, in decode.go): JSON text straight to
// protobuf wire format. FromStruct and Decode are built on it, so REST and
// gRPC's JSON-shaped input accept exactly the same inputs.
//
// Decode (REST) writes a graph input's edges as its packed_edges when they
// are plain in-range [u, v] pairs (packededges.go): one []int32 instead of
// seven allocations per edge, with the same errors, under the same names.
package jsoninput

import (
	"math"
	"sort"
	"strconv"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// FromStruct fills msg from a Struct (gRPC's JSON-shaped input). Errors are
// *kerr.FieldError.
//
// Unlike Decode it leaves graph edges as edges (no packed_edges): a ring's
// Configure and data messages arrive this way, and the ring names the field
// a message carries in its errors ("edges is data: ...").
func FromStruct(s *structpb.Struct, msg proto.Message) error {
	if b, ok := appendStructJSON(make([]byte, 0, 256), s); ok {
		return decode(b, msg, false)
	}
	b, err := protojson.Marshal(s)
	if err != nil {
		// Only a non-finite number can get here: JSON has no NaN.
		return kerr.Invalid(nonFinite("", structpb.NewStructValue(s)),
			`must be a finite number (send NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity")`)
	}
	return decode(b, msg, false)
}

// nonFinite finds the path of the first NaN or ±Inf number in v.
func nonFinite(path string, v *structpb.Value) string {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		if math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0) {
			return path
		}
	case *structpb.Value_StructValue:
		keys := make([]string, 0, len(k.StructValue.GetFields()))
		for key := range k.StructValue.GetFields() {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			p := key
			if path != "" {
				p = path + "." + key
			}
			if f := nonFinite(p, k.StructValue.GetFields()[key]); f != "" {
				return f
			}
		}
	case *structpb.Value_ListValue:
		for i, e := range k.ListValue.GetValues() {
			if f := nonFinite(path+"["+strconv.Itoa(i)+"]", e); f != "" {
				return f
			}
		}
	}
	if path == "" {
		return "input"
	}
	return ""
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

// decodeMapKey reads a JSON object key as a map key of fd's kind.
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
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil || (is32(fd.Kind()) && (n < math.MinInt32 || n > math.MaxInt32)) {
			return protoreflect.MapKey{}, kerr.Invalid(path, "key must be an integer in range")
		}
		if is32(fd.Kind()) {
			return protoreflect.ValueOfInt32(int32(n)).MapKey(), nil
		}
		return protoreflect.ValueOfInt64(n).MapKey(), nil
	default: // unsigned
		n, err := strconv.ParseUint(k, 10, 64)
		if err != nil || (is32(fd.Kind()) && n > math.MaxUint32) {
			return protoreflect.MapKey{}, kerr.Invalid(path, "key must be a non-negative integer in range")
		}
		if is32(fd.Kind()) {
			return protoreflect.ValueOfUint32(uint32(n)).MapKey(), nil
		}
		return protoreflect.ValueOfUint64(n).MapKey(), nil
	}
}

func is32(k protoreflect.Kind) bool {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return true
	}
	return false
}

// integral checks that f is an integer within [lo, hi].
func integral(path string, f, lo, hi float64) (float64, error) {
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, kerr.Invalid(path, "must be an integer")
	}
	if f < lo || f > hi {
		return 0, kerr.Invalid(path, "out of range [%.0f, %.0f]", lo, hi)
	}
	return f, nil
}
