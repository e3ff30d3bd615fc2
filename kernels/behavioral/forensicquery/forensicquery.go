// Package forensicquery is behavioral/forensic-query: a declarative query
// (filters and predicates, all ANDed, then TIMELINE, SUMMARY, ANOMALY_HUNT
// or SEQUENCE_LIFT) over behavioural events. The query names fields and
// operators from fixed lists; it is validated like any input and can
// neither read files nor run code.
package forensicquery

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// pred is a compiled predicate.
type pred struct {
	field string // event field name, or the attribute name when attr
	attr  bool
	op    string
	value *structpb.Value
	re    *regexp.Regexp
}

// Job is the validated query.
type Job struct {
	In    *behavioralv1.ForensicQueryInput
	Preds []pred
	Limit int
	Hours [24]bool
}

var eventFields = map[string]bool{"event_type": true, "user_id": true, "session_id": true, "device_id": true,
	"ip": true, "location": true}

// Kernel is behavioral/forensic-query.
var Kernel = registry.Def[*behavioralv1.ForensicQueryInput, *behavioralv1.ForensicQueryOutput, *Job]{
	Meta: registry.Meta{
		ID:     "behavioral/forensic-query",
		Domain: registry.DomainBehavioral,
		Description: "Declarative forensic query: time, user and type filters and field predicates (SQL NULL " +
			"semantics), then a timeline, grouped summary, anomaly hunt or sequence lift.",
	},
	Prepare: prepare,
	CPU:     Run,
}

func prepare(ctx context.Context, in *behavioralv1.ForensicQueryInput) (*Job, error) {
	if err := userevent.Check(ctx, "events", in.GetEvents()); err != nil {
		return nil, err
	}
	j := &Job{In: in, Limit: int(registry.Or(in.Limit, 100))}
	if err := limits.Check("limit", j.Limit, limits.From(ctx).MaxOutputItems); err != nil {
		return nil, err
	}
	for i, p := range in.GetPredicates() {
		f := "predicates[" + strconv.Itoa(i) + "]"
		c := pred{op: p.GetOp(), value: p.GetValue()}
		switch name, ok := strings.CutPrefix(p.GetField(), "attr."); {
		case ok && name != "":
			c.field, c.attr = name, true
		case eventFields[p.GetField()]:
			c.field = p.GetField()
		default:
			return nil, kerr.Invalid(f+".field", "unknown field %q (event_type, user_id, session_id, device_id, ip, location or attr.<name>)", p.GetField())
		}
		if p.Value == nil {
			return nil, kerr.Invalid(f+".value", "is required")
		}
		switch v := p.GetValue().GetKind().(type) {
		case *structpb.Value_ListValue:
			if c.op != "IN" {
				return nil, kerr.Invalid(f+".value", "a list is only allowed with IN")
			}
			for k, item := range v.ListValue.GetValues() {
				if !scalar(item) {
					return nil, kerr.Invalid(f+".value["+strconv.Itoa(k)+"]", "must be a string, a finite number or a boolean")
				}
			}
		default:
			if c.op == "IN" {
				return nil, kerr.Invalid(f+".value", "IN needs a list")
			}
			if !scalar(p.GetValue()) {
				return nil, kerr.Invalid(f+".value", "must be a string, a finite number or a boolean")
			}
		}
		if c.op == "CONTAINS" || c.op == "PREFIX" || c.op == "REGEX" {
			s, ok := p.GetValue().GetKind().(*structpb.Value_StringValue)
			if !ok {
				return nil, kerr.Invalid(f+".value", "%s needs a string", c.op)
			}
			if c.op == "REGEX" {
				re, err := regexp.Compile(s.StringValue)
				if err != nil {
					return nil, kerr.Invalid(f+".value", "not an RE2 pattern: %v", err)
				}
				c.re = re
			}
		}
		j.Preds = append(j.Preds, c)
	}
	hours := in.GetUnusualHours()
	if len(hours) == 0 {
		hours = []int32{0, 1, 2, 3, 4, 5}
	}
	for _, h := range hours {
		j.Hours[h] = true
	}
	return j, nil
}

func scalar(v *structpb.Value) bool {
	switch x := v.GetKind().(type) {
	case *structpb.Value_StringValue, *structpb.Value_BoolValue:
		return true
	case *structpb.Value_NumberValue:
		return !math.IsNaN(x.NumberValue) && !math.IsInf(x.NumberValue, 0)
	}
	return false
}

