package jsoninput

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Decode parses JSON text into msg (a kernel input message). It transcodes
// the JSON straight to protobuf wire format (Transcode) and unmarshals that
// with the generated fast path: one pass, no intermediate tree, no reflection
// per value. It accepts exactly what FromStruct accepts and reports errors
// the same way (field path, kerr.FieldError).
func Decode(data []byte, msg proto.Message) error {
	return decode(data, msg, true)
}

// decode is Decode, with graph edges written as packed_edges where that
// changes nothing the kernel reports (packededges.go) when pack is set.
func decode(data []byte, msg proto.Message, pack bool) error {
	b, err := transcode(data, msg.ProtoReflect().Descriptor(), pack)
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(b, msg); err != nil {
		return kerr.Invalid("input", "%v", err)
	}
	return nil
}

// Transcode converts a JSON object into the protobuf wire encoding of md.
// The REST gateway forwards the result as typed_input without ever building
// the message, so a large body costs about its own size in memory.
func Transcode(data []byte, md protoreflect.MessageDescriptor) ([]byte, error) {
	return transcode(data, md, true)
}

func transcode(data []byte, md protoreflect.MessageDescriptor, pack bool) ([]byte, error) {
	// The wire form is mostly smaller than the JSON text, so one
	// allocation of the input's size holds it without regrowth. The
	// exception is a list of short arrays read as google.protobuf.ListValue
	// items (graph edges, [0,1] → 24 bytes: a Value of a tag and a double per
	// id): for a message with such a field, up to 20 more bytes per '['
	// cover them, and a bytes.Count costs far less than the copies of a
	// regrowing buffer. Graph edges written as packed_edges (packededges.go)
	// are smaller than their JSON: there the extra room is left for the rare
	// fallback to regrow into.
	size := len(data) + 16
	pack = pack && packableEdges(md) != nil
	if hasListValues(md) && !pack {
		size += 20 * bytes.Count(data, []byte{'['})
	}
	d := &decoder{buf: data, out: make([]byte, 0, size), pack: pack}
	switch d.peek() {
	case '{':
	case '[', '"', 't', 'f', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return nil, kerr.Invalid("input", "must be a JSON object")
	default:
		return nil, kerr.Invalid("input", "malformed JSON: expected an object")
	}
	if err := d.object(md); err != nil {
		return nil, err
	}
	if d.peek() != 0 {
		return nil, d.syntax("unexpected data after the object")
	}
	return d.out, nil
}

// hasListValues reports whether md has a repeated google.protobuf.ListValue
// field (graph edges).
func hasListValues(md protoreflect.MessageDescriptor) bool {
	fds := md.Fields()
	for i := range fds.Len() {
		if fd := fds.Get(i); fd.IsList() && fd.Message() != nil && fd.Message().FullName() == "google.protobuf.ListValue" {
			return true
		}
	}
	return false
}

type segment struct {
	name string
	idx  int // -1 for a field name segment
}

type decoder struct {
	buf  []byte
	pos  int
	path []segment
	out  []byte
	pack bool // write the top-level object's graph edges as packed_edges when possible
}

