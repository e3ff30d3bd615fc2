// Command protodeps writes the third-party .proto files our protos import
// (google.api, google.rpc, buf.validate, openapiv2 options) into a folder,
// printed from the descriptors compiled into the Go modules we already use.
// This keeps code generation offline: the Buf Schema Registry is not needed.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/jhump/protoreflect/desc"
	"github.com/jhump/protoreflect/desc/protoprint"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	_ "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2/options"
	_ "google.golang.org/genproto/googleapis/api/annotations"
	_ "google.golang.org/genproto/googleapis/api/httpbody"
	_ "google.golang.org/genproto/googleapis/rpc/code"
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	_ "google.golang.org/genproto/googleapis/rpc/status"
)

var files = []string{
	"google/api/annotations.proto",
	"google/api/http.proto",
	"google/api/httpbody.proto",
	"google/api/field_behavior.proto",
	"google/rpc/status.proto",
	"google/rpc/code.proto",
	"google/rpc/error_details.proto",
	"buf/validate/validate.proto",
	"protoc-gen-openapiv2/options/annotations.proto",
	"protoc-gen-openapiv2/options/openapiv2.proto",
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: protodeps OUTDIR")
		os.Exit(2)
	}
	out := os.Args[1]
	p := &protoprint.Printer{Compact: true}
	for _, name := range files {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
		if err != nil {
			fail(name, err)
		}
		d, err := desc.WrapFile(fd.(protoreflect.FileDescriptor))
		if err != nil {
			fail(name, err)
		}
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fail(name, err)
		}
		f, err := os.Create(path)
		if err != nil {
			fail(name, err)
		}
		if err := p.PrintProtoFile(d, f); err != nil {
			fail(name, err)
		}
		if err := f.Close(); err != nil {
			fail(name, err)
		}
	}
}

func fail(name string, err error) {
	fmt.Fprintf(os.Stderr, "protodeps: %s: %v\n", name, err)
	os.Exit(1)
}
