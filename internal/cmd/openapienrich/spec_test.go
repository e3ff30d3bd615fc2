package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/catalog"
)

const specDir = "../../../openapi"

func loadJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(specDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func obj(v any, path ...string) map[string]any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	m, _ := v.(map[string]any)
	return m
}

// published is a message's schema name in the specs.
func published(t *testing.T, md protoreflect.MessageDescriptor) string {
	t.Helper()
	names, err := Names([]string{string(md.FullName())})
	if err != nil {
		t.Fatal(err)
	}
	return names[string(md.FullName())]
}

// TestEveryKernelHasItsTypedOperation: for every kernel of the registry,
// both committed specs (Swagger 2.0 and OpenAPI 3) have
// POST /kernels/<id>:execute with the domain's tag, the operation id
// <Domain>Service_<Rpc>, the kernel's input as the request body and its
// output as the 200 answer, and both schemas list every field of the
// message (tuples: a fixed-length array).
func TestEveryKernelHasItsTypedOperation(t *testing.T) {
	v2 := loadJSON(t, "gokernels.swagger.json")
	v3 := loadJSON(t, "gokernels.openapi.json")
	if v3["openapi"] != "3.0.3" {
		t.Fatalf("gokernels.openapi.json: openapi %v, want 3.0.3", v3["openapi"])
	}
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	kernels := reg.List("", 0)
	n := 0
	for _, k := range kernels {
		in, out := k.Input.Descriptor(), k.Output.Descriptor()
		if !strings.HasPrefix(string(in.ParentFile().Package()), "gokernels.kernels.") {
			continue // test kernels have no service
		}
		n++
		domain := strings.Split(string(in.ParentFile().Package()), ".")[2]
		path := "/kernels/" + k.ID + ":execute"
		inName, outName := published(t, in), published(t, out)
		opID := title(domain) + "Service_" + strings.TrimSuffix(string(in.Name()), "Input")

		op := obj(v2, "paths", path, "post")
		if op == nil {
			t.Errorf("swagger: no POST %s", path)
			continue
		}
		if op["operationId"] != opID || !reflect.DeepEqual(op["tags"], []any{domain}) {
			t.Errorf("swagger %s: operationId %v tags %v, want %s [%s]", path, op["operationId"], op["tags"], opID, domain)
		}
		params, _ := op["parameters"].([]any)
		if len(params) != 1 || obj(params[0], "schema")["$ref"] != "#/definitions/"+inName {
			t.Errorf("swagger %s: body %v, want $ref %s", path, params, inName)
		}
		if got := obj(op, "responses", "200", "schema")["$ref"]; got != "#/definitions/"+outName {
			t.Errorf("swagger %s: 200 schema %v, want %s", path, got, outName)
		}
		checkMessage(t, "swagger", obj(v2, "definitions"), inName, in)
		checkMessage(t, "swagger", obj(v2, "definitions"), outName, out)

		op3 := obj(v3, "paths", path, "post")
		if op3 == nil {
			t.Errorf("openapi 3: no POST %s", path)
			continue
		}
		if op3["operationId"] != opID {
			t.Errorf("openapi 3 %s: operationId %v, want %s", path, op3["operationId"], opID)
		}
		if got := obj(op3, "requestBody", "content", "application/json", "schema")["$ref"]; got != "#/components/schemas/"+inName {
			t.Errorf("openapi 3 %s: request body %v, want %s", path, got, inName)
		}
		if got := obj(op3, "responses", "200", "content", "application/json", "schema")["$ref"]; got != "#/components/schemas/"+outName {
			t.Errorf("openapi 3 %s: 200 %v, want %s", path, got, outName)
		}
		checkMessage(t, "openapi 3", obj(v3, "components", "schemas"), inName, in)
		checkMessage(t, "openapi 3", obj(v3, "components", "schemas"), outName, out)
	}
	if n < 100 {
		t.Fatalf("only %d kernels checked", n)
	}
	checkRefs(t, "swagger", v2, "#/definitions/", obj(v2, "definitions"))
	checkRefs(t, "openapi 3", v3, "#/components/schemas/", obj(v3, "components", "schemas"))
}

