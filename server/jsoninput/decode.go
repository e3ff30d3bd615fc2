package jsoninput

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Decode parses JSON text straight into msg (a kernel input message) in one
// pass, without building an intermediate tree: a 1,000,000-edge graph costs
// the typed message and little else. It accepts exactly what FromStruct
// accepts and reports errors the same way (field path, kerr.FieldError).
func Decode(data []byte, msg proto.Message) error {
	d := &decoder{buf: data}
	d.skipWS()
	if d.pos >= len(d.buf) || d.buf[d.pos] != '{' {
		if d.pos < len(d.buf) && (d.buf[d.pos] == '[' || d.buf[d.pos] == '"' || d.buf[d.pos] == 't' || d.buf[d.pos] == 'f' || d.buf[d.pos] == '-' || isDigit(d.buf[d.pos])) {
			return kerr.Invalid("input", "must be a JSON object")
		}
		return kerr.Invalid("input", "malformed JSON: expected an object")
	}
	if err := d.object(msg.ProtoReflect()); err != nil {
		return err
	}
	d.skipWS()
	if d.pos != len(d.buf) {
		return d.syntax("unexpected data after the object")
	}
	return nil
}

type segment struct {
	name string
	idx  int // -1 for a field name segment
}

type decoder struct {
	buf  []byte
	pos  int
	path []segment
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

// object decodes {"field": value, ...} into m.
func (d *decoder) object(m protoreflect.Message) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	fds := m.Descriptor().Fields()
	if d.peek() == '}' {
		d.pos++
		return nil
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
		if err := d.field(m, fd); err != nil {
			return err
		}
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

func (d *decoder) null() bool {
	if d.peek() == 'n' && len(d.buf)-d.pos >= 4 && string(d.buf[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

func (d *decoder) field(m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
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
		return d.list(m.Mutable(fd).List(), fd)
	case fd.IsMap():
		if d.peek() != '{' {
			return d.fail("must be an object")
		}
		return d.mapValue(m.Mutable(fd).Map(), fd)
	case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
		return d.message(m.Mutable(fd).Message())
	default:
		v, err := d.scalar(fd)
		if err != nil {
			return err
		}
		m.Set(fd, v)
		return nil
	}
}

func (d *decoder) list(list protoreflect.List, fd protoreflect.FieldDescriptor) error {
	d.pos++ // [
	isMsg := fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind
	d.path = append(d.path, segment{idx: 0})
	top := len(d.path) - 1
	if d.peek() == ']' {
		d.pos++
		d.path = d.path[:top]
		return nil
	}
	for i := 0; ; i++ {
		d.path[top].idx = i
		if isMsg {
			el := list.NewElement()
			if err := d.message(el.Message()); err != nil {
				return err
			}
			list.Append(el)
		} else {
			if d.peek() == 'n' {
				return d.fail("must not be null")
			}
			v, err := d.scalar(fd)
			if err != nil {
				return err
			}
			list.Append(v)
		}
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

func (d *decoder) mapValue(mp protoreflect.Map, fd protoreflect.FieldDescriptor) error {
	d.pos++ // {
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	vd := fd.MapValue()
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
		key, err := decodeMapKey(d.pathString(), k, fd.MapKey())
		if err != nil {
			return err
		}
		if vd.Kind() == protoreflect.MessageKind {
			val := mp.NewValue()
			if err := d.message(val.Message()); err != nil {
				return err
			}
			mp.Set(key, val)
		} else {
			val, err := d.scalar(vd)
			if err != nil {
				return err
			}
			mp.Set(key, val)
		}
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

// message decodes an object, a tuple array, or (for well-known types) hands
// the raw value to protojson.
func (d *decoder) message(m protoreflect.Message) error {
	md := m.Descriptor()
	if md.FullName().Parent() == "google.protobuf" {
		start := d.pos
		if err := d.skip(); err != nil {
			return err
		}
		if err := protojson.Unmarshal(d.buf[start:d.pos], m.Interface()); err != nil {
			return d.fail("%v", err)
		}
		return nil
	}
	switch d.peek() {
	case '{':
		return d.object(m)
	case '[':
		if !isTuple(md) {
			return d.fail("must be an object")
		}
		return d.tuple(m)
	case 'n':
		if d.null() {
			return nil
		}
	}
	if isTuple(md) {
		return d.fail("must be an array")
	}
	return d.fail("must be an object")
}

func (d *decoder) tuple(m protoreflect.Message) error {
	fds := m.Descriptor().Fields()
	if fds.Len() == 1 && fds.Get(0).IsList() {
		return d.list(m.Mutable(fds.Get(0)).List(), fds.Get(0))
	}
	start := d.pos
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
				if err := d.field(m, fds.Get(n)); err != nil {
					return err
				}
			} else if err := d.skip(); err != nil {
				return err
			}
			n++
			c := d.peek()
			d.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				d.pos--
				return d.syntax("expected , or ]")
			}
		}
	}
	d.path = d.path[:top]
	if n != fds.Len() {
		_ = start
		names := make([]string, fds.Len())
		for i := range names {
			names[i] = string(fds.Get(i).Name())
		}
		return d.fail("must be an array of %d values [%s], got %d", fds.Len(), strings.Join(names, ", "), n)
	}
	return nil
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
	return d.buf[start:d.pos], nil
}

// numberValue reads a number, or the strings protojson uses for non-finite
// values and large integers.
func (d *decoder) numberValue() (float64, bool, error) {
	switch c := d.peek(); {
	case c == '"':
		s, err := d.str()
		if err != nil {
			return 0, false, err
		}
		switch s {
		case "NaN":
			return math.NaN(), false, nil
		case "Infinity":
			return math.Inf(1), false, nil
		case "-Infinity":
			return math.Inf(-1), false, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false, d.fail("must be a number")
		}
		return f, false, nil
	case c == '-' || isDigit(c):
		text, err := d.number()
		if err != nil {
			return 0, false, err
		}
		// Fast path: a plain integer of up to 15 digits is exact in float64.
		if n, ok := smallInt(text); ok {
			return float64(n), true, nil
		}
		f, err := strconv.ParseFloat(unsafe.String(&text[0], len(text)), 64)
		if err != nil && !math.IsInf(f, 0) {
			return 0, false, d.fail("must be a number")
		}
		return f, false, nil
	}
	return 0, false, d.fail("must be a number")
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

func (d *decoder) scalar(fd protoreflect.FieldDescriptor) (protoreflect.Value, error) {
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
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			if b, err = base64.URLEncoding.DecodeString(s); err != nil {
				return protoreflect.Value{}, d.fail("must be a base64 string")
			}
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
		f, _, err := d.numberValue()
		if err != nil {
			return protoreflect.Value{}, err
		}
		n, err := integral(d.pathString(), f, math.MinInt32, math.MaxInt32)
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), err
	}
	f, _, err := d.numberValue()
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
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		lo, hi = 0, math.MaxUint32
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		lo, hi = -(1 << 53), 1<<53
	default:
		lo, hi = 0, 1<<53
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
		return protoreflect.Value{}, d.fail("must be an integer")
	}
	if f < lo || f > hi {
		return protoreflect.Value{}, d.fail("out of range [%.0f, %.0f]", lo, hi)
	}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(f)), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(f)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(f)), nil
	}
	return protoreflect.ValueOfUint64(uint64(f)), nil
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
	case c == '-' || isDigit(c):
		_, err := d.number()
		return err
	case c == 't' || c == 'f' || c == 'n':
		for d.pos < len(d.buf) && d.buf[d.pos] >= 'a' && d.buf[d.pos] <= 'z' {
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