func (d *decoder) pathString() string {
	var b strings.Builder
	for _, s := range d.path {
		if s.idx >= 0 {
			fmt.Fprintf(&b, "[%d]", s.idx)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
	}
	if b.Len() == 0 {
		return "input"
	}
	return b.String()
}

func (d *decoder) fail(format string, args ...any) error {
	return kerr.Invalid(d.pathString(), format, args...)
}

func (d *decoder) syntax(what string) error {
	return kerr.Invalid("input", "malformed JSON at byte %d: %s", d.pos, what)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (d *decoder) skipWS() {
	for d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (d *decoder) peek() byte {
	d.skipWS()
	if d.pos >= len(d.buf) {
		return 0
	}
	return d.buf[d.pos]
}

func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		return d.syntax(fmt.Sprintf("expected %q", c))
	}
	d.pos++
	return nil
}

func (d *decoder) null() bool {
	if d.peek() == 'n' && len(d.buf)-d.pos >= 4 && string(d.buf[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

// beginLen reserves one byte for a length prefix and returns where the
// content starts; endLen writes the length, widening the prefix when the
// content is 128 bytes or longer.
func (d *decoder) beginLen() int {
	d.out = append(d.out, 0)
	return len(d.out)
}

func (d *decoder) endLen(start int) {
	n := len(d.out) - start
	size := protowire.SizeVarint(uint64(n))
	if size > 1 {
		d.out = append(d.out, make([]byte, size-1)...)
		copy(d.out[start+size-1:], d.out[start:start+n])
	}
	protowire.AppendVarint(d.out[:start-1], uint64(n))
}

// object transcodes {"field": value, ...} as the fields of md.
func (d *decoder) object(md protoreflect.MessageDescriptor) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	fds := md.Fields()
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	var seen fieldSet
	var ef *edgeFields // set when this object's edges may go as packed_edges
	var sp packedSpan
	objStart := len(d.out)
	if d.pack && len(d.path) == 0 {
		ef = packableEdges(md)
	}
	for {
		if d.peek() != '"' {
			return d.syntax("expected a field name")
		}
		name, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		fd := fds.ByName(protoreflect.Name(name))
		if fd == nil {
			fd = fds.ByJSONName(name)
		}
		d.path = append(d.path, segment{name: name, idx: -1})
		if fd == nil {
			return d.fail("unknown field")
		}
		// A field given twice (also as name and jsonName) would otherwise
		// be decided by position: refuse it, as protojson does.
		if !seen.add(int(fd.Number())) {
			return d.fail("field given more than once (as %s or %s)", fd.Name(), fd.JSONName())
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			if !seen.add(-1 - od.Index()) {
				return d.fail("only one of the %s fields may be given", od.Name())
			}
		}
		packed := ef != nil && fd == ef.edges && !seen.has(int(ef.packed.Number())) && d.peek() == '[' && d.packEdges(ef, &sp)
		if !packed {
			if err := d.field(fd); err != nil {
				return err
			}
		}
		d.path = d.path[:len(d.path)-1]
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			if ef != nil {
				return d.settlePacked(ef, &sp, objStart, &seen)
			}
			return nil
		default:
			return d.syntax("expected , or }")
		}
	}
}

func isMessage(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind
}

func packable(fd protoreflect.FieldDescriptor) bool {
	k := fd.Kind()
	return k != protoreflect.StringKind && k != protoreflect.BytesKind && !isMessage(fd)
}

func (d *decoder) field(fd protoreflect.FieldDescriptor) error {
	if d.peek() == 0 {
		return d.syntax("unexpected end of input")
	}
	if d.null() {
		return nil
	}
	switch {
	case fd.IsList():
		if d.peek() != '[' {
			return d.fail("must be an array")
		}
		return d.list(fd)
	case fd.IsMap():
		if d.peek() != '{' {
			return d.fail("must be an object")
		}
		return d.mapValue(fd)
	case isMessage(fd):
		d.out = protowire.AppendTag(d.out, fd.Number(), protowire.BytesType)
		start := d.beginLen()
		if err := d.message(fd.Message()); err != nil {
			return err
		}
		d.endLen(start)
		return nil
	default:
		return d.scalar(fd, true)
	}
}

// list transcodes an array: packed for numbers and bools, one record per
// element otherwise.
func (d *decoder) list(fd protoreflect.FieldDescriptor) error {
	d.pos++ // [
	d.path = append(d.path, segment{idx: 0})
	top := len(d.path) - 1
	if d.peek() == ']' {
		d.pos++
		d.path = d.path[:top]
		return nil
	}
	packed := packable(fd)
	start := 0
	if packed {
		d.out = protowire.AppendTag(d.out, fd.Number(), protowire.BytesType)
		start = d.beginLen()
	}
	for i := 0; ; i++ {
		d.path[top].idx = i
		switch {
		case d.peek() == 'n':
			return d.fail("must not be null")
		case isMessage(fd):
			d.out = protowire.AppendTag(d.out, fd.Number(), protowire.BytesType)
			s := d.beginLen()
			if err := d.message(fd.Message()); err != nil {
				return err
			}
			d.endLen(s)
		default:
			if err := d.scalar(fd, !packed); err != nil {
				return err
			}
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.path = d.path[:top]
			if packed {
				d.endLen(start)
			}
			return nil
		default:
			return d.syntax("expected , or ]")
		}
	}
}

func (d *decoder) mapValue(fd protoreflect.FieldDescriptor) error {
	d.pos++ // {
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	kd, vd := fd.MapKey(), fd.MapValue()
	keys := map[any]struct{}{}
	for {
		if d.peek() != '"' {
			return d.syntax("expected a key")
		}
		k, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		d.path = append(d.path, segment{name: strconv.Quote(k), idx: -1})
		key, err := decodeMapKey(d.pathString(), k, kd)
		if err != nil {
			return err
		}
		if _, dup := keys[key.Interface()]; dup {
			return d.fail("key given more than once")
		}
		keys[key.Interface()] = struct{}{}
		d.out = protowire.AppendTag(d.out, fd.Number(), protowire.BytesType)
		entry := d.beginLen()
		d.out = protowire.AppendTag(d.out, kd.Number(), wireType(kd.Kind()))
		d.appendValue(kd, key.Value())
		if isMessage(vd) {
			d.out = protowire.AppendTag(d.out, vd.Number(), protowire.BytesType)
			s := d.beginLen()
			if err := d.message(vd.Message()); err != nil {
				return err
			}
			d.endLen(s)
		} else if err := d.scalar(vd, true); err != nil {
			return err
		}
		d.endLen(entry)
		d.path = d.path[:len(d.path)-1]
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.syntax("expected , or }")
		}
	}
}

// message transcodes a message body: an object, a tuple array, or (for
// well-known types) whatever protojson accepts.
func (d *decoder) message(md protoreflect.MessageDescriptor) error {
	if md.FullName().Parent() == "google.protobuf" {
		// ListValue and Value are transcoded here, not by protojson: graph
		// edges are a ListValue each ([[0, 1], ...]), a million of them in a
		// large request, and protojson on a dynamic message costs
		// microseconds apiece.
		switch md.FullName() {
		case "google.protobuf.ListValue":
			if d.peek() == '[' {
				return d.listValue(0)
			}
		case "google.protobuf.Value":
			return d.value(0)
		}
		return d.protojsonBody(md)
	}
	switch d.peek() {
	case '{':
		return d.object(md)
	case '[':
		if !isTuple(md) {
			return d.fail("must be an object")
		}
		return d.tuple(md)
	}
	if isTuple(md) {
		return d.fail("must be an array")
	}
	return d.fail("must be an object")
}

// protojsonBody transcodes one value with protojson, as the message md.
func (d *decoder) protojsonBody(md protoreflect.MessageDescriptor) error {
	start := d.pos
	if err := d.skip(); err != nil {
		return err
	}
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal(d.buf[start:d.pos], m); err != nil {
		return d.fail("%v", err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return d.fail("%v", err)
	}
	d.out = append(d.out, b...)
	return nil
}

// maxListDepth bounds the nesting of arrays inside a google.protobuf.Value,
// which the schema does not: [[[[...]]]] from a large body must be an
// error, not a stack overflow. (protojson's own limit is 10,000.)
const maxListDepth = 10000

// Field numbers of google.protobuf.Value (its kind oneof) and ListValue.
const (
	valueNull   = 1
	valueNumber = 2
	valueString = 3
	valueBool   = 4
	valueStruct = 5
	valueList   = 6
	listValues  = 1
)

var structDesc = (&structpb.Struct{}).ProtoReflect().Descriptor()

// listValue transcodes a JSON array as a google.protobuf.ListValue body,
// each element a Value, the way protojson reads it. Errors name the element
// ("edges[3][1]").
func (d *decoder) listValue(depth int) error {
	if depth >= maxListDepth {
		return d.fail("arrays nested more than %d deep", maxListDepth)
	}
	d.pos++ // [
	d.path = append(d.path, segment{idx: 0})
	top := len(d.path) - 1
	if d.peek() == ']' {
		d.pos++
		d.path = d.path[:top]
		return nil
	}
	for i := 0; ; i++ {
		d.path[top].idx = i
		d.out = protowire.AppendTag(d.out, listValues, protowire.BytesType)
		s := d.beginLen()
		if err := d.value(depth); err != nil {
			return err
		}
		d.endLen(s)
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.path = d.path[:top]
			return nil
		default:
			return d.syntax("expected , or ]")
		}
	}
}

// value transcodes any JSON value as a google.protobuf.Value body, as
// protojson reads it: null, a number (a double; beyond ±1.8e308 is an
// error), a string, a bool, a list or an object.
func (d *decoder) value(depth int) error {
	switch c := d.peek(); {
	case c == 'n':
		if !d.null() {
			return d.syntax("expected a value")
		}
		d.out = protowire.AppendTag(d.out, valueNull, protowire.VarintType)
		d.out = protowire.AppendVarint(d.out, 0)
	case c == 't' || c == 'f':
		var b bool
		switch {
		case len(d.buf)-d.pos >= 4 && string(d.buf[d.pos:d.pos+4]) == "true":
			b, d.pos = true, d.pos+4
		case len(d.buf)-d.pos >= 5 && string(d.buf[d.pos:d.pos+5]) == "false":
			d.pos += 5
		default:
			return d.syntax("expected a value")
		}
		d.out = protowire.AppendTag(d.out, valueBool, protowire.VarintType)
		d.out = protowire.AppendVarint(d.out, protowire.EncodeBool(b))
	case c == '"':
		str, err := d.str()
		if err != nil {
			return err
		}
		d.out = protowire.AppendTag(d.out, valueString, protowire.BytesType)
		d.out = protowire.AppendString(d.out, str)
	case c == '-' || isDigit(c):
		f, err := d.numberValue()
		if err != nil {
			return err
		}
		d.out = protowire.AppendTag(d.out, valueNumber, protowire.Fixed64Type)
		d.out = protowire.AppendFixed64(d.out, math.Float64bits(f))
	case c == '[':
		d.out = protowire.AppendTag(d.out, valueList, protowire.BytesType)
		s := d.beginLen()
		if err := d.listValue(depth + 1); err != nil {
			return err
		}
		d.endLen(s)
	case c == '{':
		d.out = protowire.AppendTag(d.out, valueStruct, protowire.BytesType)
		s := d.beginLen()
		if err := d.protojsonBody(structDesc); err != nil {
			return err
		}
		d.endLen(s)
	case c == 0:
		return d.syntax("unexpected end of input")
	default:
		return d.syntax("expected a value")
	}
	return nil
}

func (d *decoder) tuple(md protoreflect.MessageDescriptor) error {
	fds := md.Fields()
	if fds.Len() == 1 && fds.Get(0).IsList() {
		return d.list(fds.Get(0))
	}
	d.pos++ // [
	d.path = append(d.path, segment{idx: 0})
	top := len(d.path) - 1
	n := 0
	if d.peek() == ']' {
		d.pos++
	} else {
		for {
			if n < fds.Len() {
				d.path[top].idx = n
				if err := d.field(fds.Get(n)); err != nil {
					return err
				}
			} else if err := d.skip(); err != nil {
				return err
			}
			n++
			c := d.peek()
			if c == ']' {
				d.pos++
				break
			}
			if c != ',' {
				return d.syntax("expected , or ]")
			}
			d.pos++
		}
	}
	d.path = d.path[:top]
	if n != fds.Len() {
		names := make([]string, fds.Len())
		for i := range names {
			names[i] = string(fds.Get(i).Name())
		}
		return d.fail("must be an array of %d values [%s], got %d", fds.Len(), strings.Join(names, ", "), n)
	}
	return nil
}

// scalar reads one scalar value and appends its encoding (with its tag
// unless it goes into a packed list).
func (d *decoder) scalar(fd protoreflect.FieldDescriptor, tagged bool) error {
	v, err := d.scalarValue(fd)
	if err != nil {
		return err
	}
	if tagged {
		d.out = protowire.AppendTag(d.out, fd.Number(), wireType(fd.Kind()))
	}
	d.appendValue(fd, v)
	return nil
}

func wireType(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return protowire.Fixed64Type
	case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return protowire.Fixed32Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	}
	return protowire.VarintType
}

