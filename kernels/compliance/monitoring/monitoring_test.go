package monitoring

import (
	"context"
	"testing"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/internal/replay"
)

type stateFold struct{ *State }

func (f stateFold) Snapshot() (*compliancev1.TransactionMonitoringOutput, error) {
	return f.State.Snapshot(context.Background())
}

// TestReplayLaw: Snapshot after each prefix equals Batch on that prefix
// (current_time as configured, else the prefix's last ts).
func TestReplayLaw(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, func() *compliancev1.TransactionMonitoringInput {
		return &compliancev1.TransactionMonitoringInput{}
	}) {
		t.Run(name, func(t *testing.T) {
			j, err := prepare(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			batch := func(txs []*financev1.Transaction) (*compliancev1.TransactionMonitoringOutput, error) {
				return Def.CPU(ctx, &job{params: j.params, txs: txs})
			}
			replay.Check(t, stateFold{New(j.params)}, j.txs, batch, func(k int) bool { return k%11 == 0 })
		})
	}
}

// TestAlertInvariants: every alert's value reaches its rule's threshold,
// its transactions are inside the window and involve the entity, and ids
// run 1..n.
func TestAlertInvariants(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, func() *compliancev1.TransactionMonitoringInput {
		return &compliancev1.TransactionMonitoringInput{}
	}) {
		j, err := prepare(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Def.CPU(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]*financev1.Transaction{}
		for _, tx := range j.txs {
			byID[tx.GetId()] = tx
		}
		rules := map[uint32]Rule{}
		for _, r := range j.params.Rules {
			rules[r.ID] = r
		}
		for i, a := range out.Alerts {
			r := rules[a.RuleId]
			if a.AlertId != uint32(i+1) || a.Value < r.Threshold || len(a.TxIds) == 0 {
				t.Fatalf("%s: alert %d: id %d value %v threshold %v", name, i, a.AlertId, a.Value, r.Threshold)
			}
			for _, id := range a.TxIds {
				tx := byID[id]
				if tx.GetTs() > out.CurrentTime || (r.Type != "SINGLE_AMOUNT" && tx.GetTs() <= out.CurrentTime-r.Window) {
					t.Fatalf("%s: alert %d: tx %s at %d outside the window", name, i, id, tx.GetTs())
				}
				if tx.GetSourceId() != a.EntityId && tx.GetDestId() != a.EntityId {
					t.Fatalf("%s: alert %d: tx %s does not involve %s", name, i, id, a.EntityId)
				}
			}
		}
	}
}
