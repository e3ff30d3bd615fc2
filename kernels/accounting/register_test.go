package accounting

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

// Every fixture case agrees with its brute-force / pandas reference, and
// the conservation laws hold on every output; registered kernels and fixture
// files match one to one.
func TestFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "accounting", map[string]fixture.Adjust{
		"accounting/coa-mapping":             fixture.WithCheck(checkCoaLaws),
		"accounting/journal-transform":       fixture.WithCheck(checkTransformLaws),
		"accounting/network-generation":      fixture.WithCheck(checkNetworkLaws),
		"accounting/suspense-detection":      fixture.WithCheck(checkSuspenseLaws),
		"accounting/gaap-violation":          fixture.WithCheck(checkGaapLaws),
		"accounting/network-generation-ring": fixture.WithCheck(checkRingLaws),
		"accounting/temporal-correlation":    fixture.WithCheck(checkCorrelationLaws),
		"accounting/gl-reconciliation":       fixture.WithCheck(checkReconcileLaws),
		"accounting/network-analysis":        fixture.WithCheck(checkIntercompanyLaws),
	})
}
