// Package dfgconstruction is procint/dfg-construction: the directly-follows
// graph of an event log with per-edge gap statistics and variants.
package dfgconstruction

import (
	"context"
	"slices"
	"sort"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/procint/dfg"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Job is a built log with the options.
type Job struct {
	Log          *eventlog.Log
	StartEnd     bool
	MinEdgeCount int64
	TopVariants  int
}

// Kernel is procint/dfg-construction.
var Kernel = registry.Def[*procintv1.DfgConstructionInput, *procintv1.DfgConstructionOutput, *Job]{
	Meta: registry.Meta{
		ID:     "procint/dfg-construction",
		Domain: registry.DomainProcInt,
		Description: "Directly-follows graph (van der Aalst 2016): activity, start and end counts, edges with " +
			"mean/median/min/max gaps, variants (equals a pandas groupby/shift/value_counts reference).",
	},
	Prepare: prepare,
	CPU:     Run,
	Estimate: func(in *procintv1.DfgConstructionInput) registry.Cost {
		n := int64(len(in.GetEvents()))
		return registry.Cost{WorkingBytes: 64 * n, OutputBytes: 64 * n, Work: float64(n)}
	},
}

func prepare(ctx context.Context, in *procintv1.DfgConstructionInput) (*Job, error) {
	if err := eventlog.Check(ctx, "events", in.GetEvents()); err != nil {
		return nil, err
	}
	j := &Job{StartEnd: in.GetIncludeStartEnd(), MinEdgeCount: 1, TopVariants: 10}
	if in.MinEdgeCount != nil {
		j.MinEdgeCount = in.GetMinEdgeCount()
	}
	if in.TopVariants != nil {
		if in.GetTopVariants() < 0 {
			return nil, kerr.Invalid("top_variants", "must be >= 0, got %d", in.GetTopVariants())
		}
		j.TopVariants = int(in.GetTopVariants())
	}
	l, err := eventlog.Build(ctx, in.GetEvents())
	if err != nil {
		return nil, err
	}
	j.Log = l
	return j, nil
}

// Run computes the DFG output of a prepared job.
func Run(ctx context.Context, j *Job) (*procintv1.DfgConstructionOutput, error) {
	l := j.Log
	g, err := dfg.Build(ctx, l, true)
	if err != nil {
		return nil, err
	}
	out := &procintv1.DfgConstructionOutput{
		TraceCount: int64(len(l.Traces)),
		EventCount: int64(l.Events),
	}
	for a, name := range l.Acts {
		out.Activities = append(out.Activities, &procintv1.ActivityCount{Activity: name, Count: g.ActCount[a]})
		if g.Start[a] > 0 {
			out.Start = append(out.Start, &procintv1.ActivityCount{Activity: name, Count: g.Start[a]})
		}
		if g.End[a] > 0 {
			out.End = append(out.End, &procintv1.ActivityCount{Activity: name, Count: g.End[a]})
		}
	}
	for _, e := range g.Edges {
		if e.Count < j.MinEdgeCount {
			continue
		}
		mean, med, lo, hi := dfg.GapStats(e.Gaps)
		out.Edges = append(out.Edges, &procintv1.DfgEdgeStats{
			Source: l.Acts[e.Source], Target: l.Acts[e.Target], Count: e.Count,
			MeanGapS: mean, MedianGapS: med, MinGapS: lo, MaxGapS: hi,
		})
	}
	if j.StartEnd {
		for a, name := range l.Acts {
			if g.Start[a] > 0 && g.Start[a] >= j.MinEdgeCount {
				out.Edges = append(out.Edges, &procintv1.DfgEdgeStats{Source: eventlog.Start, Target: name, Count: g.Start[a]})
			}
			if g.End[a] > 0 && g.End[a] >= j.MinEdgeCount {
				out.Edges = append(out.Edges, &procintv1.DfgEdgeStats{Source: name, Target: eventlog.End, Count: g.End[a]})
			}
		}
	}
	sort.Slice(out.Edges, func(x, y int) bool {
		a, b := out.Edges[x], out.Edges[y]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Target < b.Target
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	variants := Variants(l)
	out.VariantCount = int64(len(variants))
	for i := 0; i < len(variants) && i < j.TopVariants; i++ {
		v := &procintv1.Variant{Count: variants[i].Count}
		for _, a := range variants[i].Trace {
			v.Activities = append(v.Activities, l.Acts[a])
		}
		out.Variants = append(out.Variants, v)
	}
	return out, nil
}

// Variant is a distinct activity sequence and its trace count.
type Variant struct {
	Trace []int32
	Count int64
}

// Variants lists the distinct traces sorted (−count, sequence); codes
// follow name order, so code order is the element-wise bytewise order.
func Variants(l *eventlog.Log) []Variant {
	idx := map[string]int{}
	var vs []Variant
	buf := make([]byte, 0, 64)
	for _, tr := range l.Traces {
		buf = buf[:0]
		for _, a := range tr {
			buf = append(buf, byte(a), byte(a>>8), byte(a>>16), byte(a>>24))
		}
		if i, ok := idx[string(buf)]; ok {
			vs[i].Count++
			continue
		}
		idx[string(buf)] = len(vs)
		vs = append(vs, Variant{Trace: tr, Count: 1})
	}
	slices.SortFunc(vs, func(a, b Variant) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return slices.Compare(a.Trace, b.Trace)
	})
	return vs
}
