// Command openapienrich finishes the Swagger 2.0 spec that
// protoc-gen-openapiv2 writes, so that SDK generators get a faithful model
// of every kernel's input and output. `make generate` runs it on
// openapi/gokernels.swagger.json after buf generate (and `make
// check-generated` on its scratch copy); tools/openapi3 then converts the
// result to OpenAPI 3.
//
// The generator is configured for everything it can express: operation ids
// (GraphService_PageRank), one tag per domain (the openapiv2_tag option that
// internal/cmd/kernelsvcgen writes on each service), field descriptions
// from the proto comments (kept on message-typed fields by
// use_allof_for_refs, since OpenAPI 3.0 ignores a sibling of "$ref"), enums,
// "$ref" without a "type" sibling (omit_array_item_type_when_ref_sibling)
// and fully qualified definition
// names (openapi_naming_strategy=fqn) as this tool's input. What is left is
// what protoc-gen-openapiv2 v2.33 cannot express, done here from the proto
// descriptors linked into this binary (the catalog's kernels and
// gokernels.v1), so a new kernel needs nothing here:
//
//   - stable, readable definition names. Every strategy of the generator
//     is either the full proto name (gokernels.kernels.graph.v1.NodePair,
//     which SDK generators turn into GokernelsKernelsGraphV1NodePair) or
//     resolves collisions by context, so adding another domain's NodePair
//     would rename graph's. Here a domain message is always prefixed with
//     its domain (GraphNodePair, GraphPageRankInput), a core gokernels.v1
//     message keeps its own name (ExecuteRequest), and a name clash fails
//     the build.
//   - buf.validate rules as JSON-schema bounds (minimum/maximum, exclusive
//     for gt/lt, minLength/maxLength, pattern, minItems/maxItems, `in` and
//     `const` as enum, required). The generator does not read buf.validate;
//     its own openapiv2_field options would repeat every rule by hand, and
//     it drops a bound of 0 (a float64 with omitempty), the commonest one.
//   - tuples (messages with the gokernels.v1.tuple option, e.g. graph
//     NodePair) as the fixed-length arrays the API reads and writes
//     ([0, 1]). A message option cannot give a schema "items".
//   - fields with the gokernels.v1.int32_tuple option (graph edges: repeated
//     google.protobuf.ListValue, so that protojson clients such as grpcurl
//     send [[0, 1], [1, 2]]) as arrays of fixed-length integer arrays; the
//     generator's ListValue item is an untyped array.
//   - comments as descriptions only. The generator turns a comment whose
//     first paragraph has no final full stop into a schema "title", which
//     SDK generators take for a type name (openapi-python-client, the
//     openapi-generator family); here it is put back in front of the
//     description.
//   - defaults, read from the field's own comment ("default 0.85"), where
//     the kernels document them: proto3 has no declared defaults, and the
//     server applies them in Go (registry.Def.Prepare). Only a literal of
//     the field's JSON type is taken.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/gokernels/gokernels/kernels/catalog" // links every kernel's protos
)

func main() {
	path := flag.String("spec", "openapi/gokernels.swagger.json", "Swagger 2.0 file to rewrite in place")
	flag.Parse()
	raw, err := os.ReadFile(*path)
	if err != nil {
		fail(err)
	}
	out, err := Enrich(raw)
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(*path, out, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "openapienrich:", err)
	os.Exit(1)
}

