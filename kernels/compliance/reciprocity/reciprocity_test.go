package reciprocity

import (
	"context"
	"testing"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/internal/replay"
)

type stateFold struct{ *State }

func (f stateFold) Snapshot() (*compliancev1.ReciprocityFlowOutput, error) {
	return f.State.Snapshot(), nil
}

func newIn() *compliancev1.ReciprocityFlowInput { return &compliancev1.ReciprocityFlowInput{} }

// TestReplayLaw: Snapshot after each prefix equals Batch on that prefix.
func TestReplayLaw(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, newIn) {
		t.Run(name, func(t *testing.T) {
			j, err := prepare(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			batch := func(txs []*financev1.Transaction) (*compliancev1.ReciprocityFlowOutput, error) {
				return Def.CPU(ctx, &job{params: j.params, txs: txs})
			}
			replay.Check(t, stateFold{New(j.params)}, j.txs, batch, func(k int) bool { return k%13 == 0 })
		})
	}
}

// TestInvariants: both ratios in [0, 1]; reciprocated = min of the two
// directions; pairs ordered a < b.
func TestInvariants(t *testing.T) {
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
		for _, r := range []float64{out.EdgeReciprocity, out.WeightedReciprocity} {
			if r < 0 || r > 1 {
				t.Errorf("%s: ratio %v outside [0, 1]", name, r)
			}
		}
		for _, p := range out.Pairs {
			if p.A >= p.B || p.Reciprocated != min(p.AmountAb, p.AmountBa) || p.CountAb < 1 || p.CountBa < 1 {
				t.Errorf("%s: bad pair %v", name, p)
			}
		}
		for _, e := range out.Entities {
			if e.Reciprocity < 0 || e.Reciprocity > 1+1e-12 {
				t.Errorf("%s/%s: reciprocity %v", name, e.Id, e.Reciprocity)
			}
		}
	}
}
