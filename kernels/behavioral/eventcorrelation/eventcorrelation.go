// Package eventcorrelation is behavioral/event-correlation: a windowed
// join of events scored on time proximity and shared user, session, device
// and location, with single-linkage clusters over the strong pairs. The
// Batch kernel is the ring fold: a deque of the events within W, per-event
// top lists updated in both directions, and a union-find (clusters only
// merge, so replay equals batch).
package eventcorrelation

import (
	"context"
	"errors"
	"math"
	"slices"
	"sort"
	"strings"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Pair types in descending weight order; a pair's type is the first
// matched one, TEMPORAL when none matches.
var types = [5]string{"USER", "SESSION", "TEMPORAL", "DEVICE", "LOCATION"}

const (
	tUser = iota
	tSession
	tTemporal
	tDevice
	tLocation
)

// ErrOutOfOrder is returned by Apply for an event older than the last one;
// the state is unchanged.
var ErrOutOfOrder = errors.New("event-correlation: event ts is before the previous event's")

// Params are the correlation parameters.
type Params struct {
	Window           int64
	MinScore         float64
	MaxCorrelations  int
	ClusterThreshold float64
}

// Ev is a retained event.
type Ev struct {
	ID, User, Session, Device, Location string
	TS                                  int64
}

// Corr is one listed correlation.
type Corr struct {
	Other string
	Score float64
	Type  int
	Delta int64
}

// Agg is a cluster's edge aggregate, kept at its union-find root.
type Agg struct {
	Sum   float64
	Edges int64
	Types [5]int64
}

// State is the fold state.
type State struct {
	P      Params
	Window []Ev              // events with ts >= last ts − W, in ts order
	Lists  map[string][]Corr // top lists, sorted (−score, other)
	Parent map[string]string
	Aggs   map[string]*Agg // by root
	// Mins holds the smallest event id (the cluster id) of every root
	// whose component has more than one event.
	Mins   map[string]string
	IDs    []string
	Any    bool
	LastTS int64
}

// NewState returns an empty state.
func NewState(p Params) *State {
	return &State{P: p, Lists: map[string][]Corr{}, Parent: map[string]string{}, Aggs: map[string]*Agg{},
		Mins: map[string]string{}}
}

// Score returns the pair score and type of a and b, and whether they are
// within the window.
func (p Params) Score(a, b *Ev) (float64, int, bool) {
	dt := a.TS - b.TS
	if dt < 0 {
		dt = -dt
	}
	if dt > p.Window {
		return 0, 0, false
	}
	prox := 1 - float64(dt)/float64(p.Window)
	score := 0.2 * prox
	typ := -1
	match := func(t int, x, y string, w float64) {
		if x != "" && x == y {
			score += w
			if typ < 0 || t < typ {
				typ = t
			}
		}
	}
	match(tUser, a.User, b.User, 0.3)
	match(tSession, a.Session, b.Session, 0.25)
	match(tDevice, a.Device, b.Device, 0.15)
	match(tLocation, a.Location, b.Location, 0.1)
	if prox > 0.5 && (typ < 0 || tTemporal < typ) {
		typ = tTemporal
	}
	if typ < 0 {
		typ = tTemporal
	}
	return score, typ, true
}

// Merge is one union of two clusters, named by their cluster ids.
type Merge struct{ From, Into string }

// Apply joins one event with the retained ones.
func (s *State) Apply(e *behavioralv1.UserEvent) error {
	_, err := s.Step(e)
	return err
}

// Step joins one event with the retained ones and returns the cluster
// merges it caused (joining a lone event to a cluster is not a merge of
// two clusters, so only unions of two multi-event components count).
func (s *State) Step(e *behavioralv1.UserEvent) ([]Merge, error) {
	t := e.GetTs()
	if s.Any && t < s.LastTS {
		return nil, ErrOutOfOrder
	}
	s.Any, s.LastTS = true, t
	k := 0
	for k < len(s.Window) && s.Window[k].TS < userevent.AddSat(t, -s.P.Window) {
		k++
	}
	s.Window = s.Window[k:]
	ev := Ev{ID: e.GetId(), User: e.GetUserId(), Session: e.GetSessionId(), Device: e.GetDeviceId(),
		Location: e.GetLocation(), TS: t}
	s.Parent[ev.ID] = ev.ID
	s.IDs = append(s.IDs, ev.ID)
	var merges []Merge
	for i := range s.Window {
		o := &s.Window[i]
		score, typ, ok := s.P.Score(&ev, o)
		if !ok {
			continue
		}
		if score >= s.P.MinScore {
			s.add(ev.ID, Corr{Other: o.ID, Score: score, Type: typ, Delta: o.TS - ev.TS})
			s.add(o.ID, Corr{Other: ev.ID, Score: score, Type: typ, Delta: ev.TS - o.TS})
		}
		if score >= s.P.ClusterThreshold {
			if m, ok := s.union(ev.ID, o.ID, score, typ); ok {
				merges = append(merges, m)
			}
		}
	}
	s.Window = append(s.Window, ev)
	return merges, nil
}

func less(a, b Corr) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Other < b.Other
}

// add inserts c into id's top list, keeping at most MaxCorrelations.
func (s *State) add(id string, c Corr) {
	l := s.Lists[id]
	i := sort.Search(len(l), func(i int) bool { return less(c, l[i]) })
	if i >= s.P.MaxCorrelations {
		return
	}
	l = slices.Insert(l, i, c)
	if len(l) > s.P.MaxCorrelations {
		l = l[:s.P.MaxCorrelations]
	}
	s.Lists[id] = l
}

