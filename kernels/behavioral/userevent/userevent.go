// Package userevent validates behavioural event inputs and orders them: the
// one stable ts sort every behavioral kernel (and its ring fold) shares,
// plus the calendar fields taken in a time zone offset (1970-01-01 was a
// Thursday).
package userevent

import (
	"context"
	"math"
	"strconv"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
)

// Check validates the events of an input's list field: the size limit,
// unique ids, finite coordinates and attribute values.
func Check(ctx context.Context, field string, events []*behavioralv1.UserEvent) error {
	if err := limits.Check(field, len(events), limits.From(ctx).MaxSamples); err != nil {
		return err
	}
	seen := make(map[string]struct{}, len(events))
	for i, e := range events {
		if i&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		at := func(sub string) string { return field + "[" + strconv.Itoa(i) + "]." + sub }
		if _, dup := seen[e.GetId()]; dup {
			return kerr.Invalid(at("id"), "duplicate event id %q", e.GetId())
		}
		seen[e.GetId()] = struct{}{}
		if e.Lat != nil && math.IsNaN(e.GetLat()) {
			return kerr.Invalid(at("lat"), "must be finite")
		}
		if e.Lon != nil && math.IsNaN(e.GetLon()) {
			return kerr.Invalid(at("lon"), "must be finite")
		}
		if err := eventlog.CheckAttributes(at("attributes"), e.GetAttributes()); err != nil {
			return err
		}
	}
	return nil
}

// Sorted returns the events stable-sorted by ts (ties keep input order).
func Sorted(events []*behavioralv1.UserEvent) []*behavioralv1.UserEvent {
	order := eventlog.ByTS(len(events), func(i int) int64 { return events[i].GetTs() })
	out := make([]*behavioralv1.UserEvent, len(events))
	for k, i := range order {
		out[k] = events[i]
	}
	return out
}

// floorDiv is ⌊a/b⌋ for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// Hour is the hour of day (0–23) of ts + tz.
func Hour(ts int64, tz int32) int {
	t := ts + int64(tz)
	return int((t - floorDiv(t, 86400)*86400) / 3600)
}

// Weekday is the ISO weekday (Mon = 1 … Sun = 7) of ts + tz; day 0,
// 1970-01-01, was a Thursday (4).
func Weekday(ts int64, tz int32) int {
	d := floorDiv(ts+int64(tz), 86400)
	return int((d+3)-floorDiv(d+3, 7)*7) + 1
}

// Day is the civil day number (days since 1970-01-01) of ts + tz.
func Day(ts int64, tz int32) int64 { return floorDiv(ts+int64(tz), 86400) }

// AddSat is a + b clamped to the int64 range, so window bounds near the
// extremes of ts neither wrap nor panic.
func AddSat(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}
