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
// conservation laws hold on every output. Registered kernels and fixture
// files match one to one (fixture.RunDomain): a new kernel needs only its
// fixture file here.
func TestFixtures(t *testing.T) {
	r := fixture.RunDomain(t, Register, "clearing", map[string]fixture.Adjust{
		"clearing/netting":      fixture.WithCheck(checkNettingLaws),
		"clearing/settlement":   fixture.WithCheck(checkSettlementLaws),
		"clearing/dvp-matching": fixture.WithCheck(checkDvpLaws),
		"clearing/zero-balance": fixture.WithCheck(checkZeroLaws),
	})
	for _, k := range r.List("", 0) {
		if k.Domain != registry.DomainClearing {
			t.Errorf("%s registered in %q, want %s", k.ID, k.Domain, registry.DomainClearing)
		}
	}
}