// appendValue encodes a scalar value (no tag).
func (d *decoder) appendValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		d.out = protowire.AppendVarint(d.out, protowire.EncodeBool(v.Bool()))
	case protoreflect.EnumKind:
		d.out = protowire.AppendVarint(d.out, uint64(v.Enum()))
	case protoreflect.Int32Kind:
		d.out = protowire.AppendVarint(d.out, uint64(int32(v.Int())))
	case protoreflect.Int64Kind:
		d.out = protowire.AppendVarint(d.out, uint64(v.Int()))
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		d.out = protowire.AppendVarint(d.out, protowire.EncodeZigZag(v.Int()))
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		d.out = protowire.AppendVarint(d.out, v.Uint())
	case protoreflect.Sfixed32Kind:
		d.out = protowire.AppendFixed32(d.out, uint32(v.Int()))
	case protoreflect.Fixed32Kind:
		d.out = protowire.AppendFixed32(d.out, uint32(v.Uint()))
	case protoreflect.Sfixed64Kind:
		d.out = protowire.AppendFixed64(d.out, uint64(v.Int()))
	case protoreflect.Fixed64Kind:
		d.out = protowire.AppendFixed64(d.out, v.Uint())
	case protoreflect.FloatKind:
		d.out = protowire.AppendFixed32(d.out, math.Float32bits(float32(v.Float())))
	case protoreflect.DoubleKind:
		d.out = protowire.AppendFixed64(d.out, math.Float64bits(v.Float()))
	case protoreflect.StringKind:
		d.out = protowire.AppendString(d.out, v.String())
	case protoreflect.BytesKind:
		d.out = protowire.AppendBytes(d.out, v.Bytes())
	}
}

