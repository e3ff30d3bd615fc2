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
	{"behavioral/causal-graph", false},
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
		var extra func(*testing.T, fixture.Case, map[string]any)
		if kc.id == "behavioral/causal-graph" {
			extra = sameGrangerPresence
		}
		fixture.RunKernelCases(t, r, fixture.KernelFile(t, files, kc.id), extra)
	}
}

// sameGrangerPresence checks that granger_f and granger_p are present
// exactly where the reference computes them (absent keys are not compared).
func sameGrangerPresence(t *testing.T, c fixture.Case, out map[string]any) {
	want, _ := c.Expect["edges"].([]any)
	got, _ := out["edges"].([]any)
	if len(want) != len(got) {
		t.Fatalf("%s: %d edges, want %d", c.Name, len(got), len(want))
	}
	for i := range want {
		for _, k := range []string{"granger_f", "granger_p"} {
			_, w := want[i].(map[string]any)[k]
			_, g := got[i].(map[string]any)[k]
			if w != g {
				t.Errorf("%s: edge %d: %s present %v, reference %v", c.Name, i, k, g, w)
			}
		}
	}
}
