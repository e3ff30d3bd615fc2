package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// extreme is one way of pushing every floating-point value of an input to
// the edge of float64: huge magnitudes whose sums and squares overflow,
// denormals whose products underflow, and all-identical values (zero
// variance, zero distances).
type extreme struct {
	name string
	// value maps the i-th double of the input (in a depth-first walk) and
	// its current value to the new one.
	value func(i int, v float64) float64
}

var extremes = []extreme{
	{"all+1e308", func(int, float64) float64 { return 1e308 }},
	{"all-1e308", func(int, float64) float64 { return -1e308 }},
	{"alternating±1e308", func(i int, _ float64) float64 {
		if i%2 == 0 {
			return 1e308
		}
		return -1e308
	}},
	{"first=1e308", func(i int, v float64) float64 {
		if i == 0 {
			return 1e308
		}
		return v
	}},
	{"first=-1e308", func(i int, v float64) float64 {
		if i == 0 {
			return -1e308
		}
		return v
	}},
	{"scaled×1e300", func(_ int, v float64) float64 { return v * 1e300 }},
	{"scaled×1e-300", func(_ int, v float64) float64 { return v * 1e-300 }},
	{"all1e-308", func(int, float64) float64 { return 1e-308 }},
	{"denormal", func(int, float64) float64 { return 5e-324 }},
	{"identical", func(int, float64) float64 { return 1 }},
	{"all0", func(int, float64) float64 { return 0 }},
}

// mapDoubles rewrites every float and double field of m (scalars, lists,
// nested messages, map values) in place, numbering them depth first.
func mapDoubles(m protoreflect.Message, f func(i int, v float64) float64) {
	n := 0
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			isFloat := fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind
			isMsg := fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind
			switch {
			case fd.IsList():
				l := v.List()
				for j := range l.Len() {
					switch {
					case isFloat:
						l.Set(j, protoreflect.ValueOfFloat64(f(n, l.Get(j).Float())))
						if fd.Kind() == protoreflect.FloatKind {
							l.Set(j, protoreflect.ValueOfFloat32(float32(l.Get(j).Float())))
						}
						n++
					case isMsg:
						walk(l.Get(j).Message())
					}
				}
			case fd.IsMap():
				mp := v.Map()
				mp.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					vd := fd.MapValue()
					switch vd.Kind() {
					case protoreflect.DoubleKind:
						mp.Set(k, protoreflect.ValueOfFloat64(f(n, mv.Float())))
						n++
					case protoreflect.MessageKind:
						walk(mv.Message())
					}
					return true
				})
			case isFloat:
				nv := f(n, v.Float())
				n++
				if fd.Kind() == protoreflect.FloatKind {
					m.Set(fd, protoreflect.ValueOfFloat32(float32(nv)))
				} else {
					m.Set(fd, protoreflect.ValueOfFloat64(nv))
				}
			case isMsg:
				walk(v.Message())
			}
			return true
		})
	}
	walk(m)
}

// nonFinite returns the path of the first NaN or ±Inf double in m, or "".
func nonFinite(m protoreflect.Message, prefix string) string {
	found := ""
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		isFloat := fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind
		isMsg := fd.Kind() == protoreflect.MessageKind
		switch {
		case fd.IsList():
			l := v.List()
			for j := range l.Len() {
				switch {
				case isFloat:
					if x := l.Get(j).Float(); math.IsNaN(x) || math.IsInf(x, 0) {
						found = fmt.Sprintf("%s[%d]=%v", name, j, x)
					}
				case isMsg:
					found = nonFinite(l.Get(j).Message(), fmt.Sprintf("%s[%d].", name, j))
				}
				if found != "" {
					return false
				}
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				switch fd.MapValue().Kind() {
				case protoreflect.DoubleKind:
					if x := mv.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
						found = fmt.Sprintf("%s[%v]=%v", name, k, x)
					}
				case protoreflect.MessageKind:
					found = nonFinite(mv.Message(), fmt.Sprintf("%s[%v].", name, k))
				}
				return found == ""
			})
		case isFloat:
			if x := v.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
				found = fmt.Sprintf("%s=%v", name, x)
			}
		case isMsg:
			found = nonFinite(v.Message(), name+".")
		}
		return found == ""
	})
	return found
}

