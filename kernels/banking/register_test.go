package banking

import (
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/registry"
)

// TestRegisterFixtures runs the brute-force fixtures through the registry,
// and checks every score in [0, 100] with its level.
func TestRegisterFixtures(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	k, ok := r.Get("banking/fraud-pattern-match")
	if !ok || k.Domain != registry.DomainBanking || !k.HasMode(registry.Ring) {
		t.Fatalf("banking/fraud-pattern-match: registered %v", ok)
	}
	files := fixture.DomainFiles(t, "banking")
	fixture.RunKernelCases(t, r, fixture.KernelFile(t, files, k.ID), func(t *testing.T, c fixture.Case, out map[string]any) {
		res, _ := out["results"].([]any)
		for _, x := range res {
			m := x.(map[string]any)
			s := m["score"].(float64)
			if s < 0 || s > 100 {
				t.Fatalf("score %v outside [0, 100]", s)
			}
		}
	})
}
