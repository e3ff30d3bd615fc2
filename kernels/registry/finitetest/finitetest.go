// Package finitetest checks a kernel's typed Finite function (registry.Def)
// against the fields of its output message: whatever float field holds
// NaN or ±Inf, the function must report false.
package finitetest

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Covers plants NaN, +Inf and -Inf in turn in every float field reachable
// in out (singular fields, the first element of lists, recursively in set
// messages and the first element of message lists) and fails t when
// finite reports true for one of them, or false for out itself. out must
// hold at least one element in every list it means to cover; Covers fails
// when it found no float field.
func Covers[Out proto.Message](t testing.TB, finite func(Out) bool, out Out) {
	t.Helper()
	if !finite(out) {
		t.Fatal("Finite reports false on the unmodified output")
	}
	planted := 0
	var walk func(m protoreflect.Message, path string)
	walk = func(m protoreflect.Message, path string) {
		fields := m.Descriptor().Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			name := path + string(fd.Name())
			isFloat := fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind
			switch {
			case fd.IsMap():
				// Kernels emit maps as sorted lists (domains.md §1).
			case fd.IsList() && isFloat:
				if l := m.Get(fd).List(); l.Len() > 0 {
					old := l.Get(0)
					for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
						l.Set(0, floatValue(fd, bad))
						planted++
						if finite(out) {
							t.Errorf("Finite reports true with %s[0] = %v", name, bad)
						}
					}
					l.Set(0, old)
				}
			case isFloat:
				old, had := m.Get(fd), m.Has(fd)
				for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
					m.Set(fd, floatValue(fd, bad))
					planted++
					if finite(out) {
						t.Errorf("Finite reports true with %s = %v", name, bad)
					}
				}
				if had {
					m.Set(fd, old)
				} else {
					m.Clear(fd)
				}
			case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
				if l := m.Get(fd).List(); l.Len() > 0 {
					walk(l.Get(0).Message(), name+"[0].")
				}
			case fd.Kind() == protoreflect.MessageKind && m.Has(fd):
				walk(m.Get(fd).Message(), name+".")
			}
		}
	}
	walk(out.ProtoReflect(), "")
	if planted == 0 {
		t.Fatal("no float field found to plant a non-finite value in")
	}
	if !finite(out) {
		t.Fatal("Covers did not restore the output")
	}
}

func floatValue(fd protoreflect.FieldDescriptor, v float64) protoreflect.Value {
	if fd.Kind() == protoreflect.FloatKind {
		return protoreflect.ValueOfFloat32(float32(v))
	}
	return protoreflect.ValueOfFloat64(v)
}