// scalarValue reads and range-checks one scalar.
func (d *decoder) scalarValue(fd protoreflect.FieldDescriptor) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		switch {
		case d.peek() == 't' && len(d.buf)-d.pos >= 4 && string(d.buf[d.pos:d.pos+4]) == "true":
			d.pos += 4
			return protoreflect.ValueOfBool(true), nil
		case d.peek() == 'f' && len(d.buf)-d.pos >= 5 && string(d.buf[d.pos:d.pos+5]) == "false":
			d.pos += 5
			return protoreflect.ValueOfBool(false), nil
		}
		return protoreflect.Value{}, d.fail("must be true or false")
	case protoreflect.StringKind:
		if d.peek() != '"' {
			return protoreflect.Value{}, d.fail("must be a string")
		}
		s, err := d.str()
		return protoreflect.ValueOfString(s), err
	case protoreflect.BytesKind:
		if d.peek() != '"' {
			return protoreflect.Value{}, d.fail("must be a base64 string")
		}
		s, err := d.str()
		if err != nil {
			return protoreflect.Value{}, err
		}
		// protojson's rule: standard or URL alphabet, padded or not.
		enc := base64.StdEncoding
		if strings.ContainsAny(s, "-_") {
			enc = base64.URLEncoding
		}
		if len(s)%4 != 0 {
			enc = enc.WithPadding(base64.NoPadding)
		}
		b, err := enc.DecodeString(s)
		if err != nil {
			return protoreflect.Value{}, d.fail("must be a base64 string")
		}
		return protoreflect.ValueOfBytes(b), nil
	case protoreflect.EnumKind:
		if d.peek() == '"' {
			s, err := d.str()
			if err != nil {
				return protoreflect.Value{}, err
			}
			ev := fd.Enum().Values().ByName(protoreflect.Name(s))
			if ev == nil {
				return protoreflect.Value{}, d.fail("unknown value %q", s)
			}
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
		f, err := d.numberValue()
		if err != nil {
			return protoreflect.Value{}, err
		}
		n, err := integral(d.pathString(), f, math.MinInt32, math.MaxInt32)
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return d.int64Value(fd)
	}
	f, err := d.numberValue()
	if err != nil {
		return protoreflect.Value{}, err
	}
	switch fd.Kind() {
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(f), nil
	case protoreflect.FloatKind:
		if !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
			return protoreflect.Value{}, d.fail("out of float range")
		}
		return protoreflect.ValueOfFloat32(float32(f)), nil
	}
	var lo, hi float64
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		lo, hi = math.MinInt32, math.MaxInt32
	default:
		lo, hi = 0, math.MaxUint32
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
		return protoreflect.Value{}, d.fail("must be an integer")
	}
	if f < lo || f > hi {
		return protoreflect.Value{}, d.fail("out of range [%.0f, %.0f]", lo, hi)
	}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt64(int64(f)), nil
	}
	return protoreflect.ValueOfUint64(uint64(f)), nil
}