// Enrich rewrites a spec written with openapi_naming_strategy=fqn; see the
// package comment.
func Enrich(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // examples keep their exact numbers
	var spec map[string]any
	if err := dec.Decode(&spec); err != nil {
		return nil, err
	}
	defs, _ := spec["definitions"].(map[string]any)
	if defs == nil {
		return nil, fmt.Errorf("no definitions")
	}
	names, err := Names(keys(defs))
	if err != nil {
		return nil, err
	}
	newDefs := map[string]any{}
	for _, fqn := range keys(defs) {
		schema, _ := defs[fqn].(map[string]any)
		if md := message(fqn); md != nil && schema != nil {
			if err := enrichMessage(schema, md); err != nil {
				return nil, fmt.Errorf("%s: %w", fqn, err)
			}
		}
		newDefs[names[fqn]] = defs[fqn]
	}
	spec["definitions"] = newDefs
	titlesToDescriptions(newDefs)
	if err := rewriteRefs(spec, names); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(spec); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// message is the descriptor of a definition's fully qualified name, or nil
// (definitions the generator makes up, such as a request body without its
// path parameters, RingService.PauseRingBody).
func message(fqn string) protoreflect.MessageDescriptor {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(fqn))
	if err != nil {
		return nil
	}
	md, _ := d.(protoreflect.MessageDescriptor)
	return md
}

// Names maps each fully qualified definition name to its published name:
//
//	gokernels.kernels.graph.v1.PageRankInput → GraphPageRankInput
//	gokernels.kernels.risk.v1.Outer.Inner    → RiskOuterInner
//	gokernels.v1.ExecuteRequest              → ExecuteRequest
//	gokernels.v1.RingService.PauseRingBody   → RingServicePauseRingBody
//	google.rpc.Status                        → RpcStatus
//
// A name depends only on its own proto name, so adding a message never
// renames another; two definitions with one name are an error.
func Names(fqns []string) (map[string]string, error) {
	names := map[string]string{}
	owner := map[string]string{}
	for _, fqn := range fqns {
		pkg, rest := splitPackage(fqn)
		var prefix string
		switch segs := strings.Split(pkg, "."); {
		case len(segs) == 4 && segs[0] == "gokernels" && segs[1] == "kernels":
			prefix = title(segs[2]) // the domain
		case pkg == "gokernels.v1":
		default:
			prefix = title(lastNonVersion(segs))
		}
		name := prefix + strings.ReplaceAll(rest, ".", "")
		if other, ok := owner[name]; ok {
			return nil, fmt.Errorf("definitions %s and %s would both be named %s", other, fqn, name)
		}
		owner[name] = fqn
		names[fqn] = name
	}
	return names, nil
}

// splitPackage splits a fully qualified name at its first capitalised
// segment (proto packages are lower case, messages capitalised).
func splitPackage(fqn string) (pkg, rest string) {
	parts := strings.Split(fqn, ".")
	for i, p := range parts {
		if p != "" && p[0] >= 'A' && p[0] <= 'Z' {
			return strings.Join(parts[:i], "."), strings.Join(parts[i:], ".")
		}
	}
	return "", fqn
}

func lastNonVersion(segs []string) string {
	for i := len(segs) - 1; i >= 0; i-- {
		p := segs[i]
		if len(p) > 1 && p[0] == 'v' && p[1] >= '0' && p[1] <= '9' {
			continue
		}
		return p
	}
	return ""
}

func title(s string) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// titlesToDescriptions moves every schema's "title" (a string; a property
// named title is a map) to the front of its "description".
func titlesToDescriptions(v any) {
	switch t := v.(type) {
	case map[string]any:
		if title, ok := t["title"].(string); ok {
			if d, _ := t["description"].(string); d != "" {
				title += "\n\n" + d
			}
			t["description"] = title
			delete(t, "title")
		}
		for _, x := range t {
			titlesToDescriptions(x)
		}
	case []any:
		for _, x := range t {
			titlesToDescriptions(x)
		}
	}
}

// rewriteRefs points every "#/definitions/<fqn>" at the new name.
func rewriteRefs(v any, names map[string]string) error {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && k == "$ref" {
				fqn, ok := strings.CutPrefix(s, "#/definitions/")
				n, known := names[fqn]
				if !ok || !known {
					return fmt.Errorf("$ref %s names no definition", s)
				}
				t[k] = "#/definitions/" + n
				continue
			}
			if err := rewriteRefs(x, names); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range t {
			if err := rewriteRefs(x, names); err != nil {
				return err
			}
		}
	}
	return nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