// checkMessage: the schema exists and has every field of md as a property
// with its description (a tuple: an array).
func checkMessage(t *testing.T, spec string, defs map[string]any, name string, md protoreflect.MessageDescriptor) {
	t.Helper()
	s := obj(defs, name)
	if s == nil {
		t.Errorf("%s: no schema %s for %s", spec, name, md.FullName())
		return
	}
	if isTuple(md) {
		if s["type"] != "array" {
			t.Errorf("%s: tuple %s is %v, not an array", spec, name, s["type"])
		}
		return
	}
	props := obj(s, "properties")
	fields := md.Fields()
	for i := range fields.Len() {
		p := obj(props, string(fields.Get(i).Name()))
		if p == nil {
			t.Errorf("%s: %s has no property %s", spec, name, fields.Get(i).Name())
			continue
		}
		// The proto comment, also on message-typed fields (allOf keeps it
		// beside the $ref; OpenAPI 3.0 ignores a plain sibling).
		if p["description"] == nil && p["title"] == nil {
			t.Errorf("%s: %s.%s has no description", spec, name, fields.Get(i).Name())
		}
		if n := int32Tuple(fields.Get(i)); n > 0 {
			if item := obj(p, "items"); item["type"] != "array" || item["minItems"] != float64(n) || item["maxItems"] != float64(n) {
				t.Errorf("%s: %s.%s items %v, want arrays of %d integers", spec, name, fields.Get(i).Name(), item, n)
			}
		}
	}
}

// checkRefs: every $ref in the spec names a schema that exists.
func checkRefs(t *testing.T, spec string, v any, prefix string, defs map[string]any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if s, ok := y.(string); ok && k == "$ref" {
				name, ok := strings.CutPrefix(s, prefix)
				if !ok || defs[name] == nil {
					t.Errorf("%s: $ref %s names no schema", spec, s)
				}
				continue
			}
			checkRefs(t, spec, y, prefix, defs)
		}
	case []any:
		for _, y := range x {
			checkRefs(t, spec, y, prefix, defs)
		}
	}
}

// TestPublishedSchemaDetails spot-checks what the enrichment adds, on the
// committed Swagger 2.0 and OpenAPI 3 files: bounds from buf.validate,
// defaults from the comments, enums from `in` rules, tuples as arrays.
func TestPublishedSchemaDetails(t *testing.T) {
	for _, spec := range []struct {
		name string
		defs map[string]any
	}{
		{"swagger", obj(loadJSON(t, "gokernels.swagger.json"), "definitions")},
		{"openapi 3", obj(loadJSON(t, "gokernels.openapi.json"), "components", "schemas")},
	} {
		damping := obj(spec.defs, "GraphPageRankInput", "properties", "damping")
		if damping["minimum"] != 0.0 || damping["maximum"] != 1.0 || damping["default"] != 0.85 {
			t.Errorf("%s: PageRank damping %v, want minimum 0, maximum 1, default 0.85", spec.name, damping)
		}
		if d := obj(spec.defs, "GraphPageRankInput", "properties", "damping")["description"]; d == nil {
			t.Errorf("%s: damping has no description", spec.name)
		}
		// A tuple message (an output's node pairs) is an array of its fields.
		pair := obj(spec.defs, "GraphNodePair")
		if pair["type"] != "array" || pair["minItems"] != 2.0 || pair["maxItems"] != 2.0 || obj(pair, "items")["type"] != "integer" {
			t.Errorf("%s: GraphNodePair %v, want an array of 2 integers", spec.name, pair)
		}
		// An int32_tuple field (edges: repeated ListValue, for protojson
		// clients) is an array of 2-integer arrays, not of untyped lists.
		for _, field := range [][2]string{{"GraphPageRankInput", "edges"}, {"GraphPageRankInput", "remove_edges"}, {"GraphJaccardSimilarityInput", "pairs"}} {
			edges := obj(spec.defs, field[0], "properties", field[1])
			item := obj(edges, "items")
			if edges["type"] != "array" || item["type"] != "array" || item["minItems"] != 2.0 || item["maxItems"] != 2.0 ||
				obj(item, "items")["type"] != "integer" || obj(item, "items")["format"] != "int32" {
				t.Errorf("%s: %s.%s %v, want an array of [integer, integer]", spec.name, field[0], field[1], edges)
			}
		}
		metric := obj(spec.defs, "MlHierarchicalClusterInput", "properties", "metric")
		if enum, _ := metric["enum"].([]any); len(enum) < 3 {
			t.Errorf("%s: hierarchical-cluster metric %v, want the `in` set as an enum", spec.name, metric)
		}
		for name, def := range spec.defs {
			if !identifier.MatchString(name) {
				t.Errorf("%s: schema name %q is not a plain identifier", spec.name, name)
			}
			if n := countTitles(def); n > 0 {
				t.Errorf("%s: %s has %d schema titles (SDK generators take them for type names)", spec.name, name, n)
			}
		}
	}
}