// extremeInputs returns, for every batch kernel, each committed fixture
// input rewritten by every extreme, as JSON request inputs.
func extremeInputs(t testing.TB, reg *registry.Registry) map[string][][]byte {
	files, err := fixture.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][][]byte{}
	for _, file := range files {
		k, ok := reg.Get(file.KernelID)
		if !ok || !k.SupportsBatch() {
			continue
		}
		for _, c := range file.Cases {
			if c.Slow || c.ErrorField != "" {
				continue
			}
			base := k.NewInput()
			if err := jsoninput.Decode(c.Input, base); err != nil {
				t.Fatalf("%s/%s: %v", file.KernelID, c.Name, err)
			}
			for _, x := range extremes {
				in := proto.Clone(base)
				mapDoubles(in.ProtoReflect(), x.value)
				data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(in)
				if err != nil {
					t.Fatal(err)
				}
				out[file.KernelID] = append(out[file.KernelID], data)
			}
		}
	}
	return out
}

// TestExtremeMagnitudes runs every batch kernel on its fixture inputs with
// every double pushed to ±1e308, 1e-308, denormals, all-identical values
// and zero. Each run must either reject the input with a field error (a
// 400 naming the field) or answer with finite numbers only; a panic, an
// internal error or a NaN/Inf in a 200 fails. (Fields a kernel documents
// as NaN-for-missing are exempt, see registry.Meta.NaNOutputs.)
func TestExtremeMagnitudes(t *testing.T) {
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	inputs := extremeInputs(t, reg)
	for _, k := range reg.List("", registry.Batch) {
		cases := inputs[k.ID]
		if len(cases) == 0 {
			t.Errorf("%s: no fixture inputs to push to extremes", k.ID)
			continue
		}
		var rejected, answered int
		for i, data := range cases {
			x := extremes[i%len(extremes)].name
			in := k.NewInput()
			if err := jsoninput.Decode(data, in); err != nil {
				t.Fatalf("%s %s: re-decoding: %v", k.ID, x, err)
			}
			if err := k.Validate(in); err != nil {
				var ve *protovalidate.ValidationError
				if !errors.As(err, &ve) {
					t.Errorf("%s %s: validation failed oddly: %v", k.ID, x, err)
				}
				rejected++
				continue
			}
			out, err := runGuarded(k, in)
			switch {
			case err != nil:
				if _, ok := kerr.AsField(err); !ok {
					t.Errorf("%s %s: internal error (a 500) on %s: %v", k.ID, x, short(data), err)
				}
				rejected++
			default:
				if bad := nonFiniteAllowed(k, out); bad != "" {
					t.Errorf("%s %s: 200 with a non-finite output %s on %s", k.ID, x, bad, short(data))
				}
				answered++
			}
		}
		t.Logf("%-40s %3d rejected with a field error, %3d answered finite", k.ID, rejected, answered)
	}
}

// nonFiniteAllowed is nonFinite without the fields the kernel documents as
// NaN-for-missing.
func nonFiniteAllowed(k *registry.Kernel, out proto.Message) string {
	m := out.ProtoReflect()
	if len(k.NaNOutputs) > 0 {
		m = proto.Clone(out).ProtoReflect()
		for _, name := range k.NaNOutputs {
			if fd := m.Descriptor().Fields().ByName(protoreflect.Name(name)); fd != nil {
				m.Clear(fd)
			}
		}
	}
	return nonFinite(m, "")
}

// runGuarded runs k with a 10 s deadline and turns a panic into an error
// that is not a field error, so the caller reports it. A kernel that
// ignores its deadline is reported after a further 20 s instead of hanging
// the suite (its goroutine is abandoned; the test process ends anyway).
func runGuarded(k *registry.Kernel, in proto.Message) (proto.Message, error) {
	type result struct {
		out proto.Message
		err error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(limits.With(context.Background(), fuzzLimits), 10*time.Second)
	defer cancel()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("panic: %v", p)}
			}
		}()
		out, err := k.RunCPU(ctx, in)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		if errors.Is(r.err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("ran past a 10 s deadline")
		}
		return r.out, r.err
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("ignored its 10 s deadline: still running after 30 s")
	}
}

// short cuts a JSON input for a readable failure message.
func short(data []byte) string {
	if len(data) > 300 {
		return string(data[:300]) + "…"
	}
	return string(data)
}
