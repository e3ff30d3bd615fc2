// Package profiling is behavioral/profiling: one behavioural profile per
// user from exact sufficient statistics (package userstats). The Batch
// kernel is the ring fold: events applied in ts order, then Snapshot.
package profiling

import (
	"context"
	"errors"
	"sort"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
	"github.com/gokernels/gokernels/kernels/behavioral/userstats"
	"github.com/gokernels/gokernels/kernels/registry"
)

// ErrOutOfOrder is returned by Apply for an event older than the last one;
// the state is unchanged.
var ErrOutOfOrder = errors.New("profiling: event ts is before the previous event's")

// State is the fold state: per-user statistics, and the user's events for
// the stability split (which needs the two halves of the whole history).
type State struct {
	TZ     int32
	Users  map[string]*User
	Any    bool
	LastTS int64
}

// User is one user's state.
type User struct {
	Stats *userstats.Stats
	Recs  []userstats.Rec
}

// NewState returns an empty state for a time zone offset.
func NewState(tz int32) *State { return &State{TZ: tz, Users: map[string]*User{}} }

// Apply folds one event.
func (s *State) Apply(e *behavioralv1.UserEvent) error {
	if s.Any && e.GetTs() < s.LastTS {
		return ErrOutOfOrder
	}
	s.Any, s.LastTS = true, e.GetTs()
	u := s.Users[e.GetUserId()]
	if u == nil {
		u = &User{Stats: userstats.New()}
		s.Users[e.GetUserId()] = u
	}
	r := userstats.Rec{TS: e.GetTs(), Type: e.GetEventType(), Session: e.GetSessionId(),
		Device: e.GetDeviceId(), Location: e.GetLocation()}
	u.Stats.Add(r, s.TZ)
	u.Recs = append(u.Recs, r)
	return nil
}

// Profile returns one user's profile (nil for an unknown user).
func (s *State) Profile(id string) *behavioralv1.UserProfile {
	u := s.Users[id]
	if u == nil {
		return nil
	}
	p := &behavioralv1.UserProfile{UserId: id, EventCount: u.Stats.N,
		Stability: userstats.Stability(u.Recs, s.TZ), Confidence: u.Stats.Confidence()}
	for i, v := range u.Stats.Features() {
		p.Features = append(p.Features, &behavioralv1.Feature{Name: userstats.Names[i], Value: v})
	}
	return p
}

// Snapshot returns every profile, sorted by user id.
func (s *State) Snapshot(ctx context.Context) (*behavioralv1.ProfilingOutput, error) {
	ids := make([]string, 0, len(s.Users))
	for id := range s.Users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := &behavioralv1.ProfilingOutput{}
	for i, id := range ids {
		if i&255 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out.Profiles = append(out.Profiles, s.Profile(id))
	}
	return out, nil
}

// Job is the events in ts order with the time zone.
type Job struct {
	Events []*behavioralv1.UserEvent
	TZ     int32
}

// Kernel is behavioral/profiling.
var Kernel = registry.Def[*behavioralv1.ProfilingInput, *behavioralv1.ProfilingOutput, *Job]{
	Meta: registry.Meta{
		ID:     "behavioral/profiling",
		Domain: registry.DomainBehavioral,
		Modes:  []registry.Mode{registry.Batch, registry.Ring},
		Description: "Per-user behavioural profile: 17 temporal, frequency, session, device and location features " +
			"(ISO weekdays, 1970-01-01 a Thursday), stability and confidence.",
	},
	Prepare: func(ctx context.Context, in *behavioralv1.ProfilingInput) (*Job, error) {
		if err := userevent.Check(ctx, "events", in.GetEvents()); err != nil {
			return nil, err
		}
		return &Job{Events: userevent.Sorted(in.GetEvents()), TZ: in.GetTzOffsetSeconds()}, nil
	},
	CPU: Run,
}

// Run folds the events and snapshots.
func Run(ctx context.Context, j *Job) (*behavioralv1.ProfilingOutput, error) {
	s := NewState(j.TZ)
	for i, e := range j.Events {
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if err := s.Apply(e); err != nil {
			return nil, err
		}
	}
	return s.Snapshot(ctx)
}