// fieldValue returns an event's value of p's field, or nil when missing.
func fieldValue(e *behavioralv1.UserEvent, p *pred) *structpb.Value {
	if p.attr {
		return e.GetAttributes()[p.field]
	}
	var s string
	switch p.field {
	case "event_type":
		s = e.GetEventType()
	case "user_id":
		s = e.GetUserId()
	case "session_id":
		s = e.GetSessionId()
	case "device_id":
		s = e.GetDeviceId()
	case "ip":
		s = e.GetIp()
	case "location":
		s = e.GetLocation()
	}
	if s == "" {
		return nil
	}
	return structpb.NewStringValue(s)
}

// compare returns −1, 0 or 1 for same-kind scalars (numbers exactly) and
// false for mixed kinds.
func compare(a, b *structpb.Value) (int, bool) {
	switch x := a.GetKind().(type) {
	case *structpb.Value_NumberValue:
		y, ok := b.GetKind().(*structpb.Value_NumberValue)
		if !ok {
			return 0, false
		}
		switch {
		case x.NumberValue < y.NumberValue:
			return -1, true
		case x.NumberValue > y.NumberValue:
			return 1, true
		}
		return 0, true
	case *structpb.Value_StringValue:
		y, ok := b.GetKind().(*structpb.Value_StringValue)
		if !ok {
			return 0, false
		}
		return strings.Compare(x.StringValue, y.StringValue), true
	case *structpb.Value_BoolValue:
		y, ok := b.GetKind().(*structpb.Value_BoolValue)
		if !ok || x.BoolValue != y.BoolValue {
			return 1, ok
		}
		return 0, true
	}
	return 0, false
}

// equal is EQ: numbers within 1e-4, others exactly.
func equal(a, b *structpb.Value) (bool, bool) {
	x, okx := a.GetKind().(*structpb.Value_NumberValue)
	y, oky := b.GetKind().(*structpb.Value_NumberValue)
	if okx && oky {
		return math.Abs(x.NumberValue-y.NumberValue) <= 1e-4, true
	}
	c, ok := compare(a, b)
	return c == 0, ok
}

func (p *pred) holds(e *behavioralv1.UserEvent) bool {
	v := fieldValue(e, p)
	if v == nil {
		return false
	}
	if _, isList := v.GetKind().(*structpb.Value_ListValue); isList {
		return false
	}
	switch p.op {
	case "EQ", "NE":
		eq, ok := equal(v, p.value)
		return ok && eq == (p.op == "EQ")
	case "IN":
		for _, item := range p.value.GetListValue().GetValues() {
			if c, ok := compare(v, item); ok && c == 0 {
				return true
			}
		}
		return false
	case "CONTAINS", "PREFIX", "REGEX":
		s, ok := v.GetKind().(*structpb.Value_StringValue)
		if !ok {
			return false
		}
		switch p.op {
		case "CONTAINS":
			return strings.Contains(s.StringValue, p.value.GetStringValue())
		case "PREFIX":
			return strings.HasPrefix(s.StringValue, p.value.GetStringValue())
		}
		return p.re.MatchString(s.StringValue)
	}
	if _, isBool := v.GetKind().(*structpb.Value_BoolValue); isBool {
		return false
	}
	c, ok := compare(v, p.value)
	if !ok {
		return false
	}
	switch p.op {
	case "GT":
		return c > 0
	case "GE":
		return c >= 0
	case "LT":
		return c < 0
	}
	return c <= 0
}

// Run filters the events and runs the operation.
func Run(ctx context.Context, j *Job) (*behavioralv1.ForensicQueryOutput, error) {
	in := j.In
	users := setOf(in.GetUserIds())
	types := setOf(in.GetEventTypes())
	var matched []*behavioralv1.UserEvent
	for i, e := range userevent.Sorted(in.GetEvents()) {
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if (in.StartTs != nil && e.GetTs() < in.GetStartTs()) || (in.EndTs != nil && e.GetTs() > in.GetEndTs()) ||
			(users != nil && !users[e.GetUserId()]) || (types != nil && !types[e.GetEventType()]) {
			continue
		}
		ok := true
		for k := range j.Preds {
			if !j.Preds[k].holds(e) {
				ok = false
				break
			}
		}
		if ok {
			matched = append(matched, e)
		}
	}
	out := &behavioralv1.ForensicQueryOutput{MatchedCount: int64(len(matched))}
	tz := in.GetTzOffsetSeconds()
	switch in.GetOperation() {
	case "", "TIMELINE":
		slices.SortStableFunc(matched, func(a, b *behavioralv1.UserEvent) int {
			if a.GetTs() != b.GetTs() {
				if a.GetTs() < b.GetTs() {
					return -1
				}
				return 1
			}
			return strings.Compare(a.GetId(), b.GetId())
		})
		for k := int(in.GetOffset()); k < len(matched) && len(out.Events) < j.Limit; k++ {
			out.Events = append(out.Events, matched[k].GetId())
		}
	case "SUMMARY":
		counts := map[string]int64{}
		var null int64
		for _, e := range matched {
			if key, ok := groupKey(e, in.GetGroupBy(), tz); ok {
				counts[key]++
			} else {
				null++
			}
		}
		if null > 0 {
			out.Groups = append(out.Groups, &behavioralv1.GroupCount{Count: null})
		}
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			out.Groups = append(out.Groups, &behavioralv1.GroupCount{Key: &k, Count: counts[k]})
		}
	case "ANOMALY_HUNT":
		out.Flags = hunt(matched, j, tz)
	case "SEQUENCE_LIFT":
		out.Pairs = lift(matched, int(registry.Or(in.TopN, 10)))
	}
	return out, nil
}

