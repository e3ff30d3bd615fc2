package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	validate "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

// enrichMessage adds md's validation bounds and documented defaults to the
// schemas of its fields, and turns a tuple into its array form.
func enrichMessage(schema map[string]any, md protoreflect.MessageDescriptor) error {
	props, _ := schema["properties"].(map[string]any)
	var required []string
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		p, _ := props[string(fd.Name())].(map[string]any)
		if p == nil {
			continue
		}
		if v, ok := documentedDefault(p); ok {
			p["default"] = v
		}
		if n := int32Tuple(fd); n > 0 {
			if err := int32TupleSchema(p, fd, n); err != nil {
				return err
			}
		}
		rules := fieldRules(fd)
		if rules == nil {
			continue
		}
		if rules.GetRequired() {
			required = append(required, string(fd.Name()))
		}
		switch {
		case fd.IsMap():
			// Map keys and values: no rule of ours needs a schema form yet.
		case fd.IsList():
			r := rules.GetRepeated()
			if r == nil {
				continue
			}
			if r.HasMinItems() {
				p["minItems"] = r.GetMinItems()
			}
			if r.HasMaxItems() {
				p["maxItems"] = r.GetMaxItems()
			}
			if r.GetUnique() {
				p["uniqueItems"] = true
			}
			if items, ok := p["items"].(map[string]any); ok && r.GetItems() != nil {
				bounds(items, r.GetItems())
			}
		default:
			bounds(p, rules)
		}
	}
	if len(required) > 0 {
		sort.Strings(required)
		schema["required"] = required
	}
	if isTuple(md) {
		return tupleSchema(schema, md)
	}
	return nil
}

func fieldRules(fd protoreflect.FieldDescriptor) *validate.FieldRules {
	opts, ok := fd.Options().(*descriptorpb.FieldOptions)
	if !ok || !proto.HasExtension(opts, validate.E_Field) {
		return nil
	}
	r, _ := proto.GetExtension(opts, validate.E_Field).(*validate.FieldRules)
	return r
}

// int32Tuple is a field's (gokernels.v1.int32_tuple) option: the length of
// each item, 0 when the field has none.
func int32Tuple(fd protoreflect.FieldDescriptor) uint32 {
	opts, ok := fd.Options().(*descriptorpb.FieldOptions)
	if !ok || !proto.HasExtension(opts, gokernelsv1.E_Int32Tuple) {
		return 0
	}
	return proto.GetExtension(opts, gokernelsv1.E_Int32Tuple).(uint32)
}

// int32TupleSchema gives a repeated google.protobuf.ListValue field marked
// int32_tuple = n (graph edges) the schema of what the kernel accepts: an
// array of n-integer arrays, [[0, 1], [1, 2]]. The generator's schema for
// a ListValue item is an untyped array, which would let SDKs send anything.
func int32TupleSchema(p map[string]any, fd protoreflect.FieldDescriptor, n uint32) error {
	if !fd.IsList() || fd.Message() == nil || fd.Message().FullName() != "google.protobuf.ListValue" {
		return fmt.Errorf("field %s: int32_tuple needs a repeated google.protobuf.ListValue", fd.FullName())
	}
	p["type"] = "array"
	p["items"] = map[string]any{
		"type":     "array",
		"minItems": n,
		"maxItems": n,
		"items":    map[string]any{"type": "integer", "format": "int32"},
	}
	return nil
}

func isTuple(md protoreflect.MessageDescriptor) bool {
	opts, ok := md.Options().(*descriptorpb.MessageOptions)
	return ok && proto.HasExtension(opts, gokernelsv1.E_Tuple) && proto.GetExtension(opts, gokernelsv1.E_Tuple).(bool)
}

