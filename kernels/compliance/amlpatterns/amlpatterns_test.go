package amlpatterns

import (
	"context"
	"math"
	"testing"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/internal/replay"
)

type batchFold struct{ *State }

func (f batchFold) Snapshot() (*compliancev1.AmlPatternsOutput, error) {
	return f.State.Snapshot(context.Background())
}

func newIn() *compliancev1.AmlPatternsInput { return &compliancev1.AmlPatternsInput{} }

// TestReplayLaw: Snapshot after each prefix equals Batch on that prefix.
func TestReplayLaw(t *testing.T) {
	ctx := context.Background()
	for name, in := range replay.Inputs(t, Def.ID, newIn) {
		t.Run(name, func(t *testing.T) {
			j, err := prepare(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			batch := func(txs []*financev1.Transaction) (*compliancev1.AmlPatternsOutput, error) {
				return Def.CPU(ctx, &job{params: j.params, txs: txs})
			}
			replay.Check(t, batchFold{New(j.params)}, j.txs, batch, func(k int) bool { return k%17 == 0 })
		})
	}
}

// TestDetectionsRecheck: every detection re-checks true from its own
// transactions, and one (pattern, anchor)'s detections share none.
func TestDetectionsRecheck(t *testing.T) {
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
		byID := map[string]*financev1.Transaction{}
		for _, tx := range j.txs {
			byID[tx.GetId()] = tx
		}
		used := map[string]bool{}
		p := j.params
		for _, d := range out.Detections {
			txs := make([]*financev1.Transaction, len(d.TxIds))
			for i, id := range d.TxIds {
				txs[i] = byID[id]
				key := d.Pattern + "\x00" + d.Anchor + "\x00" + id
				if used[key] {
					t.Fatalf("%s: %s/%s reuses %s", name, d.Pattern, d.Anchor, id)
				}
				used[key] = true
			}
			first := txs[0]
			if d.EndTs-d.StartTs >= p.W {
				t.Fatalf("%s: %s spans %d >= W", name, d.Pattern, d.EndTs-d.StartTs)
			}
			switch d.Pattern {
			case "STRUCTURING":
				var sum float64
				for _, tx := range txs {
					sum += tx.GetAmount()
					if tx.GetSourceId() != d.Anchor || tx.GetAmount() < p.Near*p.T || tx.GetAmount() > p.T {
						t.Fatalf("%s: structuring tx %s does not qualify", name, tx.GetId())
					}
				}
				if len(txs) < p.MinCount || !(sum > p.T) {
					t.Fatalf("%s: structuring window of %d summing %v", name, len(txs), sum)
				}
			case "ROUND_TRIP", "LAYERING":
				at := d.Anchor
				seen := map[string]bool{at: true}
				for i, tx := range txs {
					if tx.GetSourceId() != at || math.Abs(tx.GetAmount()-first.GetAmount()) > p.Tol*first.GetAmount() ||
						(i > 0 && tx.GetTs() <= txs[i-1].GetTs()) {
						t.Fatalf("%s: %s hop %d breaks the path rules", name, d.Pattern, i)
					}
					at = tx.GetDestId()
					if seen[at] && !(d.Pattern == "ROUND_TRIP" && i == len(txs)-1 && at == d.Anchor) {
						t.Fatalf("%s: %s revisits %s", name, d.Pattern, at)
					}
					seen[at] = true
				}
				if (d.Pattern == "ROUND_TRIP") != (at == d.Anchor) {
					t.Fatalf("%s: %s ends at %s", name, d.Pattern, at)
				}
			}
		}
	}
}
