// Package reversal is compliance/flow-reversal: transfers sent back within a
// window (round-tripping, wash transactions), matched one-to-one FIFO.
package reversal

import (
	"cmp"
	"context"
	"slices"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Def declares compliance/flow-reversal.
var Def = registry.Def[*compliancev1.FlowReversalInput, *compliancev1.FlowReversalOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/flow-reversal",
		Domain:      registry.DomainCompliance,
		Description: "Flow reversals: each b->a matched one-to-one (FIFO) to the earliest unmatched a->b within the window with a similar amount; levels, reversal ratio and repeat offenders.",
		Modes:       []registry.Mode{registry.Batch},
	},
	Prepare: prepare,
	CPU:     run,
}

type job struct {
	w, critical, suspicious int64
	ratio                   float64
	txs                     []*financev1.Transaction // (ts, id) order
}

func prepare(ctx context.Context, in *compliancev1.FlowReversalInput) (*job, error) {
	order, err := txn.Check(ctx, "transactions", in.GetTransactions())
	if err != nil {
		return nil, err
	}
	txs := txn.Sorted(in.GetTransactions(), order)
	slices.SortStableFunc(txs, func(a, b *financev1.Transaction) int {
		if c := cmp.Compare(a.GetTs(), b.GetTs()); c != 0 {
			return c
		}
		return cmp.Compare(a.GetId(), b.GetId())
	})
	return &job{
		w:          registry.Or(in.MaxWindowSeconds, 86_400),
		ratio:      registry.Or(in.MinAmountMatchRatio, 0.9),
		critical:   registry.Or(in.CriticalWindow, 300),
		suspicious: registry.Or(in.SuspiciousWindow, 3600),
		txs:        txs,
	}, nil
}

type pairKey struct{ src, dst string }

func level(dt int64, match float64, j *job) string {
	exact := match >= 0.99
	switch {
	case dt < j.critical && exact:
		return "CRITICAL"
	case dt < j.critical || (dt < j.suspicious && exact):
		return "HIGH"
	case dt < j.suspicious || exact:
		return "SUSPICIOUS"
	}
	return "NORMAL"
}

func run(ctx context.Context, j *job) (*compliancev1.FlowReversalOutput, error) {
	out := &compliancev1.FlowReversalOutput{}
	// open holds, per directed pair, the unmatched transactions in (ts, id)
	// order that may still be reversed.
	open := map[pairKey][]*financev1.Transaction{}
	counts := map[string]int32{}
	high := 0
	for i, tx := range j.txs {
		if i%txn.CheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out.TotalVolume += tx.GetAmount()
		a, b := tx.GetDestId(), tx.GetSourceId() // tx is b -> a
		if a == b {
			continue
		}
		k := pairKey{a, b}
		q := open[k]
		// Originals at or beyond W are too old for this and every later tx.
		drop := 0
		for drop < len(q) && tx.GetTs()-q[drop].GetTs() >= j.w {
			drop++
		}
		q = q[drop:]
		matched := -1
		for qi, orig := range q {
			dt := tx.GetTs() - orig.GetTs()
			if dt <= 0 {
				break
			}
			x, y := orig.GetAmount(), tx.GetAmount()
			if m := min(x/y, y/x); m >= j.ratio {
				matched = qi
				break
			}
		}
		if matched >= 0 {
			orig := q[matched]
			q = append(q[:matched:matched], q[matched+1:]...)
			x, y := orig.GetAmount(), tx.GetAmount()
			m := min(x/y, y/x)
			dt := tx.GetTs() - orig.GetTs()
			p := &compliancev1.ReversalPair{
				OriginalId: orig.GetId(), ReversalId: tx.GetId(), A: a, B: b,
				OriginalAmount: x, ReversalAmount: y, DeltaS: dt, MatchRatio: m, Level: level(dt, m, j),
			}
			out.Pairs = append(out.Pairs, p)
			out.ReversalVolume += x + y
			counts[a]++
			counts[b]++
			if p.Level == "HIGH" || p.Level == "CRITICAL" {
				high++
			}
		}
		open[k] = q
		if matched < 0 { // unmatched: available as an original b -> a
			rk := pairKey{b, a}
			open[rk] = append(open[rk], tx)
		}
	}
	for id, c := range counts {
		if c >= 2 {
			out.RepeatOffenders = append(out.RepeatOffenders, &compliancev1.RepeatOffender{Id: id, Count: c})
		}
	}
	slices.SortFunc(out.RepeatOffenders, func(x, y *compliancev1.RepeatOffender) int {
		if c := cmp.Compare(y.Count, x.Count); c != 0 {
			return c
		}
		return cmp.Compare(x.Id, y.Id)
	})
	out.ReversalRatio = txn.Ratio(out.ReversalVolume, out.TotalVolume)
	out.RiskScore = min(100, 5*float64(len(out.Pairs))+15*float64(high)+
		10*float64(len(out.RepeatOffenders))+50*out.ReversalRatio)
	return out, nil
}
