// Package anomaly is behavioral/anomaly: prequential scoring of each event
// against its user's earlier events (score first, then learn), on the
// per-user statistics of package userstats plus a one-hour timestamp
// window. The Batch kernel is the ring fold over the events in ts order.
package anomaly

import (
	"context"
	"errors"
	"math"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
	"github.com/gokernels/gokernels/kernels/behavioral/userstats"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Dimension weights.
const (
	wTemporal = 0.2
	wLocation = 0.25
	wDevice   = 0.2
	wVelocity = 0.35
)

// ErrOutOfOrder is returned by Apply for an event older than the last one;
// the state is unchanged.
var ErrOutOfOrder = errors.New("anomaly: event ts is before the previous event's")

// Params are the scoring parameters.
type Params struct {
	Threshold float64
	MinEvents int64
	TZ        int32
}

// State is the fold state.
type State struct {
	P      Params
	Users  map[string]*User
	Any    bool
	LastTS int64
	Out    []*behavioralv1.EventAnomaly
}

// User is a user's statistics and the ts of its events in the last hour.
type User struct {
	Stats  *userstats.Stats
	Recent []int64
}

// NewState returns an empty state.
func NewState(p Params) *State { return &State{P: p, Users: map[string]*User{}} }

// Apply scores one event against its user's history, then learns it.
func (s *State) Apply(e *behavioralv1.UserEvent) (*behavioralv1.EventAnomaly, error) {
	t := e.GetTs()
	if s.Any && t < s.LastTS {
		return nil, ErrOutOfOrder
	}
	s.Any, s.LastTS = true, t
	u := s.Users[e.GetUserId()]
	if u == nil {
		u = &User{Stats: userstats.New()}
		s.Users[e.GetUserId()] = u
	}
	// The window (t−3600, t]: drop what fell out, count this event in.
	k := 0
	for k < len(u.Recent) && u.Recent[k] <= userevent.AddSat(t, -3600) {
		k++
	}
	u.Recent = append(u.Recent[k:], t)
	r := s.score(u, e)
	u.Stats.Add(userstats.Rec{TS: t, Type: e.GetEventType(), Session: e.GetSessionId(),
		Device: e.GetDeviceId(), Location: e.GetLocation()}, s.P.TZ)
	s.Out = append(s.Out, r)
	return r, nil
}

func (s *State) score(u *User, e *behavioralv1.UserEvent) *behavioralv1.EventAnomaly {
	r := &behavioralv1.EventAnomaly{EventId: e.GetId(), UserId: e.GetUserId(), Type: "NONE"}
	st := u.Stats
	if st.N < s.P.MinEvents {
		r.ColdStart = true
		return r
	}
	var dims [4]float64
	var maxC int64
	for _, c := range st.Hours {
		maxC = max(maxC, c)
	}
	h := userevent.Hour(e.GetTs(), s.P.TZ)
	dims[0] = 100 * (1 - float64(st.Hours[h]+1)/float64(maxC+1))
	if l := e.GetLocation(); l != "" && len(st.Locations) < 3 && !st.Locations[l] {
		dims[1] = 50
	}
	if d := e.GetDeviceId(); d != "" && len(st.Devices) < 3 && !st.Devices[d] {
		dims[2] = 40
	}
	if st.N > 0 {
		lambda := math.Max(float64(st.N)/math.Max(st.SpanDays(), 1)/24, 1.0/24)
		n := len(u.Recent)
		if float64(n) > 5*lambda {
			dims[3] = 100 * PoissonCDF(n-1, lambda)
		}
	}
	weights := [4]float64{wTemporal, wLocation, wDevice, wVelocity}
	features := [4]string{"hour", "location", "device", "velocity"}
	types := [4]string{"TEMPORAL", "GEOGRAPHIC", "DEVICE", "VELOCITY"}
	var total float64
	contributing := 0
	for i, d := range dims {
		if d > 0 {
			c := weights[i] * d
			total += c
			contributing++
			r.Deviations = append(r.Deviations, &behavioralv1.AnomalyDeviation{Feature: features[i], Contribution: c})
			r.Type = types[i]
		}
	}
	if contributing > 1 {
		r.Type = "MIXED"
	}
	r.Score = math.Min(100, total)
	r.IsAnomaly = r.Score >= s.P.Threshold
	return r
}

// PoissonCDF is P(N <= k) for N ~ Poisson(λ), summed in log space (scaled
// by the largest term) so neither e^−λ nor λ^i overflows.
func PoissonCDF(k int, lambda float64) float64 {
	if k < 0 {
		return 0
	}
	// Past λ + 50·√(λ+1) + 50 the upper tail is far below one ulp of 1.
	if float64(k) >= lambda+50*math.Sqrt(lambda+1)+50 {
		return 1
	}
	logTerm := func(i int) float64 {
		lg, _ := math.Lgamma(float64(i) + 1)
		return float64(i)*math.Log(lambda) - lambda - lg
	}
	// The largest term is at i = ⌊λ⌋, capped by k.
	m := logTerm(min(k, int(lambda)))
	var sum float64
	for i := k; i >= 0; i-- {
		lt := logTerm(i)
		if lt-m < -745 && float64(i) < lambda {
			break // the remaining terms are negligible and decreasing
		}
		sum += math.Exp(lt - m)
	}
	return math.Min(1, math.Exp(m)*sum)
}

// Job is the events in ts order with the parameters.
type Job struct {
	Events []*behavioralv1.UserEvent
	P      Params
}

// Kernel is behavioral/anomaly.
var Kernel = registry.Def[*behavioralv1.AnomalyInput, *behavioralv1.AnomalyOutput, *Job]{
	Meta: registry.Meta{
		ID:     "behavioral/anomaly",
		Domain: registry.DomainBehavioral,
		Modes:  []registry.Mode{registry.Batch, registry.Ring},
		Description: "Prequential per-event anomaly score against the user's history: Laplace-smoothed hour histogram, " +
			"new location or device, Poisson velocity over the last hour.",
	},
	Prepare: func(ctx context.Context, in *behavioralv1.AnomalyInput) (*Job, error) {
		if err := userevent.Check(ctx, "events", in.GetEvents()); err != nil {
			return nil, err
		}
		p, err := params(in)
		if err != nil {
			return nil, err
		}
		return &Job{Events: userevent.Sorted(in.GetEvents()), P: p}, nil
	},
	CPU: Run,
}

// params applies the defaults: threshold 50, min_events 10.
func params(in *behavioralv1.AnomalyInput) (Params, error) {
	p := Params{Threshold: 50, MinEvents: 10, TZ: in.GetTzOffsetSeconds()}
	if in.Threshold != nil {
		p.Threshold = in.GetThreshold()
	}
	if in.MinEvents != nil {
		p.MinEvents = int64(in.GetMinEvents())
	}
	return p, nil
}

// Run folds the events; the output is the per-event results in order.
func Run(ctx context.Context, j *Job) (*behavioralv1.AnomalyOutput, error) {
	s := NewState(j.P)
	for i, e := range j.Events {
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if _, err := s.Apply(e); err != nil {
			return nil, err
		}
	}
	return s.Snapshot(), nil
}

// Snapshot returns the results so far.
func (s *State) Snapshot() *behavioralv1.AnomalyOutput {
	return &behavioralv1.AnomalyOutput{Events: s.Out}
}
