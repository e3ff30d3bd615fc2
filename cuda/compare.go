package cuda

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Compare walks two outputs of the same message type and returns the
// largest relative difference of their floating-point values; any other
// difference (integers, booleans, strings, lengths) is an error. The
// relative difference of a and b is |a−b| / max(|a|, |b|), except that
// differences below 1e-12 × the largest magnitude in the same field count
// as 0: entries that are 0 up to rounding (a correlation of 1e-17 against
// 3e-17) would otherwise dominate.
func Compare(a, b proto.Message) (float64, error) {
	if a.ProtoReflect().Descriptor().FullName() != b.ProtoReflect().Descriptor().FullName() {
		return 0, fmt.Errorf("message types differ: %s vs %s", a.ProtoReflect().Descriptor().FullName(), b.ProtoReflect().Descriptor().FullName())
	}
	return compareMsg(a.ProtoReflect(), b.ProtoReflect(), "")
}

func compareMsg(a, b protoreflect.Message, path string) (float64, error) {
	worst := 0.0
	fields := a.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		name := path + string(fd.Name())
		va, vb := a.Get(fd), b.Get(fd)
		var rel float64
		var err error
		switch {
		case fd.IsList():
			la, lb := va.List(), vb.List()
			if la.Len() != lb.Len() {
				return worst, fmt.Errorf("%s: %d values vs %d", name, la.Len(), lb.Len())
			}
			scale := 0.0
			if isFloat(fd) {
				for j := 0; j < la.Len(); j++ {
					scale = max(scale, math.Abs(la.Get(j).Float()), math.Abs(lb.Get(j).Float()))
				}
			}
			for j := 0; j < la.Len(); j++ {
				r, e := compareValue(fd, la.Get(j), lb.Get(j), scale, fmt.Sprintf("%s[%d]", name, j))
				if e != nil {
					return worst, e
				}
				rel = max(rel, r)
			}
		case fd.IsMap():
			if va.Map().Len() != vb.Map().Len() {
				return worst, fmt.Errorf("%s: map sizes differ", name)
			}
		default:
			scale := 0.0
			if isFloat(fd) {
				scale = max(math.Abs(va.Float()), math.Abs(vb.Float()))
			}
			rel, err = compareValue(fd, va, vb, scale, name)
		}
		if err != nil {
			return worst, err
		}
		worst = max(worst, rel)
	}
	return worst, nil
}

func isFloat(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind
}

func compareValue(fd protoreflect.FieldDescriptor, a, b protoreflect.Value, scale float64, name string) (float64, error) {
	switch {
	case isFloat(fd):
		x, y := a.Float(), b.Float()
		if x == y || (math.IsNaN(x) && math.IsNaN(y)) {
			return 0, nil
		}
		diff := math.Abs(x - y)
		if diff <= 1e-12*scale {
			return 0, nil
		}
		return diff / max(math.Abs(x), math.Abs(y)), nil
	case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
		return compareMsg(a.Message(), b.Message(), name+".")
	default:
		if !a.Equal(b) {
			return 0, fmt.Errorf("%s: %v vs %v", name, a.Interface(), b.Interface())
		}
		return 0, nil
	}
}
