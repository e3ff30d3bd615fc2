package causalgraph

import (
	"context"
	"math"
	"testing"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/simuser"
)

// The output graph is acyclic, every kept edge is in it or dropped, and
// roots and effects follow the DAG's degrees.
func TestDAGInvariants(t *testing.T) {
	zero, one := 0.0, int64(1)
	in := &behavioralv1.CausalGraphInput{Events: simuser.Events(3, 4, 2000, 2), MinStrength: &zero, MinCount: &one}
	j, err := Kernel.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	adj := map[string][]string{}
	indeg, outdeg := map[string]int{}, map[string]int{}
	for _, e := range out.Edges {
		adj[e.Source] = append(adj[e.Source], e.Target)
		indeg[e.Target]++
		outdeg[e.Source]++
		if e.Source == e.Target || e.Strength <= 0 || e.Strength > 1 {
			t.Fatalf("edge %v", e)
		}
	}
	state := map[string]int{}
	var visit func(string) bool
	visit = func(v string) bool {
		state[v] = 1
		for _, w := range adj[v] {
			if state[w] == 1 || (state[w] == 0 && !visit(w)) {
				return false
			}
		}
		state[v] = 2
		return true
	}
	for _, n := range out.Nodes {
		if state[n.Id] == 0 && !visit(n.Id) {
			t.Fatal("the DAG has a cycle")
		}
	}
	if len(out.DroppedCycleEdges) == 0 {
		t.Fatal("random transitions among 6 types should close some cycles")
	}
	for _, r := range out.Roots {
		if indeg[r] != 0 || outdeg[r] == 0 {
			t.Fatalf("root %s: in %d out %d", r, indeg[r], outdeg[r])
		}
	}
	for _, e := range out.Effects {
		if outdeg[e] != 0 || indeg[e] == 0 {
			t.Fatalf("effect %s: in %d out %d", e, indeg[e], outdeg[e])
		}
	}
}

// The incomplete beta agrees with closed forms: I_x(a, 1) = x^a and
// I_x(1, b) = 1 − (1−x)^b.
func TestRegIncBeta(t *testing.T) {
	for _, x := range []float64{0.01, 0.3, 0.5, 0.9, 0.999} {
		for _, a := range []float64{0.5, 1, 2.5, 7} {
			if got, want := regIncBeta(a, 1, x), math.Pow(x, a); math.Abs(got-want) > 1e-13 {
				t.Fatalf("I_%g(%g,1) = %.17g, want %.17g", x, a, got, want)
			}
			if got, want := regIncBeta(1, a, x), 1-math.Pow(1-x, a); math.Abs(got-want) > 1e-13 {
				t.Fatalf("I_%g(1,%g) = %.17g, want %.17g", x, a, got, want)
			}
		}
	}
}