func setOf(s []string) map[string]bool {
	if len(s) == 0 {
		return nil
	}
	m := make(map[string]bool, len(s))
	for _, x := range s {
		m[x] = true
	}
	return m
}

func groupKey(e *behavioralv1.UserEvent, by string, tz int32) (string, bool) {
	var s string
	switch by {
	case "", "type":
		s = e.GetEventType()
	case "user":
		s = e.GetUserId()
	case "device":
		s = e.GetDeviceId()
	case "location":
		s = e.GetLocation()
	case "hour":
		return fmt.Sprintf("%02d", userevent.Hour(e.GetTs(), tz)), true
	case "weekday":
		return strconv.Itoa(userevent.Weekday(e.GetTs(), tz)), true
	case "day":
		return time.Unix(userevent.Day(e.GetTs(), tz)*86400, 0).UTC().Format("2006-01-02"), true
	}
	return s, s != ""
}

// byUser groups matched events (in ts order) per user, users sorted.
func byUser(matched []*behavioralv1.UserEvent) ([]string, map[string][]*behavioralv1.UserEvent) {
	m := map[string][]*behavioralv1.UserEvent{}
	for _, e := range matched {
		m[e.GetUserId()] = append(m[e.GetUserId()], e)
	}
	users := make([]string, 0, len(m))
	for u := range m {
		users = append(users, u)
	}
	slices.Sort(users)
	return users, m
}

func hunt(matched []*behavioralv1.UserEvent, j *Job, tz int32) []*behavioralv1.HuntFlag {
	users, m := byUser(matched)
	limit := int(registry.Or(j.In.Velocity, 10))
	var flags []*behavioralv1.HuntFlag
	for _, u := range users {
		evs := m[u]
		seen := map[string]bool{}
		lo := 0
		for i, e := range evs {
			for evs[lo].GetTs() <= userevent.AddSat(e.GetTs(), -3600) {
				lo++
			}
			flag := func(kind string) {
				flags = append(flags, &behavioralv1.HuntFlag{EventId: e.GetId(), UserId: u, Kind: kind})
			}
			if i-lo+1 > limit {
				flag("VELOCITY")
			}
			if j.Hours[userevent.Hour(e.GetTs(), tz)] {
				flag("UNUSUAL_HOUR")
			}
			if l := e.GetLocation(); l != "" {
				if !seen[l] && i >= 5 {
					flag("NEW_LOCATION")
				}
				seen[l] = true
			}
		}
	}
	return flags
}

func lift(matched []*behavioralv1.UserEvent, topN int) []*behavioralv1.PairLift {
	users, m := byUser(matched)
	type pair struct{ a, b string }
	count := map[pair]int64{}
	first, second := map[string]int64{}, map[string]int64{}
	var n int64
	for _, u := range users {
		evs := m[u]
		for i := 1; i < len(evs); i++ {
			p := pair{evs[i-1].GetEventType(), evs[i].GetEventType()}
			count[p]++
			first[p.a]++
			second[p.b]++
			n++
		}
	}
	var out []*behavioralv1.PairLift
	for p, c := range count {
		support := float64(c) / float64(n)
		pa, pb := float64(first[p.a])/float64(n), float64(second[p.b])/float64(n)
		out = append(out, &behavioralv1.PairLift{A: p.a, B: p.b, Count: c, Support: support, Lift: support / (pa * pb)})
	}
	slices.SortFunc(out, func(x, y *behavioralv1.PairLift) int {
		if x.Lift != y.Lift {
			if x.Lift > y.Lift {
				return -1
			}
			return 1
		}
		if c := strings.Compare(x.A, y.A); c != 0 {
			return c
		}
		return strings.Compare(x.B, y.B)
	})
	if len(out) > topN {
		out = out[:topN]
	}
	return out
}
