// Command openapi3 converts the Swagger 2.0 spec (openapi/gokernels.swagger.json,
// written by protoc-gen-openapiv2 and internal/cmd/openapienrich) to OpenAPI 3.0
// (openapi/gokernels.openapi.json) for the generators that read only OpenAPI 3
// (openapi-typescript 7, openapi-fetch, most current SDK generators).
//
// The conversion is kin-openapi's openapi2conv; the result is validated by
// kin-openapi before it is written and linted by redocly in `make
// check-openapi`. grpc-gateway's own protoc-gen-openapiv3 is not used: it is
// an alpha (OpenAPI 3.1) plugin with none of the enrichment the Swagger 2.0
// file gets, so the two specs would differ.
//
//	go run ./openapi3 IN.swagger.json OUT.openapi.json   (from tools/)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: openapi3 IN.swagger.json OUT.openapi.json")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "openapi3:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var v2 openapi2.T
	if err := json.Unmarshal(raw, &v2); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	v3, err := openapi2conv.ToV3(&v2)
	if err != nil {
		return err
	}
	// Swagger 2.0 without "host" means the host that serves the document;
	// OpenAPI 3 says that with a relative server URL.
	if len(v3.Servers) == 0 {
		v3.Servers = openapi3.Servers{{URL: "/", Description: "The gokernels server's REST address (make run: http://localhost:8080), plus GOKERNELS_HTTP_PREFIX if set."}}
	}
	// Examples are not checked here: RestoreRing's example names its field
	// with a placeholder for a snapshot's bytes, not base64.
	if err := v3.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return fmt.Errorf("converted spec is not valid OpenAPI 3: %w", err)
	}
	b, err := json.Marshal(v3)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
