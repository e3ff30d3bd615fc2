package payments

import (
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
)

// TestRegisterFixtures runs the networkx fixtures through the registry as
// the server does, and checks PageRank sums to 1 and the bow-tie parts add
// up to the nodes.
func TestRegisterFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "payments", map[string]fixture.Adjust{
		"payments/flow-analysis": fixture.WithCheck(func(t *testing.T, c fixture.Case, out map[string]any) {
			sum := 0.0
			nodes, _ := out["nodes"].([]any)
			for _, n := range nodes {
				sum += n.(map[string]any)["pagerank"].(float64)
			}
			if len(nodes) > 0 && (sum < 1-1e-9 || sum > 1+1e-9) {
				t.Errorf("pagerank sums to %v", sum)
			}
			net := out["network"].(map[string]any)
			b := net["bowtie_sizes"].(map[string]any)
			parts := b["core"].(float64) + b["in"].(float64) + b["out"].(float64) + b["other"].(float64)
			if len(nodes) > 0 && parts != net["nodes"].(float64) {
				t.Errorf("bow-tie parts %v, nodes %v", parts, net["nodes"])
			}
		}),
	})
}
