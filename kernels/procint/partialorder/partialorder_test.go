package partialorder

import (
	"context"
	"testing"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/procint/simlog"
)

var converse = map[string]string{Causal: Reverse, Reverse: Causal, Parallel: Parallel, Choice: Choice}

// F[b][a] is the converse of F[a][b]; dependency is antisymmetric off the
// diagonal and in (−1, 1); each unordered pair lands in exactly one list.
func TestFootprintInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		for _, pol := range []string{"", "CONCURRENT"} {
			for _, theta := range []float64{0, 0.1} {
				in := &procintv1.PartialOrderInput{
					Events: simlog.Log(seed, simlog.Options{Cases: 150, Noise: 0.5, EqualTS: 0.3}), NoiseThreshold: theta,
					EqualTsPolicy: pol,
				}
				j, err := prepare(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				out, err := Run(context.Background(), j)
				if err != nil {
					t.Fatal(err)
				}
				n := len(out.Activities)
				pairs := 0
				for a := 0; a < n; a++ {
					for b := 0; b < n; b++ {
						if out.Footprint[b].Cells[a] != converse[out.Footprint[a].Cells[b]] {
							t.Fatalf("F[%d][%d]=%s, F[%d][%d]=%s", a, b, out.Footprint[a].Cells[b], b, a, out.Footprint[b].Cells[a])
						}
						d := out.Dependency[a].Cells[b]
						if d <= -1 || d >= 1 || (a != b && d != -out.Dependency[b].Cells[a]) {
							t.Fatalf("dependency[%d][%d] = %g, [%d][%d] = %g", a, b, d, b, a, out.Dependency[b].Cells[a])
						}
					}
				}
				pairs = len(out.Parallel) + len(out.Choice)
				for _, p := range out.Causal {
					if p.A < p.B {
						pairs++
					} else if p.A > p.B {
						pairs++ // b→a is the pair (b, a) in causal form
					}
				}
				if pairs != n*(n+1)/2 {
					t.Fatalf("seed %d: %d relations for %d unordered pairs", seed, pairs, n*(n+1)/2)
				}
			}
		}
	}
}
