// Command kernelsvcgen writes the per-domain kernel services,
// proto/gokernels/kernels/<domain>/v1/service.proto, from the kernel
// registry: one service per domain (GraphService), one RPC per kernel
// (PageRank(PageRankInput) returns (PageRankOutput)), each with its REST
// route (POST /kernels/graph/pagerank:execute) and its registry metadata as
// the gokernels.v1.kernel method option.
//
// The registry is the one place a kernel is declared; generating the
// services from it means a new kernel gets its typed RPC, REST route and
// OpenAPI operation from `make generate`, with no proto to write by hand.
// `make generate` runs it before buf; `make check-generated` runs it with
// -check, which fails when a committed file differs from what it would write.
//
// For the Ring kernels it also writes ring_messages.proto in each domain:
// per kernel the typed ring messages <Kernel>RingRequest, <Kernel>RingReply
// and <Kernel>RingEvent (registry.RingTypes), built from the handler's
// fold.Messages declaration, so the 27 ring protocols stay one shape and a
// new ring kernel gets its messages from `make generate`.
//
// It links the catalog, which links gen/: a kernel whose messages were
// removed from the protos needs its stale service.proto deleted first.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/registry"
)

func main() {
	out := flag.String("out", "proto", "proto root to write into")
	check := flag.Bool("check", false, "compare with the files under -out instead of writing them; exit 1 on a difference")
	flag.Parse()
	reg, err := catalog.New()
	if err != nil {
		fail(err)
	}
	files, err := Generate(reg.List("", 0))
	if err != nil {
		fail(err)
	}
	stale := false
	for _, name := range sortedKeys(files) {
		path := filepath.Join(*out, name)
		if *check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, files[name]) {
				fmt.Fprintf(os.Stderr, "kernelsvcgen: %s is stale: run 'make generate' and commit the result\n", path)
				stale = true
			}
			continue
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			fail(err)
		}
	}
	// A service (or ring messages) file of a domain that has none any more.
	existing, _ := filepath.Glob(filepath.Join(*out, "gokernels/kernels/*/v1/service.proto"))
	rings, _ := filepath.Glob(filepath.Join(*out, "gokernels/kernels/*/v1/"+ringFile))
	existing = append(existing, rings...)
	for _, path := range existing {
		rel, _ := filepath.Rel(*out, path)
		if _, ok := files[filepath.ToSlash(rel)]; ok {
			continue
		}
		if *check {
			fmt.Fprintf(os.Stderr, "kernelsvcgen: %s has no kernels in the registry: run 'make generate'\n", path)
			stale = true
		} else if err := os.Remove(path); err != nil {
			fail(err)
		}
	}
	if stale {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kernelsvcgen:", err)
	os.Exit(1)
}

// domain is one proto package's kernels.
type domain struct {
	pkg       protoreflect.FullName // gokernels.kernels.graph.v1
	goPackage string
	kernels   []*registry.Kernel
	imports   map[string]bool
}

// Generate returns the service files (path under proto/ → content) for the
// kernels, grouped by the proto package of their input messages.
func Generate(kernels []*registry.Kernel) (map[string][]byte, error) {
	domains := map[protoreflect.FullName]*domain{}
	for _, k := range kernels {
		in, out := k.Input.Descriptor(), k.Output.Descriptor()
		pkg := in.ParentFile().Package()
		if !strings.HasPrefix(string(pkg), "gokernels.kernels.") {
			continue // test kernels (gokernels.testing.v1) get no service
		}
		if out.ParentFile().Package() != pkg {
			return nil, fmt.Errorf("kernel %s: output %s is not in the input's package %s", k.ID, out.FullName(), pkg)
		}
		if !strings.HasSuffix(string(in.Name()), "Input") {
			return nil, fmt.Errorf("kernel %s: input message %s does not end in Input", k.ID, in.Name())
		}
		d := domains[pkg]
		if d == nil {
			opts, _ := in.ParentFile().Options().(*descriptorpb.FileOptions)
			d = &domain{pkg: pkg, goPackage: opts.GetGoPackage(), imports: map[string]bool{}}
			domains[pkg] = d
		}
		d.kernels = append(d.kernels, k)
		d.imports[in.ParentFile().Path()] = true
		d.imports[out.ParentFile().Path()] = true
	}
	files := map[string][]byte{}
	for pkg, d := range domains {
		seg := strings.Split(string(pkg), ".")[2] // graph
		sort.Slice(d.kernels, func(i, j int) bool { return d.kernels[i].ID < d.kernels[j].ID })
		files["gokernels/kernels/"+seg+"/v1/service.proto"] = d.render(seg)
		ring, err := d.renderRing(seg)
		if err != nil {
			return nil, err
		}
		if ring != nil {
			files["gokernels/kernels/"+seg+"/v1/"+ringFile] = ring
		}
	}
	return files, nil
}

