package sanctions

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/internal/replay"
)

func newIn() *compliancev1.SanctionsScreeningInput { return &compliancev1.SanctionsScreeningInput{} }

// TestPrefilterIsLossless: the results with the length prefilter equal a
// scan that compares every name, at every fixture's thresholds and at a
// sweep of minimum scores.
func TestPrefilterIsLossless(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, newIn) {
		for _, ms := range []float64{-1, 0, 0.5, 0.8, 0.9, 0.95, 1} {
			in := proto.Clone(in).(*compliancev1.SanctionsScreeningInput)
			if ms >= 0 {
				in.MinScore = &ms
			}
			j, err := prepare(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			fast, err := Def.CPU(ctx, j)
			if err != nil {
				t.Fatal(err)
			}
			j.state.p.NoPrefilter = true
			slow, err := Def.CPU(ctx, j)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(fast, slow) {
				t.Fatalf("%s min_score %v: the prefilter changed the result", name, ms)
			}
		}
	}
}

// TestScreenEqualsBatch: the ring's Screen message on the loaded list gives
// each query's Batch result, and the results respect their invariants.
func TestScreenEqualsBatch(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, newIn) {
		j, err := prepare(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Def.CPU(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range in.GetQueries() {
			got := j.state.Screen(q)
			if !proto.Equal(got, out.Results[i]) {
				t.Fatalf("%s query %d: Screen differs from Batch", name, i)
			}
			for k, m := range got.Matches {
				if m.Score < j.state.p.MinScore || m.Score > 1 || (k > 0 && m.Score > got.Matches[k-1].Score) {
					t.Errorf("%s query %d: match %d score %v out of order or range", name, i, k, m.Score)
				}
			}
			if got.IsHit != (len(got.Matches) > 0 && got.Matches[0].Score >= j.state.p.HitThreshold) {
				t.Errorf("%s query %d: is_hit %v", name, i, got.IsHit)
			}
		}
	}
}
