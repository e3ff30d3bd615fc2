package compliance

import (
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/registry"
)

// kernels are the ids Register provides and whether each is a Ring id; each
// has a fixture file under testdata/fixtures/compliance.
var kernels = []struct {
	id   string
	ring bool
}{
	{"compliance/circular-flow", true},
	{"compliance/reciprocity-flow", true},
	{"compliance/rapid-movement", true},
	{"compliance/flow-reversal", false},
	{"compliance/flow-split", false},
	{"compliance/transaction-monitoring", true},
	{"compliance/aml-patterns", true},
	{"compliance/sanctions-screening", true},
	{"compliance/pep-screening", true},
	{"compliance/kyc-scoring", false},
	{"compliance/entity-resolution", false},
}

func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	if r.Len() != len(kernels) {
		t.Fatalf("registered %d kernels, want %d", r.Len(), len(kernels))
	}
	return r
}

// TestRegisterFixtures runs every fixture case through the registry as the
// server does: jsoninput decoding, protovalidate, the kernel, JSON output.
func TestRegisterFixtures(t *testing.T) {
	r := newRegistry(t)
	files := fixture.DomainFiles(t, "compliance")
	if len(files) != len(kernels) {
		t.Errorf("%d compliance fixture files for %d kernels", len(files), len(kernels))
	}
	for _, kc := range kernels {
		k, ok := r.Get(kc.id)
		if !ok {
			t.Errorf("%s is not registered", kc.id)
			continue
		}
		if k.Domain != registry.DomainCompliance || !k.SupportsBatch() || k.HasMode(registry.Ring) != kc.ring {
			t.Errorf("%s: domain %q, batch %v, modes %v", kc.id, k.Domain, k.SupportsBatch(), k.Modes)
		}
		fixture.RunKernelCases(t, r, fixture.KernelFile(t, files, kc.id), nil)
	}
}
