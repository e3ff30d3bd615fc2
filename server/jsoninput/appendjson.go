package jsoninput

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ErrTooLarge is returned by AppendJSON when the rendering would pass its
// byte limit.
var ErrTooLarge = errors.New("JSON rendering exceeds the limit")

// AppendJSON renders msg as JSON onto buf, with the same shape as
// protojson.Marshal(ToStruct(msg)) but in one pass and without building a
// Struct: a Struct costs ~80 bytes per number, the JSON text ~10–25. It stops
// with ErrTooLarge as soon as the text would pass max bytes (max <= 0: no
// limit), so a rendering never holds more than max bytes. 64-bit integers are
// written exactly (a Struct would round them to float64).
func AppendJSON(buf []byte, msg proto.Message, max int) ([]byte, error) {
	return AppendJSONContext(context.Background(), buf, msg, max)
}

// AppendJSONContext is AppendJSON that stops with ctx's error once ctx is
// done: rendering a million-element output takes long enough that it must
// stay inside the request's deadline like the kernel that produced it.
func AppendJSONContext(ctx context.Context, buf []byte, msg proto.Message, max int) ([]byte, error) {
	e := jsonEncoder{buf: buf, max: max, start: len(buf), ctx: ctx}
	e.object(msg.ProtoReflect())
	return e.buf, e.err
}

type jsonEncoder struct {
	buf        []byte
	max, start int
	err        error
	ctx        context.Context
	polls      int
}

// full reports (once the limit is passed or the context is done, for good)
// whether to stop. The context is polled every 16 calls: callers call full
// per field and every 1024 list elements, so a poll costs nothing measurable.
func (e *jsonEncoder) full() bool {
	if e.err == nil && e.max > 0 && len(e.buf)-e.start > e.max {
		e.err = ErrTooLarge
	}
	if e.polls++; e.err == nil && e.polls&15 == 1 { // the first call polls too
		e.err = e.ctx.Err()
	}
	return e.err != nil
}

func (e *jsonEncoder) object(m protoreflect.Message) {
	fds := m.Descriptor().Fields()
	e.buf = append(e.buf, '{')
	first := true
	for i := 0; i < fds.Len() && !e.full(); i++ {
		fd := fds.Get(i)
		if (fd.HasPresence() || fd.Kind() == protoreflect.MessageKind) && !fd.IsList() && !fd.IsMap() && !m.Has(fd) {
			continue
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() && !m.Has(fd) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = appendString(e.buf, string(fd.Name()))
		e.buf = append(e.buf, ':')
		if !fd.IsList() || !e.numbers(m, fd) {
			e.field(m.Get(fd), fd)
		}
	}
	e.buf = append(e.buf, '}')
}

func (e *jsonEncoder) field(v protoreflect.Value, fd protoreflect.FieldDescriptor) {
	switch {
	case fd.IsList():
		l := v.List()
		e.buf = append(e.buf, '[')
		for i := 0; i < l.Len(); i++ {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.single(l.Get(i), fd)
			if i&1023 == 1023 && e.full() {
				return
			}
		}
		e.buf = append(e.buf, ']')
	case fd.IsMap():
		// Sorted keys, as protojson renders a Struct.
		mp := v.Map()
		keys := make([]protoreflect.MapKey, 0, mp.Len())
		mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			keys = append(keys, k)
			return true
		})
		sortMapKeys(keys)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, k.String())
			e.buf = append(e.buf, ':')
			e.single(mp.Get(k), fd.MapValue())
			if e.full() {
				return
			}
		}
		e.buf = append(e.buf, '}')
	default:
		e.single(v, fd)
	}
}

func (e *jsonEncoder) single(v protoreflect.Value, fd protoreflect.FieldDescriptor) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case protoreflect.StringKind:
		e.buf = appendString(e.buf, v.String())
	case protoreflect.BytesKind:
		e.buf = append(e.buf, '"')
		e.buf = base64.StdEncoding.AppendEncode(e.buf, v.Bytes())
		e.buf = append(e.buf, '"')
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			e.buf = appendString(e.buf, string(ev.Name()))
		} else {
			e.buf = strconv.AppendInt(e.buf, int64(v.Enum()), 10)
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		e.buf = appendFloat(e.buf, v.Float(), fd.Kind() == protoreflect.FloatKind)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		e.message(v.Message())
	default:
		e.buf = append(e.buf, "null"...)
	}
}

