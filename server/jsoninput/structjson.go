package jsoninput

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/structpb"
)

// appendStructJSON writes s as the JSON text protojson.Marshal writes for it
// (whitespace aside): keys sorted, numbers formatted the same way. FromStruct
// used to call protojson, whose reflection over every Value was most of the
// CPU of a small JSON-shaped gRPC Execute. It reports false for whatever
// protojson refuses (a non-finite number, invalid UTF-8, a Value with no
// kind); the caller then takes the protojson path, which answers those.
func appendStructJSON(b []byte, s *structpb.Struct) ([]byte, bool) {
	fields := s.GetFields()
	b = append(b, '{')
	// Sort the keys as protojson does: the decoder reports the first bad
	// field, so the order decides which error a client sees.
	var small [8]string
	keys := small[:0]
	for k := range fields {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendJSONString(b, k); !ok {
			return b, false
		}
		b = append(b, ':')
		if b, ok = appendValueJSON(b, fields[k]); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

func appendValueJSON(b []byte, v *structpb.Value) ([]byte, bool) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue:
		return append(b, "null"...), true
	case *structpb.Value_BoolValue:
		return strconv.AppendBool(b, k.BoolValue), true
	case *structpb.Value_NumberValue:
		f := k.NumberValue
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return b, false
		}
		return appendJSONFloat(b, f), true
	case *structpb.Value_StringValue:
		return appendJSONString(b, k.StringValue)
	case *structpb.Value_StructValue:
		return appendStructJSON(b, k.StructValue)
	case *structpb.Value_ListValue:
		b = append(b, '[')
		for i, e := range k.ListValue.GetValues() {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendValueJSON(b, e); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	}
	return b, false // no kind set: protojson refuses it
}

// appendJSONFloat is protojson's (and encoding/json's) number format: the
// shortest representation, exponent form below 1e-6 and from 1e21.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 → 1e-7
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString quotes s; false for invalid UTF-8.
func appendJSONString(b []byte, s string) ([]byte, bool) {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return b, false
			}
			i += n
			continue
		}
		if c >= ' ' && c != '"' && c != '\\' {
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
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigit(c>>4), hexDigit(c&0xf))
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"'), true
}

func hexDigit(c byte) byte { return "0123456789abcdef"[c] }

// sortStrings sorts a handful of keys by insertion (no allocation), more
// with slices.Sort (a map field can have many).
func sortStrings(s []string) {
	if len(s) > 12 {
		slices.Sort(s)
		return
	}
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
