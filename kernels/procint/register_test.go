package procint

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
	fixture.RunDomain(t, Register, "procint", map[string]fixture.Adjust{
		"procint/next-activity": fixture.WithCheck(sameOptionalSteps),
	})
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