func (e *jsonEncoder) message(m protoreflect.Message) {
	md := m.Descriptor()
	if md.FullName().Parent() == "google.protobuf" {
		b, err := protojson.Marshal(m.Interface())
		if err != nil {
			b = []byte("null")
		}
		e.buf = append(e.buf, b...)
		return
	}
	if !isTuple(md) {
		e.object(m)
		return
	}
	fds := md.Fields()
	if fds.Len() == 1 && fds.Get(0).IsList() {
		if !e.numbers(m, fds.Get(0)) {
			e.field(m.Get(fds.Get(0)), fds.Get(0))
		}
		return
	}
	e.buf = append(e.buf, '[')
	for i := 0; i < fds.Len(); i++ {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if !fds.Get(i).IsList() || !e.numbers(m, fds.Get(i)) {
			e.field(m.Get(fds.Get(i)), fds.Get(i))
		}
	}
	e.buf = append(e.buf, ']')
}

// appendFloat writes f as encoding/json does (shortest representation that
// round-trips; exponent form outside [1e-6, 1e21)), and the non-finite
// values as the strings protojson uses.
func appendFloat(b []byte, f float64, single bool) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	bits := 64
	if single {
		bits = 32
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string; invalid UTF-8 becomes U+FFFD, as
// in encoding/json.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// sortMapKeys orders keys by their JSON text, as protojson orders a Struct.
func sortMapKeys(keys []protoreflect.MapKey) {
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
}

// numbers writes a list of a generated message's numeric field straight from
// its Go slice: going through protoreflect for each element costs several
// times more than the formatting. It reports false for other lists.
func (e *jsonEncoder) numbers(m protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	switch p := goSlice(m, fd).(type) {
	case []float64:
		writeList(e, p, func(b []byte, f float64) []byte { return appendFloat(b, f, false) })
	case []float32:
		writeList(e, p, func(b []byte, f float32) []byte { return appendFloat(b, float64(f), true) })
	case []int32:
		writeList(e, p, func(b []byte, n int32) []byte { return strconv.AppendInt(b, int64(n), 10) })
	case []int64:
		writeList(e, p, func(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) })
	case []uint32:
		writeList(e, p, func(b []byte, n uint32) []byte { return strconv.AppendUint(b, uint64(n), 10) })
	case []uint64:
		writeList(e, p, func(b []byte, n uint64) []byte { return strconv.AppendUint(b, n, 10) })
	case []bool:
		writeList(e, p, strconv.AppendBool)
	default:
		return false
	}
	return true
}

// goSlice is the Go slice behind a repeated field of a generated message
// (found once per field from the struct's protobuf tags), or nil.
func goSlice(m protoreflect.Message, fd protoreflect.FieldDescriptor) any {
	rv := reflect.ValueOf(m.Interface())
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil
	}
	st := rv.Elem().Type()
	key := sliceKey{st, fd.Name()}
	idx, ok := sliceFields.Load(key)
	if !ok {
		idx = -1
		for i := 0; i < st.NumField(); i++ {
			for _, part := range strings.Split(st.Field(i).Tag.Get("protobuf"), ",") {
				if part == "name="+string(fd.Name()) && st.Field(i).Type.Kind() == reflect.Slice {
					idx = i
				}
			}
		}
		sliceFields.Store(key, idx)
	}
	if idx.(int) < 0 {
		return nil
	}
	return rv.Elem().Field(idx.(int)).Interface()
}

type sliceKey struct {
	t    reflect.Type
	name protoreflect.Name
}

var sliceFields sync.Map // sliceKey → struct field index, -1 for none

func writeList[T any](e *jsonEncoder, xs []T, add func([]byte, T) []byte) {
	e.buf = append(e.buf, '[')
	for i, x := range xs {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = add(e.buf, x)
		if i&1023 == 1023 && e.full() {
			return
		}
	}
	e.buf = append(e.buf, ']')
}
