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
// the conservation laws hold on every output.
func TestFixtures(t *testing.T) {
	r := newRegistry(t)
	files := fixture.DomainFiles(t, "accounting")
	for _, id := range []string{"accounting/coa-mapping", "accounting/journal-transform", "accounting/network-generation", "accounting/suspense-detection", "accounting/gaap-violation", "accounting/gl-reconciliation", "accounting/network-generation-ring", "accounting/temporal-correlation"} {
		k, ok := r.Get(id)
		if !ok || k.Domain != registry.DomainAccounting {
			t.Fatalf("%s not registered in Accounting", id)
		}
		var check func(t *testing.T, c fixture.Case, out map[string]any)
		switch id {
		case "accounting/coa-mapping":
			check = checkCoaLaws
		case "accounting/journal-transform":
			check = checkTransformLaws
		case "accounting/network-generation":
			check = checkNetworkLaws
		case "accounting/suspense-detection":
			check = checkSuspenseLaws
		case "accounting/gaap-violation":
			check = checkGaapLaws
		case "accounting/network-generation-ring":
			check = checkRingLaws
		case "accounting/temporal-correlation":
			check = checkCorrelationLaws
		case "accounting/gl-reconciliation":
			check = checkReconcileLaws
		}
		fixture.RunKernelCases(t, r, fixture.KernelFile(t, files, id), check)
	}
}
