package audit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	auditv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/audit/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/audit/hypergraph"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/server/jsoninput"
)

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// checkHypergraphLaws: Σ_v d(v) = Σ_e |e|; the components partition V;
// the s-components are disjoint and hold exactly the edges with |e| ≥ s;
// centralities lie in [0, 1]; the stats agree with the lists.
func checkHypergraphLaws(t *testing.T, c fixture.Case, out map[string]any) {
	t.Helper()
	nodes, edges := out["nodes"].([]any), out["edges"].([]any)
	var sumDeg, sumSize float64
	inV := map[string]bool{}
	for _, x := range nodes {
		n := x.(map[string]any)
		sumDeg += n["degree"].(float64)
		inV[n["id"].(string)] = true
		if cen := n["centrality"].(float64); cen < 0 || cen > 1+1e-12 {
			t.Fatalf("centrality %v of %v", cen, n["id"])
		}
	}
	size := map[string]int{}
	for _, x := range edges {
		e := x.(map[string]any)
		ns := strs(e["nodes"])
		sumSize += float64(len(ns))
		size[e["id"].(string)] = len(ns)
		for _, v := range ns {
			if !inV[v] {
				t.Fatalf("edge %v has node %s outside V", e["id"], v)
			}
		}
	}
	if sumDeg != sumSize {
		t.Fatalf("Σ degree %v, Σ |e| %v", sumDeg, sumSize)
	}
	seen := map[string]bool{}
	for _, g := range out["components"].([]any) {
		for _, id := range strs(g.(map[string]any)["ids"]) {
			if seen[id] || !inV[id] {
				t.Fatalf("components: %s twice or outside V", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != len(inV) {
		t.Fatalf("components cover %d of %d nodes", len(seen), len(inV))
	}
	for _, x := range out["s_components"].([]any) {
		sc := x.(map[string]any)
		s := int(sc["s"].(float64))
		got := map[string]bool{}
		for _, g := range sc["components"].([]any) {
			for _, id := range strs(g.(map[string]any)["ids"]) {
				if got[id] || size[id] < s {
					t.Fatalf("s=%d: edge %s twice or smaller than s", s, id)
				}
				got[id] = true
			}
		}
		for id, k := range size {
			if k >= s && !got[id] {
				t.Fatalf("s=%d: edge %s of size %d in no component", s, id, k)
			}
		}
	}
	st := out["stats"].(map[string]any)
	if int(st["nodes"].(float64)) != len(nodes) || int(st["edges"].(float64)) != len(edges) {
		t.Fatalf("stats %v for %d nodes, %d edges", st, len(nodes), len(edges))
	}
}

// The power-iteration path (large components) agrees with the dense
// eigensolver on every fixture case.
func TestHypergraphPowerIterationMatchesDense(t *testing.T) {
	f := fixture.KernelFile(t, fixture.DomainFiles(t, "audit"), "audit/hypergraph")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		in := &auditv1.HypergraphInput{}
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatal(err)
		}
		job, err := Hypergraph.Prepare(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		dense, err := Hypergraph.CPU(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		saved := hypergraph.DenseMax
		hypergraph.DenseMax = 1
		power, err := Hypergraph.CPU(context.Background(), job)
		hypergraph.DenseMax = saved
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range dense.Nodes {
			if d := math.Abs(n.Centrality - power.Nodes[i].Centrality); d > 1e-9 {
				t.Fatalf("%s: node %s dense %v, power %v", c.Name, n.Id, n.Centrality, power.Nodes[i].Centrality)
			}
		}
	}
}

// s-components by shared s-subsets equal the pairwise definition on a
// case where edges meet in exactly s − 1 nodes (not adjacent) or s nodes.
func TestSComponentsSharedSubsets(t *testing.T) {
	g := hypergraph.Graph{Nodes: []string{"a", "b", "c", "d", "e"}, Kinds: []string{"x", "x", "x", "x", "x"},
		Edges: []hypergraph.Edge{{ID: "1", Nodes: []int32{0, 1, 2}, Weight: 1}, {ID: "2", Nodes: []int32{1, 2, 3}, Weight: 1},
			{ID: "3", Nodes: []int32{3, 4}, Weight: 1}, {ID: "4", Nodes: []int32{0}, Weight: 1}}}
	r, err := hypergraph.Analyse(context.Background(), g, []int{1, 2, 3}, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := [][][]int{{{0, 1, 2, 3}}, {{0, 1}, {2}}, {{0}, {1}}}
	for i, w := range want {
		if len(r.SComponents[i]) != len(w) {
			t.Fatalf("s=%d: %v, want %v", i+1, r.SComponents[i], w)
		}
		for j := range w {
			if len(r.SComponents[i][j]) != len(w[j]) || r.SComponents[i][j][0] != w[j][0] {
				t.Fatalf("s=%d: %v, want %v", i+1, r.SComponents[i], w)
			}
		}
	}
}

// Fifty entities on one category (1,225 pairs) run under a cap of 100
// listed pairs: the category is compared as a bitset. 200 entities, each on
// one of 20 small and one of 10 large categories (2,800 pairs) under a cap
// of 400: all large and 12 small categories become bitsets, making 130
// classes whose 8,385 comparisons exceed 4 × 400, a 400 naming node_kinds.
// A cancelled context stops the kernel.
func TestHypergraphLimits(t *testing.T) {
	var recs []*auditv1.AuditRecord
	for i := range 50 {
		recs = append(recs, &auditv1.AuditRecord{Id: string(rune('A'+i%26)) + string(rune('a'+i/26)), Type: "INVOICE",
			EntityId: string(rune('A' + i)), Category: "same"})
	}
	ctx := limits.With(context.Background(), limits.Limits{MaxSamples: 100})
	job, err := Hypergraph.Prepare(ctx, &auditv1.HypergraphInput{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = Hypergraph.CPU(ctx, job); err != nil {
		t.Fatalf("one shared category under a 100-pair cap: %v", err)
	}
	var ring []*auditv1.AuditRecord
	for i := range 200 {
		ring = append(ring,
			&auditv1.AuditRecord{Id: fmt.Sprintf("a%d", i), Type: "INVOICE", EntityId: fmt.Sprintf("E%03d", i), Category: fmt.Sprintf("A%02d", i%20)},
			&auditv1.AuditRecord{Id: fmt.Sprintf("b%d", i), Type: "INVOICE", EntityId: fmt.Sprintf("E%03d", i), Category: fmt.Sprintf("B%02d", i/20)})
	}
	ctx = limits.With(context.Background(), limits.Limits{MaxSamples: 400})
	job, err = Hypergraph.Prepare(ctx, &auditv1.HypergraphInput{Records: ring})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Hypergraph.CPU(ctx, job)
	if fe, ok := kerr.AsField(err); !ok || fe.Field != "node_kinds" {
		t.Fatalf("%v, want a 400 naming node_kinds", err)
	}
	job, err = Hypergraph.Prepare(context.Background(), &auditv1.HypergraphInput{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Hypergraph.CPU(cctx, job); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
}
