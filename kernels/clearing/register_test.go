package clearing

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

// Every fixture case agrees with its pandas / brute-force reference, and the
// conservation laws hold on every output.
func TestFixtures(t *testing.T) {
	r := newRegistry(t)
	files := fixture.DomainFiles(t, "clearing")
	for _, id := range []string{"clearing/netting", "clearing/settlement", "clearing/validation", "clearing/dvp-matching", "clearing/zero-balance"} {
		k, ok := r.Get(id)
		if !ok || k.Domain != registry.DomainClearing {
			t.Fatalf("%s not registered in Clearing", id)
		}
		var check func(t *testing.T, c fixture.Case, out map[string]any)
		switch id {
		case "clearing/netting":
			check = checkNettingLaws
		case "clearing/settlement":
			check = checkSettlementLaws
		case "clearing/dvp-matching":
			check = checkDvpLaws
		case "clearing/zero-balance":
			check = checkZeroLaws
		}
		fixture.RunKernelCases(t, r, fixture.KernelFile(t, files, id), check)
	}
}
