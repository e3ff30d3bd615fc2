package dfgconstruction

import (
	"context"
	"testing"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
	"github.com/gokernels/gokernels/kernels/procint/simlog"
)

func run(t *testing.T, in *procintv1.DfgConstructionInput) *procintv1.DfgConstructionOutput {
	t.Helper()
	j, err := prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Edge counts sum to events − cases without ▶/■ edges and to events +
// cases with them; every activity's flow is conserved.
func TestEdgeCountsAndFlowConservation(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		evs := simlog.Log(seed, simlog.Options{Cases: 200, Noise: 0.4, EqualTS: 0.2})
		for _, se := range []bool{false, true} {
			out := run(t, &procintv1.DfgConstructionInput{Events: evs, IncludeStartEnd: se})
			var sum int64
			in, outf := map[string]int64{}, map[string]int64{}
			for _, e := range out.Edges {
				sum += e.Count
				in[e.Target] += e.Count
				outf[e.Source] += e.Count
			}
			want := out.EventCount - out.TraceCount
			if se {
				want = out.EventCount + out.TraceCount
			}
			if sum != want || out.EventCount != int64(len(evs)) {
				t.Fatalf("seed %d start/end %v: Σ edge counts %d, want %d", seed, se, sum, want)
			}
			start, end := map[string]int64{}, map[string]int64{}
			for _, s := range out.Start {
				start[s.Activity] = s.Count
			}
			for _, s := range out.End {
				end[s.Activity] = s.Count
			}
			for _, a := range out.Activities {
				inA, outA := in[a.Activity], outf[a.Activity]
				if !se {
					inA += start[a.Activity]
					outA += end[a.Activity]
				}
				if a.Count != inA || a.Count != outA {
					t.Fatalf("seed %d: %s count %d, in %d, out %d", seed, a.Activity, a.Count, inA, outA)
				}
			}
			if se && (in[eventlog.End] != out.TraceCount || outf[eventlog.Start] != out.TraceCount) {
				t.Fatalf("seed %d: ▶ out %d, ■ in %d, traces %d", seed, outf[eventlog.Start], in[eventlog.End], out.TraceCount)
			}
		}
	}
}

func TestCancelled(t *testing.T) {
	evs := simlog.Log(9, simlog.Options{Cases: 3000})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := prepare(ctx, &procintv1.DfgConstructionInput{Events: evs}); err == nil {
		t.Fatal("a cancelled context still ran")
	}
}

func BenchmarkDFG(b *testing.B) {
	evs := simlog.Log(1, simlog.Options{Cases: 50_000, Noise: 0.2})
	b.ReportMetric(float64(len(evs)), "events")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j, err := prepare(context.Background(), &procintv1.DfgConstructionInput{Events: evs})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Run(context.Background(), j); err != nil {
			b.Fatal(err)
		}
	}
}
