// Package logimputation is procint/log-imputation: order repair, duplicate
// removal, model-based recovery of missing events and boundary checks
// (Suriadi et al. 2017 imperfection patterns; cf. Wang, Song et al. 2013).
package logimputation

import (
	"context"
	"slices"

	"google.golang.org/protobuf/proto"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Job is the input with its defaults applied.
type Job struct {
	In            *procintv1.LogImputationInput
	Log           *eventlog.Log
	DupSeconds    int64
	MinSupport    float64
	MinConfidence float64
}

// Kernel is procint/log-imputation.
var Kernel = registry.Def[*procintv1.LogImputationInput, *procintv1.LogImputationOutput, *Job]{
	Meta: registry.Meta{
		ID:     "procint/log-imputation",
		Domain: registry.DomainProcInt,
		Description: "Event-log repair: order repair, duplicate removal, recovery of missing events from a " +
			"directly-follows model, incomplete start/end flags, quality before and after.",
	},
	Prepare: func(ctx context.Context, in *procintv1.LogImputationInput) (*Job, error) {
		if err := eventlog.Check(ctx, "events", in.GetEvents()); err != nil {
			return nil, err
		}
		l, err := eventlog.Build(ctx, in.GetEvents())
		if err != nil {
			return nil, err
		}
		return &Job{In: in, Log: l, DupSeconds: registry.Or(in.DuplicateSeconds, 60),
			MinSupport: registry.Or(in.MinSupport, 0.1), MinConfidence: registry.Or(in.MinConfidence, 0.5)}, nil
	},
	CPU: Run,
}

type ev struct {
	e   *procintv1.Event // nil when imputed
	act string
	ts  int64
}

type issue = procintv1.Imperfection

// Run repairs the log.
func Run(ctx context.Context, j *Job) (*procintv1.LogImputationOutput, error) {
	l, evs := j.Log, j.In.GetEvents()
	type caseWork struct {
		kept   []ev
		issues []*issue
	}
	work := make([]caseWork, len(l.Cases))
	// Stages 1 and 2.
	for c, idx := range l.Index {
		if c&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		w := &work[c]
		orig := slices.Clone(idx)
		slices.Sort(orig) // input order of the case's events
		for k, i := range idx {
			if orig[k] != i {
				w.issues = append(w.issues, &issue{Type: "OUT_OF_ORDER", CaseId: l.Cases[c], Position: int32(k), Confidence: 1})
			}
		}
		for _, i := range idx {
			e := evs[i]
			if n := len(w.kept); n > 0 {
				last := w.kept[n-1].e
				if last.GetActivity() == e.GetActivity() && last.GetResource() == e.GetResource() &&
					sameAttrs(last, e) && e.GetTs()-last.GetTs() <= j.DupSeconds {
					w.issues = append(w.issues, &issue{Type: "DUPLICATE", CaseId: l.Cases[c], Position: int32(n), Confidence: 1})
					continue
				}
			}
			w.kept = append(w.kept, ev{e: e, act: e.GetActivity(), ts: e.GetTs()})
		}
	}
	// Stage 3: the model.
	type pair struct{ a, b string }
	count := map[pair]float64{}
	gapSum := map[pair]float64{}
	gapN := map[pair]float64{}
	var support map[pair]float64
	traces := float64(len(work))
	for _, w := range work {
		for k := 1; k < len(w.kept); k++ {
			p := pair{w.kept[k-1].act, w.kept[k].act}
			count[p]++
			gapSum[p] += float64(w.kept[k].ts - w.kept[k-1].ts)
			gapN[p]++
		}
	}
	if m := j.In.GetDfg(); m != nil {
		count, support = map[pair]float64{}, map[pair]float64{}
		var total float64
		for _, e := range m.GetEdges() {
			total += float64(e.GetCount())
		}
		for _, e := range m.GetEdges() {
			p := pair{e.GetSource(), e.GetTarget()}
			count[p] += float64(e.GetCount())
			if total > 0 {
				support[p] += float64(e.GetCount()) / total
			}
		}
	} else {
		// Recount support as traces containing the pair / traces exactly.
		support = map[pair]float64{}
		for _, w := range work {
			seen := map[pair]bool{}
			for k := 1; k < len(w.kept); k++ {
				seen[pair{w.kept[k-1].act, w.kept[k].act}] = true
			}
			for p := range seen {
				support[p]++
			}
		}
		for p := range support {
			support[p] /= traces
		}
	}
	outTotal := map[string]float64{}
	actSet := map[string]bool{}
	for p, c := range count {
		outTotal[p.a] += c
		actSet[p.a], actSet[p.b] = true, true
	}
	acts := make([]string, 0, len(actSet))
	for a := range actSet {
		acts = append(acts, a)
	}
	slices.Sort(acts)
	prob := func(a, b string) float64 {
		if outTotal[a] == 0 {
			return 0
		}
		return count[pair{a, b}] / outTotal[a]
	}
	meanGap := func(p pair) float64 {
		if gapN[p] == 0 {
			return 0
		}
		return gapSum[p] / gapN[p]
	}
	startCnt, endCnt := map[string]int{}, map[string]int{}
	for _, w := range work {
		startCnt[w.kept[0].act]++
		endCnt[w.kept[len(w.kept)-1].act]++
	}
	out := &procintv1.LogImputationOutput{}
	var nIssues, nRepairs int64
	for c, w := range work {
		if c&255 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		// Stage 4: one pass over the kept pairs.
		final := []ev{w.kept[0]}
		var missing []*issue
		for k := 1; k < len(w.kept); k++ {
			a, b := w.kept[k-1], w.kept[k]
			if support[pair{a.act, b.act}] < j.MinSupport {
				best, bestP := "", -1.0
				for _, x := range acts {
					if support[pair{a.act, x}] < j.MinSupport || support[pair{x, b.act}] < j.MinSupport {
						continue
					}
					if p := prob(a.act, x) * prob(x, b.act); p > bestP {
						best, bestP = x, p
					}
				}
				if best != "" && bestP >= j.MinConfidence {
					d1, d2 := meanGap(pair{a.act, best}), meanGap(pair{best, b.act})
					span := b.ts - a.ts
					off := span / 2
					if d1+d2 > 0 {
						off = int64(float64(span) * d1 / (d1 + d2))
					}
					final = append(final, ev{act: best, ts: a.ts + off})
					missing = append(missing, &issue{Type: "MISSING_EVENT", CaseId: l.Cases[c],
						Position: int32(len(final) - 1), Confidence: bestP})
				}
			}
			final = append(final, b)
		}
		tr := &procintv1.RepairedTrace{CaseId: l.Cases[c]}
		for _, e := range final {
			re := &procintv1.RepairedEvent{Activity: e.act, Ts: e.ts}
			if e.e != nil {
				id := e.e.GetId()
				re.OriginalId = &id
				re.Resource = e.e.GetResource()
			} else {
				re.Imputed = true
			}
			tr.Events = append(tr.Events, re)
		}
		out.Traces = append(out.Traces, tr)
		issues := append(w.issues, missing...)
		for _, is := range issues {
			out.Repairs = append(out.Repairs, proto.Clone(is).(*issue))
		}
		nRepairs += int64(len(issues))
		first, last := w.kept[0].act, w.kept[len(w.kept)-1].act
		if s := float64(startCnt[first]) / traces; s < j.MinSupport {
			issues = append(issues, &issue{Type: "INCOMPLETE_START", CaseId: l.Cases[c], Position: 0, Confidence: 1 - s})
		}
		if s := float64(endCnt[last]) / traces; s < j.MinSupport {
			issues = append(issues, &issue{Type: "INCOMPLETE_END", CaseId: l.Cases[c], Position: int32(len(final) - 1), Confidence: 1 - s})
		}
		out.Issues = append(out.Issues, issues...)
		nIssues += int64(len(issues))
	}
	den := float64(l.Events + len(l.Cases))
	st := &procintv1.ImputationStats{Events: int64(l.Events), Traces: int64(len(l.Cases)), QualityBefore: 1, QualityAfter: 1}
	if den > 0 {
		st.QualityBefore = 1 - float64(nIssues)/den
		st.QualityAfter = 1 - float64(nIssues-nRepairs)/den
	}
	out.Stats = st
	return out, nil
}

func sameAttrs(a, b *procintv1.Event) bool {
	x, y := a.GetAttributes(), b.GetAttributes()
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		w, ok := y[k]
		if !ok || !proto.Equal(v, w) {
			return false
		}
	}
	return true
}
