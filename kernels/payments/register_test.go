package payments

import (
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/registry"
)

// TestRegisterFixtures runs the networkx fixtures through the registry as
// the server does, and checks PageRank sums to 1 and the bow-tie parts add
// up to the nodes.
func TestRegisterFixtures(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	k, ok := r.Get("payments/flow-analysis")
	if !ok || k.Domain != registry.DomainPayments || k.HasMode(registry.Ring) {
		t.Fatalf("payments/flow-analysis: registered %v, %+v", ok, k)
	}
	files := fixture.DomainFiles(t, "payments")
	fixture.RunKernelCases(t, r, fixture.KernelFile(t, files, "payments/flow-analysis"), func(t *testing.T, c fixture.Case, out map[string]any) {
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
	})
}
