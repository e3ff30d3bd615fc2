// Package ocpm is procint/ocpm-patterns: object-centric process mining on
// an OCEL 2.0-lite log — per object type flattening with OC-DFGs and
// variants, convergence and divergence (van der Aalst 2019), type and
// object interactions, and batching.
package ocpm

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/procint/dfgconstruction"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Job is the validated log: per event its distinct related objects.
type Job struct {
	In       *procintv1.OcpmPatternsInput
	TypeOf   map[string]string
	Rel      [][]string // per event, distinct object ids in relationship order
	MinShare int64
	Gap      int64
}

// Kernel is procint/ocpm-patterns.
var Kernel = registry.Def[*procintv1.OcpmPatternsInput, *procintv1.OcpmPatternsOutput, *Job]{
	Meta: registry.Meta{
		ID:     "procint/ocpm-patterns",
		Domain: registry.DomainProcInt,
		Description: "Object-centric process mining on OCEL 2.0-lite: per-type OC-DFGs and variants, convergence " +
			"and divergence, type and object interactions, batching.",
	},
	Prepare: prepare,
	CPU:     Run,
}

func prepare(ctx context.Context, in *procintv1.OcpmPatternsInput) (*Job, error) {
	lim := limits.From(ctx)
	if err := limits.Check("objects", len(in.GetObjects()), lim.MaxNodes); err != nil {
		return nil, err
	}
	if err := limits.Check("events", len(in.GetEvents()), lim.MaxSamples); err != nil {
		return nil, err
	}
	j := &Job{In: in, TypeOf: map[string]string{}, MinShare: int64(registry.Or(in.MinShared, 2)),
		Gap: registry.Or(in.BatchGapSeconds, 60)}
	for i, o := range in.GetObjects() {
		f := "objects[" + strconv.Itoa(i) + "]"
		if _, dup := j.TypeOf[o.GetId()]; dup {
			return nil, kerr.Invalid(f+".id", "duplicate object id %q", o.GetId())
		}
		j.TypeOf[o.GetId()] = o.GetType()
		if err := eventlog.CheckAttributes(f+".attributes", o.GetAttributes()); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	var pairs int64
	for i, e := range in.GetEvents() {
		f := "events[" + strconv.Itoa(i) + "]"
		if seen[e.GetId()] {
			return nil, kerr.Invalid(f+".id", "duplicate event id %q", e.GetId())
		}
		seen[e.GetId()] = true
		var objs []string
		has := map[string]bool{}
		for k, r := range e.GetRelationships() {
			if _, ok := j.TypeOf[r.GetObjectId()]; !ok {
				return nil, kerr.Invalid(f+".relationships["+strconv.Itoa(k)+"].object_id", "unknown object %q", r.GetObjectId())
			}
			if !has[r.GetObjectId()] {
				has[r.GetObjectId()] = true
				objs = append(objs, r.GetObjectId())
			}
		}
		pairs += int64(len(objs)) * int64(len(objs)-1) / 2
		j.Rel = append(j.Rel, objs)
	}
	if pairs > int64(lim.MaxEdges) {
		return nil, kerr.Invalid("events", "%d object pairs share events, over the edge limit of %d", pairs, lim.MaxEdges)
	}
	return j, nil
}

// Run computes the patterns.
func Run(ctx context.Context, j *Job) (*procintv1.OcpmPatternsOutput, error) {
	evs := j.In.GetEvents()
	types := map[string]bool{}
	for _, t := range j.TypeOf {
		types[t] = true
	}
	typeList := make([]string, 0, len(types))
	for t := range types {
		typeList = append(typeList, t)
	}
	slices.Sort(typeList)
	out := &procintv1.OcpmPatternsOutput{}
	for _, ot := range typeList {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		view, err := flatten(ctx, j, ot, typeList)
		if err != nil {
			return nil, err
		}
		out.ObjectTypes = append(out.ObjectTypes, view)
	}
	// Interactions.
	typePairs := map[[2]string]int64{}
	objPairs := map[[2]string]int64{}
	for i, objs := range j.Rel {
		if i&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ts := map[string]bool{}
		for _, o := range objs {
			ts[j.TypeOf[o]] = true
		}
		tl := make([]string, 0, len(ts))
		for t := range ts {
			tl = append(tl, t)
		}
		slices.Sort(tl)
		for a := range tl {
			for b := a + 1; b < len(tl); b++ {
				typePairs[[2]string{tl[a], tl[b]}]++
			}
		}
		for a := range objs {
			for b := a + 1; b < len(objs); b++ {
				x, y := objs[a], objs[b]
				if y < x {
					x, y = y, x
				}
				objPairs[[2]string{x, y}]++
			}
		}
	}
	for p, n := range typePairs {
		out.TypeInteractions = append(out.TypeInteractions, &procintv1.TypeInteraction{TypeA: p[0], TypeB: p[1], Events: n})
	}
	slices.SortFunc(out.TypeInteractions, func(x, y *procintv1.TypeInteraction) int {
		if c := strings.Compare(x.TypeA, y.TypeA); c != 0 {
			return c
		}
		return strings.Compare(x.TypeB, y.TypeB)
	})
	for p, n := range objPairs {
		if n >= j.MinShare {
			out.ObjectInteractions = append(out.ObjectInteractions, &procintv1.ObjectInteraction{ObjectA: p[0], ObjectB: p[1], SharedEvents: n})
		}
	}
	slices.SortFunc(out.ObjectInteractions, func(x, y *procintv1.ObjectInteraction) int {
		if x.SharedEvents != y.SharedEvents {
			if x.SharedEvents > y.SharedEvents {
				return -1
			}
			return 1
		}
		if c := strings.Compare(x.ObjectA, y.ObjectA); c != 0 {
			return c
		}
		return strings.Compare(x.ObjectB, y.ObjectB)
	})
	// Batching: per activity, events stable-sorted by ts, cut at gaps > Gap.
	order := eventlog.ByTS(len(evs), func(i int) int64 { return evs[i].GetTs() })
	byAct := map[string][]int{}
	var acts []string
	for _, i := range order {
		a := evs[i].GetActivity()
		if byAct[a] == nil {
			acts = append(acts, a)
		}
		byAct[a] = append(byAct[a], i)
	}
	for _, a := range acts {
		list := byAct[a]
		for s := 0; s < len(list); {
			e := s + 1
			for e < len(list) && evs[list[e]].GetTs()-evs[list[e-1]].GetTs() <= j.Gap {
				e++
			}
			objs := map[string]bool{}
			for _, i := range list[s:e] {
				for _, o := range j.Rel[i] {
					objs[o] = true
				}
			}
			if e-s >= 2 && len(objs) >= 3 {
				b := &procintv1.Batch{Activity: a, StartTs: evs[list[s]].GetTs(), EndTs: evs[list[e-1]].GetTs(), Objects: int64(len(objs))}
				for _, i := range list[s:e] {
					b.EventIds = append(b.EventIds, evs[i].GetId())
				}
				out.Batches = append(out.Batches, b)
			}
			s = e
		}
	}
	slices.SortStableFunc(out.Batches, func(x, y *procintv1.Batch) int {
		if x.StartTs != y.StartTs {
			if x.StartTs < y.StartTs {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Activity, y.Activity)
	})
	return out, nil
}

// flatten builds the view of object type ot.
func flatten(ctx context.Context, j *Job, ot string, types []string) (*procintv1.ObjectTypeView, error) {
	evs := j.In.GetEvents()
	var flat []*procintv1.Event
	conv := map[string][2]int64{}
	for i, objs := range j.Rel {
		var k int64
		for _, o := range objs {
			if j.TypeOf[o] == ot {
				k++
				flat = append(flat, &procintv1.Event{CaseId: o, Activity: evs[i].GetActivity(), Ts: evs[i].GetTs(), Id: strconv.Itoa(i)})
			}
		}
		if k > 1 {
			c := conv[evs[i].GetActivity()]
			conv[evs[i].GetActivity()] = [2]int64{c[0] + 1, c[1] + k - 1}
		}
	}
	l, err := eventlog.Build(ctx, flat)
	if err != nil {
		return nil, err
	}
	d, err := dfgconstruction.Run(ctx, &dfgconstruction.Job{Log: l, MinEdgeCount: 1, TopVariants: math.MaxInt})
	if err != nil {
		return nil, err
	}
	v := &procintv1.ObjectTypeView{Type: ot, Edges: d.Edges, Start: d.Start, End: d.End, Variants: d.Variants,
		Relations: int64(len(flat))}
	for _, a := range sortedKeys(conv) {
		v.Convergence = append(v.Convergence, &procintv1.Convergence{Activity: a, Events: conv[a][0], Replication: conv[a][1]})
	}
	// Divergence: per object, its events of each activity occurring twice or
	// more; divergent when some other type's related-object sets differ.
	div := map[string]int64{}
	for _, idx := range l.Index {
		byAct := map[string][]int{}
		for _, fi := range idx {
			ei, _ := strconv.Atoi(flat[fi].GetId())
			byAct[flat[fi].GetActivity()] = append(byAct[flat[fi].GetActivity()], ei)
		}
		for a, list := range byAct {
			if len(list) < 2 {
				continue
			}
			if diverges(j, list, ot, types) {
				div[a]++
			}
		}
	}
	for _, a := range sortedKeys(div) {
		v.Divergence = append(v.Divergence, &procintv1.Divergence{Activity: a, Objects: div[a]})
	}
	return v, nil
}

func diverges(j *Job, events []int, ot string, types []string) bool {
	for _, t := range types {
		if t == ot {
			continue
		}
		var first string
		for k, ei := range events {
			var ids []string
			for _, o := range j.Rel[ei] {
				if j.TypeOf[o] == t {
					ids = append(ids, o)
				}
			}
			slices.Sort(ids)
			key := strings.Join(ids, "\x00")
			if k == 0 {
				first = key
			} else if key != first {
				return true
			}
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
