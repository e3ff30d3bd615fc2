package registry

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// CheckFinite is the last line of defence against overflow: a kernel's
// answer must not carry NaN or ±Inf (outside the fields its Meta lists in
// NaNOutputs) when its input is finite. Kernels bound the magnitudes they
// can foresee overflowing in Prepare, naming the field; whatever slips
// through (sums of squares of 1e200, 0/0 on denormals) is caught here and
// answered as a client error instead of a 200 carrying "Infinity" or "NaN".
// The error names the input field holding the largest-magnitude value, the
// likeliest cause, and the output that overflowed.
func (k *Kernel) CheckFinite(in, out proto.Message) error {
	if out == nil || k.finite != nil && k.finite(out) {
		return nil
	}
	path, v := firstNonFinite(out.ProtoReflect(), "", k.NaNOutputs)
	if path == "" {
		return nil
	}
	var e extremes
	if in != nil {
		e.walk(in.ProtoReflect(), "")
	}
	switch {
	case e.big >= hugeMagnitude:
		return kerr.Invalid(e.bigPath, "values of magnitude up to %.3g make the result overflow float64 (%s is %v); rescale the input",
			e.big, path, v)
	case e.smallPath != "" && e.small <= tinyMagnitude:
		return kerr.Invalid(e.smallPath, "values as small as %.3g underflow float64 in this kernel (%s is %v); rescale the input",
			e.small, path, v)
	}
	return kerr.Invalid("", "the result is not finite (%s is %v): the input's values are degenerate for this kernel", path, v)
}

// hugeMagnitude and tinyMagnitude are where squares and reciprocals leave
// float64's range (1e154² and 1/1e-308 overflow): an input value beyond
// them is the likeliest cause of a non-finite result.
const (
	hugeMagnitude = 1e150
	tinyMagnitude = 1e-150
)

// finiteChecked wraps fn so that its output passes CheckFinite.
func (k *Kernel) finiteChecked(fn Func) Func {
	if fn == nil {
		return nil
	}
	return func(ctx context.Context, in proto.Message) (proto.Message, error) {
		out, err := fn(ctx, in)
		if err != nil {
			return out, err
		}
		if err := k.CheckFinite(in, out); err != nil {
			return nil, err
		}
		return out, nil
	}
}

func isFloat(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind
}

func isMessage(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind
}

func bad(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

// firstNonFinite returns the JSON path and value of the first NaN or ±Inf
// in m, skipping the top-level fields in skip.
func firstNonFinite(m protoreflect.Message, prefix string, skip []string) (path string, value float64) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		if prefix == "" && slices.Contains(skip, string(fd.Name())) {
			return true
		}
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.DoubleKind:
			if xs, ok := doubles(m, fd); ok { // the generated []float64, without boxing
				for j, x := range xs {
					if bad(x) {
						path, value = fmt.Sprintf("%s[%d]", name, j), x
						return false
					}
				}
				return true
			}
			l := v.List()
			for j := range l.Len() {
				if x := l.Get(j).Float(); bad(x) {
					path, value = fmt.Sprintf("%s[%d]", name, j), x
					return false
				}
			}
		case fd.IsList():
			if !isFloat(fd) && !isMessage(fd) || isMessage(fd) && floatFree(fd.Message()) {
				return true
			}
			l := v.List()
			for j := range l.Len() {
				switch {
				case isFloat(fd):
					if x := l.Get(j).Float(); bad(x) {
						path, value = fmt.Sprintf("%s[%d]", name, j), x
					}
				case isMessage(fd):
					// The element's path is formatted only when it holds the
					// culprit: a million-element list must not cost a million
					// Sprintf calls on the request's critical path.
					if path, value = firstNonFinite(l.Get(j).Message(), "", nil); path != "" {
						path = fmt.Sprintf("%s[%d].%s", name, j, path)
					}
				}
				if path != "" {
					return false
				}
			}
		case fd.IsMap():
			v.Map().Range(func(key protoreflect.MapKey, mv protoreflect.Value) bool {
				switch vd := fd.MapValue(); {
				case isFloat(vd):
					if x := mv.Float(); bad(x) {
						path, value = fmt.Sprintf("%s[%v]", name, key.Interface()), x
					}
				case isMessage(vd):
					path, value = firstNonFinite(mv.Message(), fmt.Sprintf("%s[%v].", name, key.Interface()), nil)
				}
				return path == ""
			})
		case isFloat(fd):
			if x := v.Float(); bad(x) {
				path, value = name, x
			}
		case isMessage(fd):
			path, value = firstNonFinite(v.Message(), name+".", nil)
		}
		return path == ""
	})
	return path, value
}