// bounds copies a scalar's rules onto its schema. The rules of every scalar
// type (Int32Rules, DoubleRules, StringRules, …) are read by their field
// names, so all numeric types are one code path. A rule with no JSON-schema
// form (finite, not_in, CEL) stays in the server's 400 answer only; so does
// any bound on a 64-bit integer, which JSON carries as a string.
func bounds(p map[string]any, rules *validate.FieldRules) {
	m := rules.ProtoReflect()
	typ := m.WhichOneof(m.Descriptor().Oneofs().ByName("type"))
	if typ == nil || typ.Message() == nil {
		return
	}
	r := m.Get(typ).Message()
	get := func(name string) (protoreflect.Value, bool) {
		fd := r.Descriptor().Fields().ByName(protoreflect.Name(name))
		if fd == nil || !r.Has(fd) {
			return protoreflect.Value{}, false
		}
		return r.Get(fd), true
	}
	numeric := p["type"] == "integer" || p["type"] == "number"
	str := p["type"] == "string" && typ.Name() == "string"
	if numeric {
		if v, ok := get("gte"); ok {
			p["minimum"] = v.Interface()
		}
		if v, ok := get("gt"); ok {
			p["minimum"], p["exclusiveMinimum"] = v.Interface(), true
		}
		if v, ok := get("lte"); ok {
			p["maximum"] = v.Interface()
		}
		if v, ok := get("lt"); ok {
			p["maximum"], p["exclusiveMaximum"] = v.Interface(), true
		}
	}
	if str {
		if v, ok := get("min_len"); ok {
			p["minLength"] = v.Interface()
		}
		if v, ok := get("max_len"); ok {
			p["maxLength"] = v.Interface()
		}
		if v, ok := get("pattern"); ok {
			p["pattern"] = v.Interface()
		}
	}
	if numeric || str {
		if v, ok := get("in"); ok {
			var enum []any
			l := v.List()
			for i := range l.Len() {
				enum = append(enum, l.Get(i).Interface())
			}
			p["enum"] = enum
		}
		if v, ok := get("const"); ok {
			p["enum"] = []any{v.Interface()}
		}
	}
}

// defaultRE finds a documented default: "default 0.85", "Default 3,",
// `default "SUSPENSE"`, "default true".
var defaultRE = regexp.MustCompile(`\b[Dd]efault:?\s+("[^"\n]*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false)`)

// documentedDefault is the default a field's comment states, as a value of
// the field's JSON type; false when the comment states none, states one
// that is not a plain literal ("default 500 000", "default the latest
// date", "Default 2/3") or one that depends on another field ("Default 2
// when robust, else 5"), or the schema already has one (enums).
func documentedDefault(p map[string]any) (any, bool) {
	if _, ok := p["default"]; ok {
		return nil, false
	}
	if _, ok := p["$ref"]; ok {
		return nil, false
	}
	text, _ := p["title"].(string)
	if d, _ := p["description"].(string); d != "" {
		text += "\n" + d
	}
	loc := defaultRE.FindStringSubmatchIndex(text)
	if loc == nil {
		return nil, false
	}
	lit := text[loc[2]:loc[3]]
	// The literal must end there: "default 500 000" (digit groups),
	// "Default 2/3" and "Default 2 / (window + 1)" are not 500, 2 and 2.
	rest := text[loc[3]:]
	ends := rest == "" || strings.ContainsAny(rest[:1], ",;:)\n") || strings.HasPrefix(rest, ". ") || rest == "." ||
		strings.HasPrefix(rest, ".\n") || strings.HasPrefix(rest, " (") || strings.HasPrefix(rest, " when ")
	if !ends {
		return nil, false
	}
	// "Default 2 when robust, else 5" depends on another field.
	sentence, _, _ := strings.Cut(text[loc[3]:], ". ")
	for _, cond := range []string{"else", "otherwise", " and false", " and true"} {
		if strings.Contains(sentence, cond) {
			return nil, false
		}
	}
	switch p["type"] {
	case "boolean":
		b, err := strconv.ParseBool(lit)
		return b, err == nil
	case "integer":
		n, err := strconv.ParseInt(lit, 10, 64)
		return n, err == nil
	case "number":
		if _, err := strconv.ParseFloat(lit, 64); err != nil || lit[0] == '"' {
			return nil, false
		}
		return json.Number(lit), true
	case "string":
		switch p["format"] {
		case "int64", "uint64": // 64-bit integers are JSON strings
			if _, err := strconv.ParseInt(lit, 10, 64); err != nil {
				return nil, false
			}
			return lit, true
		case nil, "":
			if uq, err := strconv.Unquote(lit); err == nil && lit[0] == '"' {
				return uq, true
			}
		}
	}
	return nil, false
}