// int64Value reads a 64-bit integer exactly, as the proto3 JSON mapping
// writes it: a JSON number or a decimal string ("9007199254740993",
// "1e3"). Going through float64 would round anything above 2^53.
func (d *decoder) int64Value(fd protoreflect.FieldDescriptor) (protoreflect.Value, error) {
	var text []byte
	if d.peek() == '"' {
		s, err := d.str()
		if err != nil {
			return protoreflect.Value{}, err
		}
		if !validNumber([]byte(s)) {
			return protoreflect.Value{}, d.fail("must be an integer")
		}
		text = []byte(s)
	} else if c := d.peek(); c == '-' || isDigit(c) {
		t, err := d.number()
		if err != nil {
			return protoreflect.Value{}, err
		}
		text = t
	} else {
		return protoreflect.Value{}, d.fail("must be an integer")
	}
	signed := fd.Kind() != protoreflect.Uint64Kind && fd.Kind() != protoreflect.Fixed64Kind
	neg, mag, fits, integer := exactInteger(text)
	switch {
	case !integer:
		return protoreflect.Value{}, d.fail("must be an integer")
	case signed && (!fits || !neg && mag > math.MaxInt64 || neg && mag > 1<<63):
		return protoreflect.Value{}, d.fail("out of range [%d, %d]", int64(math.MinInt64), int64(math.MaxInt64))
	case !signed && (!fits || neg && mag != 0):
		return protoreflect.Value{}, d.fail("out of range [0, %d]", uint64(math.MaxUint64))
	case !signed:
		return protoreflect.ValueOfUint64(mag), nil
	case neg:
		return protoreflect.ValueOfInt64(int64(-mag)), nil
	}
	return protoreflect.ValueOfInt64(int64(mag)), nil
}