// rpcName is the kernel's RPC name: its input message name without Input.
func rpcName(k *registry.Kernel) string {
	return strings.TrimSuffix(string(k.Input.Descriptor().Name()), "Input")
}

// ServiceName is the domain's service: "graph" → "GraphService".
func ServiceName(seg string) string {
	return strings.ToUpper(seg[:1]) + seg[1:] + "Service"
}

func (d *domain) render(seg string) []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	svc := ServiceName(seg)
	w("// Code generated by internal/cmd/kernelsvcgen from the kernel registry. DO NOT EDIT.\n")
	w("// Run `make generate` after adding, removing or describing a kernel.\n\n")
	w("syntax = \"proto3\";\n\n")
	w("// %s: one typed RPC per %s kernel, the same execution path as\n", svc, seg)
	w("// gokernels.v1.KernelService.Execute with the kernel's own input and output\n")
	w("// messages in place of the JSON-shaped or Any-packed payload.\n")
	w("package %s;\n\n", d.pkg)
	imports := []string{"gokernels/v1/options.proto", "google/api/annotations.proto", "protoc-gen-openapiv2/options/annotations.proto"}
	for imp := range d.imports {
		imports = append(imports, imp)
	}
	sort.Strings(imports)
	for _, imp := range imports {
		w("import %q;\n", imp)
	}
	w("\noption go_package = %q;\n\n", d.goPackage)
	w("// %s runs the %s kernels, one RPC per kernel. Each RPC takes the\n", svc, seg)
	w("// kernel's input message and returns its output message; over REST it is\n")
	w("// POST /kernels/{kernel_id}:execute with the input as the JSON body.\n")
	w("service %s {\n", svc)
	// One OpenAPI tag per domain ("graph"), so SDK generators group the
	// domain's operations (GraphApi.pageRank); each operation keeps
	// protoc-gen-openapiv2's unique default id, GraphService_PageRank.
	w("  option (grpc.gateway.protoc_gen_openapiv2.options.openapiv2_tag) = {\n")
	w("    name: %q\n", seg)
	w("    description: %s\n", protoString(fmt.Sprintf("The %s kernels: one operation per kernel, POST /kernels/%s/<name>:execute with the kernel's typed input as the JSON body and its typed output as the answer.", seg, seg)))
	w("  };\n\n")
	for i, k := range d.kernels {
		if i > 0 {
			w("\n")
		}
		name := rpcName(k)
		modes := make([]string, len(k.Modes))
		for i, m := range k.Modes {
			modes[i] = fmt.Sprintf("%q", m.String())
		}
		desc := strings.TrimSpace(k.Description)
		for _, line := range wrap(fmt.Sprintf("%s runs %s: %s", name, k.ID, desc), 76) {
			w("  // %s\n", line)
		}
		w("  rpc %s(%s) returns (%s) {\n", name, k.Input.Descriptor().Name(), k.Output.Descriptor().Name())
		w("    option (google.api.http) = {\n")
		w("      post: %q\n", "/kernels/"+k.ID+":execute")
		w("      body: \"*\"\n")
		w("    };\n")
		w("    option (gokernels.v1.kernel) = {\n")
		w("      id: %q\n", k.ID)
		if len(modes) == 1 {
			w("      modes: [%s]\n", modes[0])
		} else { // buf format's layout, so that `buf format --diff` stays empty
			w("      modes: [\n        %s\n      ]\n", strings.Join(modes, ",\n        "))
		}
		w("      description: %s\n", protoString(desc))
		if isRing(k) {
			rt := k.RingTypes()
			w("      ring_request_type: %q\n", rt.Request)
			w("      ring_reply_type: %q\n", rt.Reply)
			w("      ring_event_type: %q\n", rt.Event)
		}
		w("    };\n")
		// One field: buf format's one-line layout.
		w("    option (grpc.gateway.protoc_gen_openapiv2.options.openapiv2_operation) = {summary: %s};\n", protoString(desc))
		w("  }\n")
	}
	w("}\n")
	return b.Bytes()
}

// protoString quotes s as a proto string literal.
func protoString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// wrap splits s into lines of at most width characters, at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
