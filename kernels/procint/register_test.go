package procint

import (
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/registry"
)

// kernels are the ids Register must provide and whether they are Ring ids;
// each has a fixture file under testdata/fixtures/procint.
var kernels = []struct {
	id   string
	ring bool
}{
	{"procint/dfg-construction", false},
	{"procint/partial-order", false},
	{"procint/conformance", true},
	{"procint/next-activity", false},
	{"procint/log-imputation", false},
	{"procint/ocpm-patterns", false},
	{"procint/digital-twin", false},
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
	files := fixture.DomainFiles(t, "procint")
	if len(files) != len(kernels) {
		t.Errorf("%d procint fixture files for %d kernels", len(files), len(kernels))
	}
	for _, kc := range kernels {
		k, ok := r.Get(kc.id)
		if !ok {
			t.Errorf("%s is not registered", kc.id)
			continue
		}
		if k.Domain != registry.DomainProcInt || !k.SupportsBatch() || k.HasMode(registry.Ring) != kc.ring {
			t.Errorf("%s: domain %q, batch %v, modes %v", kc.id, k.Domain, k.SupportsBatch(), k.Modes)
		}
		var extra func(*testing.T, fixture.Case, map[string]any)
		if kc.id == "procint/next-activity" {
			extra = sameOptionalSteps
		}
		fixture.RunKernelCases(t, r, fixture.KernelFile(t, files, kc.id), extra)
	}
}

// sameOptionalSteps checks that expected_remaining_steps is present exactly
// where the reference defines it (the fixture check ignores absent keys).
func sameOptionalSteps(t *testing.T, c fixture.Case, out map[string]any) {
	want, _ := c.Expect["predictions"].([]any)
	got, _ := out["predictions"].([]any)
	if len(want) != len(got) {
		t.Fatalf("%s: %d predictions, want %d", c.Name, len(got), len(want))
	}
	for i := range want {
		_, w := want[i].(map[string]any)["expected_remaining_steps"]
		_, g := got[i].(map[string]any)["expected_remaining_steps"]
		if w != g {
			t.Errorf("%s: history %d: expected_remaining_steps present %v, reference %v", c.Name, i, g, w)
		}
	}
}