// exactInteger reads a valid JSON number without rounding: it splits it
// into its decimal digits and exponent and moves the decimal point, so
// 9007199254740993, "1e3" and "2.50e1" are read exactly. integer is false
// when the number has a fractional part; fits is false when its magnitude
// exceeds MaxUint64.
func exactInteger(text []byte) (neg bool, mag uint64, fits, integer bool) {
	i := 0
	if i < len(text) && text[i] == '-' {
		neg, i = true, 1
	}
	// Fast path: up to 19 plain digits cannot overflow a uint64.
	if rest := text[i:]; len(rest) > 0 && len(rest) <= 19 {
		var n uint64
		plain := true
		for _, c := range rest {
			if !isDigit(c) {
				plain = false
				break
			}
			n = n*10 + uint64(c-'0')
		}
		if plain {
			return neg, n, true, true
		}
	}
	var digits []byte
	for ; i < len(text) && isDigit(text[i]); i++ {
		digits = append(digits, text[i])
	}
	frac := 0
	if i < len(text) && text[i] == '.' {
		for i++; i < len(text) && isDigit(text[i]); i++ {
			digits = append(digits, text[i])
			frac++
		}
	}
	exp := 0
	if i < len(text) && (text[i] == 'e' || text[i] == 'E') {
		i++
		eneg := false
		if i < len(text) && (text[i] == '+' || text[i] == '-') {
			eneg, i = text[i] == '-', i+1
		}
		for ; i < len(text) && isDigit(text[i]); i++ {
			if exp < 1e6 { // beyond any digit count: saturate
				exp = exp*10 + int(text[i]-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	// Strip leading zeros; all zeros is zero whatever the exponent.
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return neg, 0, true, true
	}
	shift := exp - frac // value = digits × 10^shift
	for shift < 0 && digits[len(digits)-1] == '0' {
		digits, shift = digits[:len(digits)-1], shift+1
	}
	if shift < 0 {
		return neg, 0, true, false // a fractional part
	}
	if len(digits)+shift > 20 {
		return neg, math.MaxUint64, false, true
	}
	for ; shift > 0; shift-- {
		digits = append(digits, '0')
	}
	n, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil {
		return neg, math.MaxUint64, false, true
	}
	return neg, n, true, true
}

// validNumber reports whether b is a number by JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?  — no leading zeros
// ("007"), no bare "." or "1.", no "+1", no hex or "inf".
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i == len(b)
}

// fieldSet records the fields (and oneofs, as negative numbers) an object
// has set. Field numbers below 64 — nearly all — live in a bit set, so
// decoding a large array of small objects allocates nothing for it.
type fieldSet struct {
	bits uint64
	more map[int]struct{}
}

// has reports whether n was recorded.
func (s *fieldSet) has(n int) bool {
	if n >= 0 && n < 64 {
		return s.bits&(1<<n) != 0
	}
	_, ok := s.more[n]
	return ok
}

// add records n and reports whether it was new.
func (s *fieldSet) add(n int) bool {
	if n >= 0 && n < 64 {
		if s.bits&(1<<n) != 0 {
			return false
		}
		s.bits |= 1 << n
		return true
	}
	if s.more == nil {
		s.more = map[int]struct{}{}
	}
	if _, ok := s.more[n]; ok {
		return false
	}
	s.more[n] = struct{}{}
	return true
}

// str reads a JSON string at the cursor.
func (d *decoder) str() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		switch {
		case c == '"':
			s := string(d.buf[start:d.pos])
			d.pos++
			if !utf8.ValidString(s) {
				return "", d.fail("invalid UTF-8 in string")
			}
			return s, nil
		case c == '\\':
			// Rare: escapes. Find the end and let encoding/json unescape.
			end := d.pos
			for end < len(d.buf) && d.buf[end] != '"' {
				if d.buf[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(d.buf) {
				return "", d.syntax("unterminated string")
			}
			var s string
			if err := json.Unmarshal(d.buf[start-1:end+1], &s); err != nil {
				return "", d.syntax("bad string escape")
			}
			d.pos = end + 1
			return s, nil
		case c < 0x20:
			return "", d.syntax("control character in string")
		}
		d.pos++
	}
	return "", d.syntax("unterminated string")
}

// number scans a JSON number and returns its text.
func (d *decoder) number() ([]byte, error) {
	start := d.pos
	if d.pos < len(d.buf) && d.buf[d.pos] == '-' {
		d.pos++
	}
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		if isDigit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
			d.pos++
			continue
		}
		break
	}
	if d.pos == start {
		return nil, d.fail("must be a number")
	}
	if !validNumber(d.buf[start:d.pos]) {
		return nil, d.fail("%q is not a valid JSON number", d.buf[start:d.pos])
	}
	return d.buf[start:d.pos], nil
}

