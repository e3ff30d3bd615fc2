// Package eventlog turns the wire form of an event log into traces: the
// one trace builder every procint kernel shares. A trace is the events of
// one case stable-sorted by ts (ties keep input order); traces are listed
// in case id order (bytewise); activities are interned to dense codes in
// sorted name order, so every kernel's output order follows from the codes.
package eventlog

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// Start and End are the artificial start and end activities (▶, ■). They
// are reserved: no event may carry them as its activity.
const (
	Start = "▶"
	End   = "■"
)

// Log is a validated event log in trace form.
type Log struct {
	// Acts are the distinct activity names, sorted; codes index it.
	Acts []string
	// Cases are the case ids, sorted; Traces[i] belongs to Cases[i].
	Cases []string
	// Traces hold activity codes per case, ts-sorted.
	Traces [][]int32
	// TS holds the timestamps parallel to Traces.
	TS [][]int64
	// Index holds the input index of each trace event, parallel to Traces.
	Index [][]int32
	// Events is the number of events.
	Events int
}

// Check validates the events of an input whose list field is named field:
// the size limit, unique ids, reserved activity names and attribute values.
func Check(ctx context.Context, field string, events []*procintv1.Event) error {
	if err := limits.Check(field, len(events), limits.From(ctx).MaxSamples); err != nil {
		return err
	}
	// The first repeated id, found by hashing (hashgroup.go); the loop
	// reports it where an in-order scan would, among the other checks.
	dup := firstRepeat(len(events), func(i int) string { return events[i].GetId() })
	for i, e := range events {
		if i&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		at := func(sub string) string { return field + "[" + strconv.Itoa(i) + "]." + sub }
		if i == dup {
			return kerr.Invalid(at("id"), "duplicate event id %q", e.GetId())
		}
		if a := e.GetActivity(); a == Start || a == End {
			return kerr.Invalid(at("activity"), "%q is reserved for the artificial start or end", a)
		}
		if attrs := e.GetAttributes(); len(attrs) > 0 { // the field path only when there is something to check
			if err := CheckAttributes(at("attributes"), attrs); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckAttributes accepts strings, finite numbers, booleans and lists of
// those; nulls, objects and non-finite numbers are rejected.
func CheckAttributes(field string, attrs map[string]*structpb.Value) error {
	for _, k := range sortedKeys(attrs) {
		if err := checkValue(field+"."+k, attrs[k], true); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string]*structpb.Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func checkValue(field string, v *structpb.Value, listOK bool) error {
	switch x := v.GetKind().(type) {
	case *structpb.Value_StringValue, *structpb.Value_BoolValue:
		return nil
	case *structpb.Value_NumberValue:
		if math.IsNaN(x.NumberValue) || math.IsInf(x.NumberValue, 0) {
			return kerr.Invalid(field, "must be finite")
		}
		return nil
	case *structpb.Value_ListValue:
		if !listOK {
			return kerr.Invalid(field, "lists cannot nest")
		}
		for i, item := range x.ListValue.GetValues() {
			if err := checkValue(field+"["+strconv.Itoa(i)+"]", item, false); err != nil {
				return err
			}
		}
		return nil
	}
	return kerr.Invalid(field, "must be a string, a number, a boolean or a list of those")
}

// Build groups checked events into traces. It honours ctx.
//
// Cases are grouped by hashing their ids (hashgroup.go) rather than by a
// map lookup per event; the activities, few, go through a map.
func Build(ctx context.Context, events []*procintv1.Event) (*Log, error) {
	n := len(events)
	caseID := func(i int) string { return events[i].GetCaseId() }
	actOf := make(map[string]int32)
	var actNames []string
	type rec struct { // one event's activity and ts, read together when traces are gathered
		ts  int64
		act int32
	}
	recs := make([]rec, n)
	for i, e := range events {
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		a, ok := actOf[e.GetActivity()]
		if !ok {
			a = int32(len(actNames))
			actOf[e.GetActivity()] = a
			actNames = append(actNames, e.GetActivity())
		}
		recs[i] = rec{e.GetTs(), a}
	}
	spans, members := groupSpans(n, caseID)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cases := spans
	// Case id order: the first eight bytes as a big-endian integer decide
	// most comparisons without touching the strings.
	slices.SortFunc(cases, func(a, b span) int {
		if a.prefix != b.prefix {
			if a.prefix < b.prefix {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	actRank := rank(actNames)
	l := &Log{
		Acts:   sortedCopy(actNames),
		Cases:  make([]string, len(cases)),
		Traces: make([][]int32, len(cases)),
		TS:     make([][]int64, len(cases)),
		Index:  make([][]int32, len(cases)),
		Events: n,
	}
	// One backing array per field, cut into traces in case id order.
	acts := make([]int32, n)
	tss := make([]int64, n)
	idx := make([]int32, n)
	off := 0
	for r, c := range cases {
		if r&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		l.Cases[r] = c.name
		k := int(c.end - c.start)
		ta, tt, ti := acts[off:off+k:off+k], tss[off:off+k:off+k], idx[off:off+k:off+k]
		for j, i := range members[c.start:c.end] {
			ta[j], tt[j], ti[j] = actRank[recs[i].act], recs[i].ts, i
		}
		sortTrace(ta, tt, ti)
		l.Traces[r], l.TS[r], l.Index[r] = ta, tt, ti
		off += k
	}
	return l, nil
}

// prefix8 is s's first eight bytes as a big-endian integer, zero-padded:
// their order is the strings' bytewise order up to ties.
func prefix8(s string) uint64 {
	var p uint64
	for k := 0; k < 8; k++ {
		p <<= 8
		if k < len(s) {
			p |= uint64(s[k])
		}
	}
	return p
}

// sortTrace stable-sorts one trace by ts: in place by insertion when short
// or already nearly sorted (logs usually are), by a stable sort of a
// permutation otherwise.
func sortTrace(acts []int32, ts []int64, idx []int32) {
	if slices.IsSorted(ts) {
		return
	}
	if len(ts) <= 32 {
		for x := 1; x < len(ts); x++ {
			for y := x; y > 0 && ts[y] < ts[y-1]; y-- {
				ts[y], ts[y-1] = ts[y-1], ts[y]
				acts[y], acts[y-1] = acts[y-1], acts[y]
				idx[y], idx[y-1] = idx[y-1], idx[y]
			}
		}
		return
	}
	perm := make([]int, len(ts))
	for i := range perm {
		perm[i] = i
	}
	sort.SliceStable(perm, func(a, b int) bool { return ts[perm[a]] < ts[perm[b]] })
	a2 := slices.Clone(acts)
	t2 := slices.Clone(ts)
	i2 := slices.Clone(idx)
	for k, p := range perm {
		acts[k], ts[k], idx[k] = a2[p], t2[p], i2[p]
	}
}

// rank maps each name's first-appearance code to its position in sorted
// order.
func rank(names []string) []int32 {
	order := make([]int32, len(names))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(names[a], names[b]) })
	r := make([]int32, len(names))
	for pos, code := range order {
		r[code] = int32(pos)
	}
	return r
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

// ByTS returns the input indices of events stable-sorted by ts: the order
// in which a ring fold receives them.
func ByTS(n int, ts func(int) int64) []int {
	keys := make([]int64, n)
	order := make([]int, n)
	for i := range order {
		order[i] = i
		keys[i] = ts(i)
	}
	if slices.IsSorted(keys) {
		return order
	}
	// (ts, index) is a total order, so an unstable sort is stable here.
	slices.SortFunc(order, func(a, b int) int {
		if keys[a] != keys[b] {
			if keys[a] < keys[b] {
				return -1
			}
			return 1
		}
		return a - b
	})
	return order
}
