package graph

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/registry"
)

// TestPackedEdgesFixtures runs every graph fixture case again with its
// edges sent as packed_edges ([s0, t0, s1, t1, ...], the compact gRPC form)
// and checks the same expected outputs, and that an error naming edges[i]
// now names packed_edges[2i].
func TestPackedEdgesFixtures(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	packedCases := 0
	for _, f := range fixture.DomainFiles(t, "graph") {
		var cases []fixture.Case
		for _, c := range f.Cases {
			in, ok := packInput(t, c.Input)
			if !ok {
				continue
			}
			c.Name += "/packed"
			c.Input = in
			if i, ok := strings.CutPrefix(c.ErrorField, "edges["); ok {
				n, err := strconv.Atoi(strings.TrimSuffix(i, "]"))
				if err != nil {
					t.Fatalf("%s: error field %q", f.Path, c.ErrorField)
				}
				c.ErrorField = "packed_edges[" + strconv.Itoa(2*n) + "]"
			}
			cases = append(cases, c)
		}
		if len(cases) == 0 {
			continue
		}
		packedCases += len(cases)
		f.Cases = cases
		fixture.RunKernelCases(t, r, f, nil)
	}
	if packedCases < 50 {
		t.Errorf("only %d fixture cases had edges to pack", packedCases)
	}
}

// packInput rewrites an input's "edges" [[s, t], ...] as "packed_edges";
// false when the input has no well-formed edge list to rewrite.
func packInput(t *testing.T, raw json.RawMessage) (json.RawMessage, bool) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, false
	}
	var pairs [][]json.Number
	if err := json.Unmarshal(in["edges"], &pairs); err != nil || len(pairs) == 0 {
		return nil, false
	}
	flat := make([]json.Number, 0, 2*len(pairs))
	for _, p := range pairs {
		if len(p) != 2 {
			return nil, false // a malformed edge: a JSON-shape case, not a graph one
		}
		flat = append(flat, p...)
	}
	delete(in, "edges")
	b, err := json.Marshal(flat)
	if err != nil {
		t.Fatal(err)
	}
	in["packed_edges"] = b
	out, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return out, true
}