// numberValue reads a number, or the strings protojson uses for non-finite
// values and large integers.
func (d *decoder) numberValue() (float64, error) {
	switch c := d.peek(); {
	case c == '"':
		s, err := d.str()
		if err != nil {
			return 0, err
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		if !validNumber([]byte(s)) {
			return 0, d.fail("must be a number")
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, d.fail("out of range for a double")
		}
		return f, nil
	case c == '-' || isDigit(c):
		text, err := d.number()
		if err != nil {
			return 0, err
		}
		// Fast path: a plain integer of up to 15 digits is exact in float64.
		if n, ok := smallInt(text); ok {
			return float64(n), nil
		}
		f, err := strconv.ParseFloat(unsafe.String(&text[0], len(text)), 64)
		if err != nil {
			// Only a magnitude beyond ±1.8e308 gets here (the text is a
			// valid number): say so rather than turn it into ±Inf.
			return 0, d.fail("out of range for a double")
		}
		return f, nil
	}
	return 0, d.fail("must be a number")
}

func smallInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 15 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// skip passes over one JSON value of any kind.
func (d *decoder) skip() error {
	switch c := d.peek(); {
	case c == '{' || c == '[':
		depth := 0
		for d.pos < len(d.buf) {
			switch d.buf[d.pos] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					d.pos++
					return nil
				}
			case '"':
				if _, err := d.str(); err != nil {
					return err
				}
				continue
			}
			d.pos++
		}
		return d.syntax("unterminated value")
	case c == '"':
		_, err := d.str()
		return err
	case c == '-' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		// Numbers and words (true, null, or a mistaken NaN) are only
		// delimited here: whoever reads the value checks it, and can then
		// name the field it belongs to.
		for d.pos < len(d.buf) {
			c := d.buf[d.pos]
			if !(c == '-' || c == '+' || c == '.' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				break
			}
			d.pos++
		}
		return nil
	}
	return d.syntax("expected a value")
}

