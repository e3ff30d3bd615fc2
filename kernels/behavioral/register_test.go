package behavioral

import (
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/registry"
)

func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRegisterFixtures runs every fixture case through the registry as the
// server does: JSON decoding, protovalidate, the kernel, JSON output;
// registered kernels and fixture files match one to one.
func TestRegisterFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "behavioral", map[string]fixture.Adjust{
		"behavioral/causal-graph": fixture.WithCheck(sameGrangerPresence),
	})
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