// extremes finds the largest and the smallest non-zero finite magnitudes
// among an input's floating-point values, with their JSON paths.
type extremes struct {
	bigPath, smallPath string
	big, small         float64
}

func (e *extremes) consider(p string, x float64) {
	a := math.Abs(x)
	if bad(x) || a == 0 {
		return
	}
	if a > e.big {
		e.bigPath, e.big = p, a
	}
	if e.smallPath == "" || a < e.small {
		e.smallPath, e.small = p, a
	}
}

func (e *extremes) walk(m protoreflect.Message, prefix string) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			for j := range l.Len() {
				switch {
				case isFloat(fd):
					e.consider(fmt.Sprintf("%s[%d]", name, j), l.Get(j).Float())
				case isMessage(fd):
					e.walk(l.Get(j).Message(), fmt.Sprintf("%s[%d].", name, j))
				}
			}
		case fd.IsMap():
			v.Map().Range(func(key protoreflect.MapKey, mv protoreflect.Value) bool {
				switch vd := fd.MapValue(); {
				case isFloat(vd):
					e.consider(fmt.Sprintf("%s[%v]", name, key.Interface()), mv.Float())
				case isMessage(vd):
					e.walk(mv.Message(), fmt.Sprintf("%s[%v].", name, key.Interface()))
				}
				return true
			})
		case isFloat(fd):
			e.consider(name, v.Float())
		case isMessage(fd):
			e.walk(v.Message(), name+".")
		}
		return true
	})
}

// doubleFields caches, per generated message type, the Go struct field that
// holds each repeated double field, found from the protobuf struct tags.
var doubleFields sync.Map // reflect.Type → map[protoreflect.FieldNumber]int

// doubles returns the generated []float64 behind a repeated double field,
// so that a node- or cell-sized output is scanned at memory speed instead
// of one boxed protoreflect.Value per element; ok is false for messages
// that are not generated structs (dynamic messages).
func doubles(m protoreflect.Message, fd protoreflect.FieldDescriptor) (xs []float64, ok bool) {
	rv := reflect.ValueOf(m.Interface())
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	st := rv.Elem().Type()
	cached, found := doubleFields.Load(st)
	if !found {
		byNumber := map[protoreflect.FieldNumber]int{}
		for i := range st.NumField() {
			f := st.Field(i)
			if f.Type != reflect.TypeFor[[]float64]() {
				continue
			}
			parts := strings.Split(f.Tag.Get("protobuf"), ",")
			if len(parts) < 2 {
				continue
			}
			if num, err := strconv.Atoi(parts[1]); err == nil {
				byNumber[protoreflect.FieldNumber(num)] = i
			}
		}
		cached, _ = doubleFields.LoadOrStore(st, byNumber)
	}
	i, ok := cached.(map[protoreflect.FieldNumber]int)[fd.Number()]
	if !ok {
		return nil, false
	}
	return rv.Elem().Field(i).Interface().([]float64), true
}

// floatFreeCache remembers, per message type, whether floatFree holds.
var floatFreeCache sync.Map // protoreflect.FullName → bool

// floatFree reports whether messages of type md can hold no float or double
// anywhere (fields, lists, maps, nested messages), so CheckFinite can skip
// lists of them without visiting each element.
func floatFree(md protoreflect.MessageDescriptor) bool {
	if v, ok := floatFreeCache.Load(md.FullName()); ok {
		return v.(bool)
	}
	free := floatFreeWalk(md, map[protoreflect.FullName]bool{})
	floatFreeCache.Store(md.FullName(), free)
	return free
}

func floatFreeWalk(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[md.FullName()] {
		return true // a recursive type is judged by its other fields
	}
	seen[md.FullName()] = true
	fds := md.Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		if fd.IsMap() {
			fd = fd.MapValue()
		}
		if isFloat(fd) {
			return false
		}
		if isMessage(fd) {
			// Well-known wrappers such as Struct/Value hold doubles.
			if !floatFreeWalk(fd.Message(), seen) {
				return false
			}
		}
	}
	return true
}
