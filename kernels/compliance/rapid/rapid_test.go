package rapid

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/internal/replay"
	"github.com/gokernels/gokernels/kernels/kerr"
)

type stateFold struct{ *State }

func (f stateFold) Snapshot() (*compliancev1.RapidMovementOutput, error) {
	return f.State.Snapshot(), nil
}

// TestReplayLaw: transactions applied one at a time in ts order, with a
// Snapshot after each (which must not disturb the state, even in the
// middle of a group of equal ts), give the Batch output of every prefix.
func TestReplayLaw(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, func() *compliancev1.RapidMovementInput { return &compliancev1.RapidMovementInput{} }) {
		t.Run(name, func(t *testing.T) {
			j, err := prepare(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			batch := func(txs []*financev1.Transaction) (*compliancev1.RapidMovementOutput, error) {
				return Def.CPU(ctx, &job{params: j.params, txs: txs})
			}
			replay.Check(t, stateFold{New(j.params)}, j.txs, batch, func(k int) bool { return k%7 == 0 })
		})
	}
}

// TestInvariants: rapid_out <= min(in, out), 0 <= mean dwell < W, ratios
// in [0, 1] where the definition bounds them, and the total equals the sum.
func TestInvariants(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, func() *compliancev1.RapidMovementInput { return &compliancev1.RapidMovementInput{} }) {
		j, err := prepare(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Def.CPU(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, e := range out.Entities {
			if e.RapidOutAmount > min(e.InAmount, e.OutAmount)*(1+1e-12) {
				t.Errorf("%s/%s: rapid %v > min(in %v, out %v)", name, e.Id, e.RapidOutAmount, e.InAmount, e.OutAmount)
			}
			if e.MeanDwellSeconds < 0 || e.MeanDwellSeconds >= float64(j.params.Window) {
				t.Errorf("%s/%s: mean dwell %v outside [0, %d)", name, e.Id, e.MeanDwellSeconds, j.params.Window)
			}
			if e.RapidRatio < 0 || e.RapidRatio > 1+1e-12 || e.MaxWindowCount < 1 {
				t.Errorf("%s/%s: ratio %v, max count %d", name, e.Id, e.RapidRatio, e.MaxWindowCount)
			}
			sum += e.RapidOutAmount
		}
		if d := sum - out.RapidAmount; d > 1e-6 || d < -1e-6 {
			t.Errorf("%s: rapid_amount %v, sum of rows %v", name, out.RapidAmount, sum)
		}
	}
}

// TestStateRejects: a ts before the last one and an id repeated at the
// latest ts are refused (field errors) and leave the state unchanged. The
// bounded guard keeps only the latest ts's ids (Batch checks every id up
// front), so an id reused at a later ts is not caught here.
func TestStateRejects(t *testing.T) {
	st := New(Params{Window: 100, Velocity: 20, Amount: 1, PassThrough: 0.5})
	tx := func(id string, ts int64) *financev1.Transaction {
		return &financev1.Transaction{Id: id, SourceId: "a", DestId: "b", Amount: 5, Ts: ts}
	}
	if err := st.Apply(tx("1", 10)); err != nil {
		t.Fatal(err)
	}
	before := st.Snapshot()
	var fe *kerr.FieldError
	if err := st.Apply(tx("2", 9)); !errors.As(err, &fe) || fe.Field != "transaction.ts" {
		t.Fatalf("older ts: err = %v, want a transaction.ts field error", err)
	}
	if err := st.Apply(tx("1", 10)); !errors.As(err, &fe) || fe.Field != "transaction.id" {
		t.Fatalf("duplicate id at the same ts: err = %v, want a transaction.id field error", err)
	}
	if !proto.Equal(before, st.Snapshot()) {
		t.Fatal("a refused transaction changed the state")
	}
}