// Split finds the top-level members of a JSON object without copying them:
// it returns each key's raw value as a sub-slice of data. The gateway uses it
// to pull "input" out of an /execute body.
func Split(data []byte) (map[string][]byte, error) {
	d := &decoder{buf: data}
	if err := d.expect('{'); err != nil {
		return nil, fmt.Errorf("request body is not a JSON object")
	}
	out := map[string][]byte{}
	seen := map[string]string{} // a key, and its proto-name spelling, to the key as given
	if d.peek() == '}' {
		d.pos++
		return out, nil
	}
	for {
		if d.peek() != '"' {
			return nil, fmt.Errorf("malformed JSON at byte %d: expected a key", d.pos)
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if err := d.expect(':'); err != nil {
			return nil, err
		}
		d.skipWS()
		start := d.pos
		if err := d.skip(); err != nil {
			return nil, err
		}
		// A key given twice, or in both spellings (kernel_id, kernelId),
		// would otherwise be decided by map order.
		canon := protoName(k)
		if prev, dup := seen[canon]; dup {
			return nil, fmt.Errorf("field %q given more than once (as %q and %q)", canon, prev, k)
		}
		seen[canon] = k
		out[k] = data[start:d.pos]
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			if d.peek() != 0 {
				return nil, fmt.Errorf("malformed JSON: data after the object")
			}
			return out, nil
		default:
			return nil, fmt.Errorf("malformed JSON at byte %d: expected , or }", d.pos)
		}
	}
}

// protoName turns a lowerCamelCase JSON name into its snake_case proto name
// (kernelId → kernel_id), the form both spellings of one field share.
func protoName(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 'A' && c <= 'Z' {
			b.WriteByte('_')
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}