func isNumber(t any) bool { return t == "integer" || t == "number" }

// tupleSchema rewrites a tuple's object schema as the array the API reads
// and writes: its fields in field-number order, or, for a tuple whose only
// field is repeated, that list. Swagger 2.0 and OpenAPI 3.0 have one
// "items" schema per array, so every field of a tuple must have the same
// JSON type (integers and doubles together are numbers); a bound is kept
// only where all fields share it.
func tupleSchema(schema map[string]any, md protoreflect.MessageDescriptor) error {
	props, _ := schema["properties"].(map[string]any)
	fields := md.Fields()
	ordered := make([]protoreflect.FieldDescriptor, fields.Len())
	for i := range fields.Len() {
		ordered[i] = fields.Get(i)
	}
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].Number() < ordered[j].Number() })
	desc, _ := schema["description"].(string)
	if title, _ := schema["title"].(string); title != "" {
		desc = strings.TrimSpace(title + "\n\n" + desc)
	}
	delete(schema, "title")
	delete(schema, "properties")
	delete(schema, "required")
	if len(ordered) == 1 && ordered[0].IsList() {
		only, _ := props[string(ordered[0].Name())].(map[string]any)
		for k, v := range only {
			if k != "description" && k != "title" {
				schema[k] = v
			}
		}
		schema["description"] = strings.TrimSpace(desc + "\n\nWritten as the list " + string(ordered[0].Name()) + " itself.")
		return nil
	}
	names := make([]string, len(ordered))
	var items map[string]any
	var itemsJSON string
	for i, fd := range ordered {
		names[i] = string(fd.Name())
		if fd.IsList() || fd.Message() != nil || fd.Enum() != nil {
			return fmt.Errorf("tuple field %s is not a scalar", fd.Name())
		}
		p, _ := props[names[i]].(map[string]any)
		s := map[string]any{}
		for k, v := range p {
			if k != "description" && k != "title" && k != "default" {
				s[k] = v
			}
		}
		if items == nil {
			items = s
			b, _ := json.Marshal(s)
			itemsJSON = string(b)
			continue
		}
		if items["type"] != s["type"] || items["format"] != s["format"] {
			// Integers and doubles ([left, right, distance, size]) are all
			// JSON numbers; a string beside a number has no one schema.
			if !isNumber(items["type"]) || !isNumber(s["type"]) {
				return fmt.Errorf("tuple fields %s and %s have different JSON types; an array schema has one items schema", names[0], names[i])
			}
			items = map[string]any{"type": "number"}
			itemsJSON = `{"type":"number"}`
			continue
		}
		if b, _ := json.Marshal(s); string(b) != itemsJSON {
			items = map[string]any{"type": s["type"]}
			if f, ok := s["format"]; ok {
				items["format"] = f
			}
			b, _ := json.Marshal(items)
			itemsJSON = string(b)
		}
	}
	schema["type"] = "array"
	schema["minItems"] = len(ordered)
	schema["maxItems"] = len(ordered)
	schema["items"] = items
	schema["description"] = strings.TrimSpace(desc + "\n\nWritten as the array [" + strings.Join(names, ", ") +
		"]; the object form {\"" + strings.Join(names, "\": …, \"") + "\": …} is accepted on input too.")
	return nil
}
