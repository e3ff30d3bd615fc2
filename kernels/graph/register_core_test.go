package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// coreKernels are the ids RegisterCore must provide, each with its fixture
// file under testdata/fixtures/graph.
var coreKernels = []string{
	"graph/betweenness-centrality", "graph/pagerank", "graph/degree-centrality",
	"graph/closeness-centrality", "graph/eigenvector-centrality", "graph/katz-centrality",
	"graph/shortest-path", "graph/average-path-length", "graph/connected-components",
	"graph/density", "graph/clustering-coefficient", "graph/triangle-counting",
	"graph/full-metrics",
}

type coreFixture struct {
	KernelID string     `json:"kernel_id"`
	Cases    []coreCase `json:"cases"`
}

type coreCase struct {
	Name       string                     `json:"name"`
	Input      json.RawMessage            `json:"input"`
	Expect     map[string]json.RawMessage `json:"expect"`
	ErrorField string                     `json:"error_field"`
	Rtol       *float64                   `json:"rtol"`
	Atol       *float64                   `json:"atol"`
}

// TestRegisterCoreFixtures runs every fixture case of every core kernel
// through the registry the way the server does: JSON input decoded by
// jsoninput, protovalidate, the kernel, and the output rendered as JSON.
func TestRegisterCoreFixtures(t *testing.T) {
	r := registry.New()
	if err := RegisterCore(r); err != nil {
		t.Fatal(err)
	}
	if r.Len() != len(coreKernels) {
		t.Errorf("registered %d kernels, want %d", r.Len(), len(coreKernels))
	}
	for _, id := range coreKernels {
		k, ok := r.Get(id)
		if !ok {
			t.Errorf("%s is not registered", id)
			continue
		}
		if k.Domain != registry.DomainGraph || !k.SupportsBatch() {
			t.Errorf("%s: domain %q, batch %v", id, k.Domain, k.SupportsBatch())
		}
		fx := loadCoreFixture(t, id)
		for _, c := range fx.Cases {
			t.Run(id+"/"+c.Name, func(t *testing.T) { runCoreCase(t, k, c) })
		}
	}
}

func loadCoreFixture(t *testing.T, id string) coreFixture {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "fixtures", id+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fx coreFixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if fx.KernelID != id || len(fx.Cases) == 0 {
		t.Fatalf("%s: kernel_id %q with %d cases", path, fx.KernelID, len(fx.Cases))
	}
	return fx
}

func runCoreCase(t *testing.T, k *registry.Kernel, c coreCase) {
	in := k.NewInput()
	err := jsoninput.Decode(c.Input, in)
	var out *structpb.Struct
	if err == nil {
		msg, runErr := k.Run(context.Background(), in)
		err = runErr
		if err == nil {
			out, err = jsoninput.ToStruct(msg)
		}
	}
	if c.ErrorField != "" {
		if got := errorField(err); got != c.ErrorField {
			t.Fatalf("error field %q (err %v), want %q", got, err, c.ErrorField)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	rtol, atol := 1e-9, 1e-12
	if c.Rtol != nil {
		rtol = *c.Rtol
	}
	if c.Atol != nil {
		atol = *c.Atol
	}
	got := out.AsMap()
	for name, raw := range c.Expect {
		var want any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		g, ok := got[name]
		if !ok {
			t.Errorf("output has no %s", name)
			continue
		}
		if msg := compareJSON(g, want, rtol, atol); msg != "" {
			t.Errorf("%s%s", name, msg)
		}
	}
}

// errorField is the input field an error names: a kerr.FieldError's field or
// the first protovalidate violation's field path.
func errorField(err error) string {
	if err == nil {
		return ""
	}
	if fe, ok := kerr.AsField(err); ok {
		return fe.Field
	}
	var ve *protovalidate.ValidationError
	if errors.As(err, &ve) && len(ve.Violations) > 0 {
		return protovalidate.FieldPathString(ve.Violations[0].Proto.GetField())
	}
	return "(not a field error: " + err.Error() + ")"
}

// compareJSON compares decoded JSON values, numbers within tolerance, and
// returns a description of the first difference ("" when equal).
func compareJSON(got, want any, rtol, atol float64) string {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		if !ok || math.IsNaN(g) || math.Abs(g-w) > atol+rtol*math.Abs(w) {
			return fmt.Sprintf(" = %v, want %v", got, w)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf(": got %d values, want %d", len(g), len(w))
		}
		for i := range w {
			if msg := compareJSON(g[i], w[i], rtol, atol); msg != "" {
				return fmt.Sprintf("[%d]%s", i, msg)
			}
		}
	default:
		if got != want {
			return fmt.Sprintf(" = %v, want %v", got, want)
		}
	}
	return ""
}
