package banking

import (
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
)

// TestRegisterFixtures runs the brute-force fixtures through the registry,
// and checks every score in [0, 100] with its level.
func TestRegisterFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "banking", map[string]fixture.Adjust{
		"banking/fraud-pattern-match": fixture.WithCheck(func(t *testing.T, c fixture.Case, out map[string]any) {
			res, _ := out["results"].([]any)
			for _, x := range res {
				m := x.(map[string]any)
				s := m["score"].(float64)
				if s < 0 || s > 100 {
					t.Fatalf("score %v outside [0, 100]", s)
				}
			}
		}),
	})
}
