// Package split is compliance/flow-split: structuring, i.e. splitting cash
// into sub-threshold transactions (31 U.S.C. 5324, 31 CFR 1010.313).
package split

import (
	"cmp"
	"context"
	"math"
	"slices"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Def declares compliance/flow-split.
var Def = registry.Def[*compliancev1.FlowSplitInput, *compliancev1.FlowSplitOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/flow-split",
		Domain:      registry.DomainCompliance,
		Description: "Structuring detection: sub-threshold transactions per source aggregated over sliding windows or civil days, greedy disjoint splits with CRITICAL/HIGH/ELEVATED levels.",
		Modes:       []registry.Mode{registry.Batch},
	},
	Prepare: prepare,
	CPU:     run,
}

type job struct {
	t, sumFraction, near float64
	w, tz                int64
	businessDay, byDest  bool
	minCount             int
	txs                  []*financev1.Transaction // ts order
}

func prepare(ctx context.Context, in *compliancev1.FlowSplitInput) (*job, error) {
	order, err := txn.Check(ctx, "transactions", in.GetTransactions())
	if err != nil {
		return nil, err
	}
	return &job{
		t:           registry.Or(in.Threshold, 10_000),
		w:           registry.Or(in.WindowSeconds, 86_400),
		businessDay: in.GetAggregation() == "BUSINESS_DAY",
		byDest:      in.GetGroupByDest(),
		minCount:    int(registry.Or(in.MinSplitCount, 3)),
		sumFraction: registry.Or(in.MinSumFraction, 1.0),
		near:        registry.Or(in.NearFraction, 0.7),
		tz:          in.GetTzOffsetSeconds(),
		txs:         txn.Sorted(in.GetTransactions(), order),
	}, nil
}

type groupKey struct{ src, dst string }

// classify returns the level of one window's transactions, "" for NORMAL
// or not a candidate.
func (j *job) classify(w []*financev1.Transaction) string {
	var sum float64
	near := 0
	for _, tx := range w {
		sum += tx.GetAmount()
		if tx.GetAmount() >= j.near*j.t {
			near++
		}
	}
	if len(w) < j.minCount || !(sum > j.sumFraction*j.t) {
		return ""
	}
	within := 0.95*j.t <= sum && sum <= 1.05*j.t
	mean := sum / float64(len(w))
	uniform := true
	for _, tx := range w {
		if math.Abs(tx.GetAmount()-mean) > 0.3*mean {
			uniform = false
		}
	}
	switch {
	case within && uniform:
		return "CRITICAL"
	case within || near >= 3:
		return "HIGH"
	case len(w) >= 5 && sum > j.t:
		return "ELEVATED"
	}
	return ""
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func run(ctx context.Context, j *job) (*compliancev1.FlowSplitOutput, error) {
	out := &compliancev1.FlowSplitOutput{}
	groups := map[groupKey][]*financev1.Transaction{}
	var keys []groupKey
	for _, tx := range j.txs {
		out.TotalVolume += tx.GetAmount()
		if !(tx.GetAmount() <= j.t) {
			continue
		}
		k := groupKey{src: tx.GetSourceId()}
		if j.byDest {
			k.dst = tx.GetDestId()
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], tx)
	}
	type found struct {
		s  *compliancev1.Split
		ts int64 // first tx ts
	}
	var splits []found
	emit := func(w []*financev1.Transaction, lvl string) {
		s := &compliancev1.Split{Source: w[0].GetSourceId(), Level: lvl,
			SpanS: w[len(w)-1].GetTs() - w[0].GetTs()}
		for _, tx := range w {
			s.TxIds = append(s.TxIds, tx.GetId())
			s.Amounts = append(s.Amounts, tx.GetAmount())
			s.Total += tx.GetAmount()
			if !slices.Contains(s.DestEntities, tx.GetDestId()) {
				s.DestEntities = append(s.DestEntities, tx.GetDestId())
			}
		}
		slices.Sort(s.DestEntities)
		splits = append(splits, found{s, w[0].GetTs()})
	}
	for gi, k := range keys {
		if gi%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		g := groups[k]
		if j.businessDay {
			for lo := 0; lo < len(g); {
				day := floorDiv(g[lo].GetTs()+j.tz, 86_400)
				hi := lo
				for hi < len(g) && floorDiv(g[hi].GetTs()+j.tz, 86_400) == day {
					hi++
				}
				if lvl := j.classify(g[lo:hi]); lvl != "" {
					emit(g[lo:hi], lvl)
				}
				lo = hi
			}
			continue
		}
		for i := 0; i < len(g); {
			end := i
			limit := g[i].GetTs() + j.w
			for end < len(g) && (g[end].GetTs() < limit || limit < g[i].GetTs()) {
				end++
			}
			if lvl := j.classify(g[i:end]); lvl != "" {
				emit(g[i:end], lvl)
				i = end
			} else {
				i++
			}
		}
	}
	// Order (source, first tx ts, first tx id).
	slices.SortStableFunc(splits, func(a, b found) int {
		if c := cmp.Compare(a.s.Source, b.s.Source); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ts, b.ts); c != 0 {
			return c
		}
		return cmp.Compare(a.s.TxIds[0], b.s.TxIds[0])
	})
	for _, f := range splits {
		out.Splits = append(out.Splits, f.s)
	}
	structuring := map[string]bool{}
	high, critical := 0, 0
	for _, s := range out.Splits {
		out.SplitVolume += s.Total
		switch s.Level {
		case "CRITICAL":
			critical++
			structuring[s.Source] = true
		case "HIGH":
			high++
			structuring[s.Source] = true
		}
	}
	for id := range structuring {
		out.StructuringEntities = append(out.StructuringEntities, id)
	}
	slices.Sort(out.StructuringEntities)
	out.SplitRatio = txn.Ratio(out.SplitVolume, out.TotalVolume)
	out.RiskScore = min(100, 5*float64(len(out.Splits))+15*float64(high)+25*float64(critical)+
		10*float64(len(out.StructuringEntities)))
	return out, nil
}
