// Package causalgraph is behavioral/causal-graph: a first-order transition
// graph of event types per user (or per user session) with upstream's lag,
// strength and count filters, reduced to the greedy maximum-strength DAG,
// with optional Granger (1969) ssr-F tests of its edges on binned counts.
package causalgraph

import (
	"context"
	"slices"
	"strings"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Job is the events in ts order with the options.
type Job struct {
	Events      []*behavioralv1.UserEvent
	MaxLag      int64
	MinStrength float64
	MinCount    int64
	BySession   bool
	Granger     *behavioralv1.GrangerOptions
}

// Kernel is behavioral/causal-graph.
var Kernel = registry.Def[*behavioralv1.CausalGraphInput, *behavioralv1.CausalGraphOutput, *Job]{
	Meta: registry.Meta{
		ID:     "behavioral/causal-graph",
		Domain: registry.DomainBehavioral,
		Description: "First-order transition DAG of event types per user (greedy maximum-strength acyclic subgraph) " +
			"with roots, effects and optional Granger ssr-F tests (equals statsmodels grangercausalitytests).",
	},
	Prepare: func(ctx context.Context, in *behavioralv1.CausalGraphInput) (*Job, error) {
		if err := userevent.Check(ctx, "events", in.GetEvents()); err != nil {
			return nil, err
		}
		j := &Job{Events: userevent.Sorted(in.GetEvents()), MaxLag: registry.Or(in.MaxLagSeconds, 3600),
			MinStrength: registry.Or(in.MinStrength, 0.1), MinCount: registry.Or(in.MinCount, 3),
			BySession: in.GetGroupBySession(), Granger: in.GetGranger()}
		if g := j.Granger; g != nil && len(j.Events) > 0 {
			span := (j.Events[len(j.Events)-1].GetTs()-j.Events[0].GetTs())/g.GetBinSeconds() + 1
			if span < 0 || int(span) > limits.From(ctx).MaxSeriesLength {
				return nil, kerr.Invalid("granger.bin_seconds", "the input spans more bins than the series limit of %d",
					limits.From(ctx).MaxSeriesLength)
			}
		}
		return j, nil
	},
	CPU: Run,
}

type pair struct{ a, b string }

type acc struct {
	count  int64
	lagSum float64
}

// Run builds the graph.
func Run(ctx context.Context, j *Job) (*behavioralv1.CausalGraphOutput, error) {
	n := len(j.Events)
	typeCount := map[string]int64{}
	last := map[string]*behavioralv1.UserEvent{} // group key -> previous event
	trans := map[pair]*acc{}
	outTotal := map[string]int64{}
	for i, e := range j.Events {
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		typeCount[e.GetEventType()]++
		key := e.GetUserId()
		if j.BySession && e.GetSessionId() != "" {
			key += "\x00" + e.GetSessionId()
		}
		prev := last[key]
		last[key] = e
		if prev == nil {
			continue
		}
		lag := e.GetTs() - prev.GetTs()
		if lag > j.MaxLag || prev.GetEventType() == e.GetEventType() {
			continue
		}
		p := pair{prev.GetEventType(), e.GetEventType()}
		t := trans[p]
		if t == nil {
			t = &acc{}
			trans[p] = t
		}
		t.count++
		t.lagSum += float64(lag)
		outTotal[p.a]++
	}
	out := &behavioralv1.CausalGraphOutput{}
	types := make([]string, 0, len(typeCount))
	for t := range typeCount {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		out.Nodes = append(out.Nodes, &behavioralv1.CausalNode{Id: t, Type: t, Probability: float64(typeCount[t]) / float64(n)})
	}
	var kept []*behavioralv1.CausalEdge
	for p, t := range trans {
		s := float64(t.count) / float64(outTotal[p.a])
		if s >= j.MinStrength && t.count >= j.MinCount {
			kept = append(kept, &behavioralv1.CausalEdge{Source: p.a, Target: p.b, Strength: s, Count: t.count,
				MeanLagS: t.lagSum / float64(t.count)})
		}
	}
	slices.SortFunc(kept, func(x, y *behavioralv1.CausalEdge) int {
		if x.Strength != y.Strength {
			if x.Strength > y.Strength {
				return -1
			}
			return 1
		}
		if c := strings.Compare(x.Source, y.Source); c != 0 {
			return c
		}
		return strings.Compare(x.Target, y.Target)
	})
	adj := map[string][]string{}
	reaches := func(from, to string) bool {
		seen := map[string]bool{from: true}
		stack := []string{from}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if v == to {
				return true
			}
			for _, w := range adj[v] {
				if !seen[w] {
					seen[w] = true
					stack = append(stack, w)
				}
			}
		}
		return false
	}
	in, outDeg := map[string]int{}, map[string]int{}
	for _, e := range kept {
		if reaches(e.Target, e.Source) {
			out.DroppedCycleEdges = append(out.DroppedCycleEdges, &behavioralv1.TypePair{Source: e.Source, Target: e.Target})
			continue
		}
		adj[e.Source] = append(adj[e.Source], e.Target)
		out.Edges = append(out.Edges, e)
		in[e.Target]++
		outDeg[e.Source]++
	}
	byEnds := func(as, at, bs, bt string) int {
		if c := strings.Compare(as, bs); c != 0 {
			return c
		}
		return strings.Compare(at, bt)
	}
	slices.SortFunc(out.Edges, func(x, y *behavioralv1.CausalEdge) int { return byEnds(x.Source, x.Target, y.Source, y.Target) })
	slices.SortFunc(out.DroppedCycleEdges, func(x, y *behavioralv1.TypePair) int { return byEnds(x.Source, x.Target, y.Source, y.Target) })
	for _, t := range types {
		if in[t] == 0 && outDeg[t] > 0 {
			out.Roots = append(out.Roots, t)
		}
		if outDeg[t] == 0 && in[t] > 0 {
			out.Effects = append(out.Effects, t)
		}
	}
	if g := j.Granger; g != nil && n > 0 {
		series := map[string][]float64{}
		t0 := j.Events[0].GetTs()
		bins := int((j.Events[n-1].GetTs()-t0)/g.GetBinSeconds()) + 1
		for _, e := range j.Events {
			s := series[e.GetEventType()]
			if s == nil {
				s = make([]float64, bins)
				series[e.GetEventType()] = s
			}
			s[(e.GetTs()-t0)/g.GetBinSeconds()]++
		}
		for _, e := range out.Edges {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if f, p, ok := grangerF(series[e.Target], series[e.Source], int(g.GetMaxLag())); ok {
				e.GrangerF, e.GrangerP = &f, &p
			}
		}
	}
	return out, nil
}