// identifier: what every SDK generator can use as a type name as it is.
var identifier = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

func TestNamesAreStableAndQualified(t *testing.T) {
	one, err := Names([]string{"gokernels.kernels.graph.v1.Edge", "gokernels.v1.ExecuteRequest", "google.rpc.Status", "gokernels.v1.RingService.PauseRingBody"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"gokernels.kernels.graph.v1.Edge":        "GraphEdge",
		"gokernels.v1.ExecuteRequest":            "ExecuteRequest",
		"google.rpc.Status":                      "RpcStatus",
		"gokernels.v1.RingService.PauseRingBody": "RingServicePauseRingBody",
	}
	if !reflect.DeepEqual(one, want) {
		t.Errorf("Names = %v, want %v", one, want)
	}
	// Another domain's Edge does not rename graph's.
	two, err := Names([]string{"gokernels.kernels.graph.v1.Edge", "gokernels.kernels.procint.v1.Edge"})
	if err != nil {
		t.Fatal(err)
	}
	if two["gokernels.kernels.graph.v1.Edge"] != "GraphEdge" || two["gokernels.kernels.procint.v1.Edge"] != "ProcintEdge" {
		t.Errorf("Names = %v", two)
	}
	// A clash is an error, not a silent rename.
	if _, err := Names([]string{"gokernels.kernels.graph.v1.Edge", "gokernels.v1.GraphEdge"}); err == nil {
		t.Error("GraphEdge twice: no error")
	}
}

func TestDocumentedDefault(t *testing.T) {
	for _, c := range []struct {
		typ, format, text string
		want              any
	}{
		{"number", "double", "Damping factor, default 0.85, in [0, 1].", json.Number("0.85")},
		{"integer", "int32", "Maximum iterations, default 100 (at most the limit).", int64(100)},
		{"integer", "int32", "Default 3.", int64(3)},
		{"boolean", "", "Normalize; default true: divide by n - 1.", true},
		{"string", "", `Account for unmatched amounts, default "SUSPENSE".`, "SUSPENSE"},
		{"string", "int64", "Window in seconds, default 3600, > 0.", "3600"},
		{"string", "int64", "Threshold in cents, default 500 000 (EUR 5 000).", nil},
		{"number", "double", "Smoothing factor. Default 2 / (window + 1).", nil},
		{"number", "double", "Fraction. Default 2/3.", nil},
		{"integer", "int32", "Default 2 when robust, else 5.", nil},
		{"integer", "int32", "Default 1e-6.", nil}, // not an integer
		{"string", "", "Default the latest posting date.", nil},
		{"number", "double", "No default here.", nil},
	} {
		p := map[string]any{"type": c.typ, "description": c.text}
		if c.format != "" {
			p["format"] = c.format
		}
		got, ok := documentedDefault(p)
		if c.want == nil {
			if ok {
				t.Errorf("%q: default %v, want none", c.text, got)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: default %#v (%v), want %#v", c.text, got, ok, c.want)
		}
	}
}

// countTitles counts the string "title"s (schema titles; a property named
// title is a map) under v.
func countTitles(v any) int {
	n := 0
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["title"].(string); ok {
			n++
		}
		for _, x := range t {
			n += countTitles(x)
		}
	case []any:
		for _, x := range t {
			n += countTitles(x)
		}
	}
	return n
}
