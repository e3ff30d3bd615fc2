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
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// ErrOutOfOrder is returned by Apply for an event older than the last one;
// the state is unchanged.
var ErrOutOfOrder = errors.New("profiling: event ts is before the previous event's")

// DefaultStabilityWindow is stability_window's default W.
const DefaultStabilityWindow = 1000

// State is the fold state: per-user statistics and each user's last 2·W
// events for the stability split. Its size per user is bounded by the
// distinct types, sessions, devices and locations plus 2·W records, never
// by the number of events.
type State struct {
	TZ     int32
	W      int
	Users  map[string]*User
	Any    bool
	LastTS int64
}

// User is one user's state.
type User struct {
	Stats *userstats.Stats
	// Recs is a ring buffer of the user's last 2·W events; Head is the
	// oldest once it is full.
	Recs []userstats.Rec
	Head int
}

// NewState returns an empty state for a time zone offset and stability
// window W.
func NewState(tz int32, w int) *State { return &State{TZ: tz, W: w, Users: map[string]*User{}} }

// recent returns the buffered events, oldest first.
func (u *User) recent() []userstats.Rec {
	if u.Head == 0 {
		return u.Recs
	}
	return append(append(make([]userstats.Rec, 0, len(u.Recs)), u.Recs[u.Head:]...), u.Recs[:u.Head]...)
}

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
	if len(u.Recs) < 2*s.W {
		u.Recs = append(u.Recs, r)
	} else {
		u.Recs[u.Head] = r
		u.Head = (u.Head + 1) % len(u.Recs)
	}
	return nil
}

// Profile returns one user's profile (nil for an unknown user).
func (s *State) Profile(id string) *behavioralv1.UserProfile {
	u := s.Users[id]
	if u == nil {
		return nil
	}
	p := &behavioralv1.UserProfile{UserId: id, EventCount: u.Stats.N,
		Stability: userstats.Stability(u.recent(), s.TZ), Confidence: u.Stats.Confidence()}
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

// Job is the events in ts order with the parameters.
type Job struct {
	Events []*behavioralv1.UserEvent
	TZ     int32
	W      int
}

// Window returns stability_window or its default, rejecting values
// outside [5, 10000].
func Window(in *behavioralv1.ProfilingInput) (int, error) {
	w := registry.Or(in.StabilityWindow, DefaultStabilityWindow)
	if w < 5 || w > 10000 {
		return 0, kerr.Invalid("stability_window", "must be in [5, 10000], got %d", w)
	}
	return int(w), nil
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
		w, err := Window(in)
		if err != nil {
			return nil, err
		}
		return &Job{Events: userevent.Sorted(in.GetEvents()), TZ: in.GetTzOffsetSeconds(), W: w}, nil
	},
	CPU: Run,
}

// Run folds the events and snapshots.
func Run(ctx context.Context, j *Job) (*behavioralv1.ProfilingOutput, error) {
	s := NewState(j.TZ, j.W)
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
