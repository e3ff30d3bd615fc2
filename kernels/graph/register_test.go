package graph

import (
	"slices"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/registry"
)

// coreKernels are the centrality, path and metric kernels Register must
// provide, each with its fixture file under testdata/fixtures/graph.
var coreKernels = []string{
	"graph/betweenness-centrality", "graph/pagerank", "graph/degree-centrality",
	"graph/closeness-centrality", "graph/eigenvector-centrality", "graph/katz-centrality",
	"graph/shortest-path", "graph/average-path-length", "graph/connected-components",
	"graph/density", "graph/clustering-coefficient", "graph/triangle-counting",
	"graph/full-metrics",
}

// TestRegisterCoreFixtures runs every fixture case of every core kernel
// through the registry the way the server does: JSON input decoded by
// jsoninput, protovalidate, the kernel, and the output rendered as JSON.
func TestRegisterCoreFixtures(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	if r.Len() != len(coreKernels)+len(extendedKernels) {
		t.Errorf("registered %d kernels, want %d", r.Len(), len(coreKernels)+len(extendedKernels))
	}
	files := fixture.DomainFiles(t, "graph")
	for _, id := range coreKernels {
		k, ok := r.Get(id)
		if !ok {
			t.Errorf("%s is not registered", id)
			continue
		}
		if k.Domain != registry.DomainGraph || !k.SupportsBatch() {
			t.Errorf("%s: domain %q, batch %v", id, k.Domain, k.SupportsBatch())
		}
		fixture.RunKernelCases(t, r, fixture.KernelFile(t, files, id), nil)
	}
}

// TestRegisterCoversGraphFixtures: every graph fixture file belongs to a
// kernel of coreKernels or extendedKernels, so none goes unchecked.
func TestRegisterCoversGraphFixtures(t *testing.T) {
	for _, f := range fixture.DomainFiles(t, "graph") {
		if !slices.Contains(coreKernels, f.KernelID) && !slices.Contains(extendedKernels, f.KernelID) {
			t.Errorf("%s: %s is in neither coreKernels nor extendedKernels", f.Path, f.KernelID)
		}
	}
}
