package behavioral

import (
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/registry"
)

// kernels are the ids Register must provide and whether they are Ring ids;
// each has a fixture file under testdata/fixtures/behavioral.
var kernels = []struct {
	id   string
	ring bool
}{
	{"behavioral/profiling", true},
	{"behavioral/anomaly", true},
	{"behavioral/event-correlation", true},
	{"behavioral/fraud-signatures", true},
	{"behavioral/forensic-query", false},
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
// server does: JSON decoding, protovalidate, the kernel, JSON output.
func TestRegisterFixtures(t *testing.T) {
	r := newRegistry(t)
	files := fixture.DomainFiles(t, "behavioral")
	if len(files) != len(kernels) {
		t.Errorf("%d behavioral fixture files for %d kernels", len(files), len(kernels))
	}
	for _, kc := range kernels {
		k, ok := r.Get(kc.id)
		if !ok {
			t.Errorf("%s is not registered", kc.id)
			continue
		}
		if k.Domain != registry.DomainBehavioral || !k.SupportsBatch() || k.HasMode(registry.Ring) != kc.ring {
			t.Errorf("%s: domain %q, batch %v, modes %v", kc.id, k.Domain, k.SupportsBatch(), k.Modes)
		}
		fixture.RunKernelCases(t, r, fixture.KernelFile(t, files, kc.id), nil)
	}
}
