package registry_test

import (
	"math"
	"strings"
	"testing"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/registry"
)

// degreeRatioOutput is a node-sized output of n nodes: three double lists.
func degreeRatioOutput(n int) *graphv1.DegreeRatioOutput {
	out := &graphv1.DegreeRatioOutput{InDegree: make([]int32, n), OutDegree: make([]int32, n),
		Ratio: make([]float64, n), InStrength: make([]float64, n), OutStrength: make([]float64, n)}
	for i := range n {
		out.Ratio[i], out.InStrength[i], out.OutStrength[i] = float64(i), float64(i)/3, float64(i)/7
	}
	return out
}

// BenchmarkCheckFinite measures the output check against its floor, one
// plain loop over the same three slices (the ratio is the overhead).
func BenchmarkCheckFinite(b *testing.B) {
	const n = 1_000_000
	out := degreeRatioOutput(n)
	k := &registry.Kernel{}
	b.Run("CheckFinite", func(b *testing.B) {
		for b.Loop() {
			if err := k.CheckFinite(nil, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-loop", func(b *testing.B) {
		for b.Loop() {
			for _, s := range [][]float64{out.Ratio, out.InStrength, out.OutStrength} {
				for _, x := range s {
					if math.IsNaN(x) || math.IsInf(x, 0) {
						b.Fatal(x)
					}
				}
			}
		}
	})
}

// TestCheckFiniteFindsListValues: the []float64 fast path reports a
// non-finite element of a repeated double field by its JSON path.
func TestCheckFiniteFindsListValues(t *testing.T) {
	out := degreeRatioOutput(10)
	k := &registry.Kernel{}
	if err := k.CheckFinite(nil, out); err != nil {
		t.Fatalf("finite output rejected: %v", err)
	}
	out.OutStrength[7] = math.Inf(-1)
	out.InStrength[9] = math.NaN()
	err := k.CheckFinite(nil, out)
	if err == nil || !(strings.Contains(err.Error(), "in_strength[9] is NaN") || strings.Contains(err.Error(), "out_strength[7] is -Inf")) {
		t.Fatalf("err = %v, want in_strength[9] or out_strength[7] named", err)
	}
}