func (s *State) find(x string) string {
	for s.Parent[x] != x {
		s.Parent[x] = s.Parent[s.Parent[x]]
		x = s.Parent[x]
	}
	return x
}

// root follows parents without compressing paths: Snapshot must not
// change the state (its encoding is compared after journal replay).
func (s *State) root(x string) string {
	for s.Parent[x] != x {
		x = s.Parent[x]
	}
	return x
}

// minID is the cluster id of root r.
func (s *State) minID(r string) string {
	if m, ok := s.Mins[r]; ok {
		return m
	}
	return r
}

func (s *State) union(a, b string, score float64, typ int) (m Merge, merged bool) {
	ra, rb := s.find(a), s.find(b)
	if ra != rb {
		ma, mb := s.minID(ra), s.minID(rb)
		_, bigA := s.Mins[ra]
		_, bigB := s.Mins[rb]
		if bigA && bigB {
			m, merged = Merge{From: max(ma, mb), Into: min(ma, mb)}, true
		}
		delete(s.Mins, rb)
		s.Mins[ra] = min(ma, mb)
	}
	agg := s.Aggs[ra]
	if agg == nil {
		agg = &Agg{}
		s.Aggs[ra] = agg
	}
	if ra != rb {
		if o := s.Aggs[rb]; o != nil {
			agg.Sum += o.Sum
			agg.Edges += o.Edges
			for i := range agg.Types {
				agg.Types[i] += o.Types[i]
			}
			delete(s.Aggs, rb)
		}
		s.Parent[rb] = ra
	}
	agg.Sum += score
	agg.Edges++
	agg.Types[typ]++
	return m, merged
}

// Snapshot returns the correlations and clusters so far.
func (s *State) Snapshot(ctx context.Context) (*behavioralv1.EventCorrelationOutput, error) {
	ids := slices.Clone(s.IDs)
	sort.Strings(ids)
	out := &behavioralv1.EventCorrelationOutput{}
	members := map[string][]string{}
	for i, id := range ids {
		if i&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ec := &behavioralv1.EventCorrelations{EventId: id}
		for _, c := range s.Lists[id] {
			ec.Correlations = append(ec.Correlations, &behavioralv1.Correlation{
				OtherId: c.Other, Score: c.Score, Type: types[c.Type], DeltaS: c.Delta})
		}
		out.Events = append(out.Events, ec)
		r := s.root(id)
		members[r] = append(members[r], id)
	}
	for r, m := range members {
		if len(m) < 2 {
			continue
		}
		agg := s.Aggs[r]
		dom := 0
		for t := range agg.Types {
			if agg.Types[t] > agg.Types[dom] {
				dom = t
			}
		}
		out.Clusters = append(out.Clusters, &behavioralv1.CorrelationCluster{
			Id: m[0], EventIds: m, Size: int32(len(m)),
			Coherence: agg.Sum / math.Max(float64(agg.Edges), 1), DominantType: types[dom],
		})
	}
	slices.SortFunc(out.Clusters, func(a, b *behavioralv1.CorrelationCluster) int {
		if a.Size != b.Size {
			return int(b.Size - a.Size)
		}
		return strings.Compare(a.Id, b.Id)
	})
	return out, nil
}

// Job is the events in ts order with the parameters.
type Job struct {
	Events []*behavioralv1.UserEvent
	P      Params
}

// Kernel is behavioral/event-correlation.
var Kernel = registry.Def[*behavioralv1.EventCorrelationInput, *behavioralv1.EventCorrelationOutput, *Job]{
	Meta: registry.Meta{
		ID:     "behavioral/event-correlation",
		Domain: registry.DomainBehavioral,
		Modes:  []registry.Mode{registry.Batch, registry.Ring},
		Description: "Windowed event correlation on time proximity and shared user, session, device and location; " +
			"single-linkage clusters of strong pairs.",
	},
	Prepare: func(ctx context.Context, in *behavioralv1.EventCorrelationInput) (*Job, error) {
		if err := userevent.Check(ctx, "events", in.GetEvents()); err != nil {
			return nil, err
		}
		p := params(in)
		return &Job{Events: userevent.Sorted(in.GetEvents()), P: p}, nil
	},
	CPU: Run,
}

// params applies the defaults: window 3600 s, min_score 0.3,
// max_correlations 50, cluster_threshold 0.5.
func params(in *behavioralv1.EventCorrelationInput) Params {
	p := Params{Window: 3600, MinScore: 0.3, MaxCorrelations: 50, ClusterThreshold: 0.5}
	if in.WindowSeconds != nil {
		p.Window = in.GetWindowSeconds()
	}
	if in.MinScore != nil {
		p.MinScore = in.GetMinScore()
	}
	if in.MaxCorrelations != nil {
		p.MaxCorrelations = int(in.GetMaxCorrelations())
	}
	if in.ClusterThreshold != nil {
		p.ClusterThreshold = in.GetClusterThreshold()
	}
	return p
}

// Run folds the events and snapshots.
func Run(ctx context.Context, j *Job) (*behavioralv1.EventCorrelationOutput, error) {
	s := NewState(j.P)
	for i, e := range j.Events {
		// A wide window makes each step O(retained events): check often.
		if i&255 == 255 || len(s.Window) > 4096 {
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
