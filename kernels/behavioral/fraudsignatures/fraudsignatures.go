// Package fraudsignatures is behavioral/fraud-signatures: sequence (STRICT
// and SASE skip-till-next-match), attribute, time-window, count and RE2
// regex signatures matched per user stream, reporting the best match per
// (signature, user). The Batch kernel is the ring fold: events are kept per
// user in ts order and Snapshot recomputes the best matches (attribute and
// regex scores depend on all of a user's events).
package fraudsignatures

import (
	"context"
	"errors"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
	"github.com/gokernels/gokernels/kernels/registry"
)

// ErrOutOfOrder is returned by Apply for an event older than the last one;
// the state is unchanged.
var ErrOutOfOrder = errors.New("fraud-signatures: event ts is before the previous event's")

// Sig is a compiled signature.
type Sig struct {
	*behavioralv1.Signature
	re *regexp.Regexp
}

// State is the fold state: the signatures and each user's events.
type State struct {
	Sigs  []Sig
	Users map[string][]*behavioralv1.UserEvent
	// Det is the ring's online detection state per user, per signature
	// (empty on the Batch path, which recomputes best matches only).
	Det    map[string][]*Det
	Any    bool
	LastTS int64
}

// Compile validates the signatures (cross-field rules) and compiles regexes.
func Compile(sigs []*behavioralv1.Signature) ([]Sig, error) {
	seen := map[string]bool{}
	var out []Sig
	for i, s := range sigs {
		f := "signatures[" + strconv.Itoa(i) + "]"
		if seen[s.GetId()] {
			return nil, kerr.Invalid(f+".id", "duplicate signature id %q", s.GetId())
		}
		seen[s.GetId()] = true
		c := Sig{Signature: s}
		switch s.GetKind() {
		case "EVENT_SEQUENCE":
			if len(s.GetSequence()) == 0 {
				return nil, kerr.Invalid(f+".sequence", "EVENT_SEQUENCE needs at least one event type")
			}
		case "EVENT_ATTRIBUTES":
			if s.GetEventType() == "" {
				return nil, kerr.Invalid(f+".event_type", "EVENT_ATTRIBUTES needs an event type")
			}
			if err := eventlog.CheckAttributes(f+".attributes", s.GetAttributes()); err != nil {
				return nil, err
			}
		case "TIME_WINDOW":
			if len(s.GetEventTypes()) == 0 {
				return nil, kerr.Invalid(f+".event_types", "TIME_WINDOW needs at least one event type")
			}
		case "COUNT_THRESHOLD":
			if s.GetEventType() == "" {
				return nil, kerr.Invalid(f+".event_type", "COUNT_THRESHOLD needs an event type")
			}
			if s.GetCount() < 1 {
				return nil, kerr.Invalid(f+".count", "COUNT_THRESHOLD needs count >= 1")
			}
		case "REGEX":
			re, err := regexp.Compile(s.GetPattern())
			if err != nil {
				return nil, kerr.Invalid(f+".pattern", "not an RE2 pattern: %v", err)
			}
			c.re = re
		}
		out = append(out, c)
	}
	return out, nil
}

// NewState returns an empty state over compiled signatures.
func NewState(sigs []Sig) *State {
	return &State{Sigs: sigs, Users: map[string][]*behavioralv1.UserEvent{}, Det: map[string][]*Det{}}
}

// Apply adds one event to its user's stream.
func (s *State) Apply(e *behavioralv1.UserEvent) error {
	if s.Any && e.GetTs() < s.LastTS {
		return ErrOutOfOrder
	}
	s.Any, s.LastTS = true, e.GetTs()
	s.Users[e.GetUserId()] = append(s.Users[e.GetUserId()], e)
	return nil
}

// match is a candidate: event indexes into the user's stream.
type match struct {
	score  float64
	idx    []int
	anchor int
}

// better orders candidates: higher score, then earlier end ts, earlier
// start ts, earlier anchor.
func better(a, b *match, evs []*behavioralv1.UserEvent) bool {
	if b == nil {
		return true
	}
	if a.score != b.score {
		return a.score > b.score
	}
	ae, be := evs[a.idx[len(a.idx)-1]].GetTs(), evs[b.idx[len(b.idx)-1]].GetTs()
	if ae != be {
		return ae < be
	}
	as, bs := evs[a.idx[0]].GetTs(), evs[b.idx[0]].GetTs()
	if as != bs {
		return as < bs
	}
	return a.anchor < b.anchor
}

func tier(span int64) float64 {
	switch {
	case span < 300:
		return 100
	case span < 3600:
		return 80
	case span < 86400:
		return 60
	}
	return 40
}

// best returns sig's best match over one user's events, or nil.
func (sig *Sig) best(evs []*behavioralv1.UserEvent) *match {
	sev := sig.GetSeverity()
	var best *match
	consider := func(m *match) {
		if better(m, best, evs) {
			best = m
		}
	}
	n := len(evs)
	switch sig.GetKind() {
	case "EVENT_SEQUENCE":
		seq := sig.GetSequence()
		check := func(idx []int, anchor int) {
			span := evs[idx[len(idx)-1]].GetTs() - evs[idx[0]].GetTs()
			if sig.WithinSeconds != nil && span > sig.GetWithinSeconds() {
				return
			}
			consider(&match{score: tier(span) * sev / 100, idx: idx, anchor: anchor})
		}
		if sig.GetContiguity() == "SKIP_TILL_NEXT_MATCH" {
			pos := map[string][]int{}
			for i, e := range evs {
				pos[e.GetEventType()] = append(pos[e.GetEventType()], i)
			}
			for _, i := range pos[seq[0]] {
				idx := []int{i}
				for _, typ := range seq[1:] {
					p := pos[typ]
					k := sort.SearchInts(p, idx[len(idx)-1]+1)
					if k == len(p) {
						idx = nil
						break
					}
					idx = append(idx, p[k])
				}
				if idx != nil {
					check(idx, i)
				}
			}
			break
		}
		for i := 0; i+len(seq) <= n; i++ {
			ok := true
			for k, typ := range seq {
				if evs[i+k].GetEventType() != typ {
					ok = false
					break
				}
			}
			if ok {
				idx := make([]int, len(seq))
				for k := range idx {
					idx[k] = i + k
				}
				check(idx, i)
			}
		}
	case "EVENT_ATTRIBUTES":
		var idx []int
		for i, e := range evs {
			if e.GetEventType() == sig.GetEventType() && attrsMatch(e.GetAttributes(), sig.GetAttributes()) {
				idx = append(idx, i)
			}
		}
		if len(idx) > 0 {
			best = &match{score: sev * math.Min(1, float64(len(idx))/float64(n)), idx: idx}
		}
	case "REGEX":
		var idx []int
		for i, e := range evs {
			if sig.re.MatchString(e.GetEventType()) || anyString(e.GetAttributes(), sig.re) {
				idx = append(idx, i)
			}
		}
		if len(idx) > 0 {
			best = &match{score: sev * math.Min(1, float64(len(idx))/float64(n)), idx: idx}
		}
	case "TIME_WINDOW":
		// From each anchor i, the window is events i..r−1 with ts <= t_i + W
		// (the stream from the anchor on); two pointers keep type counts.
		want := map[string]int{}
		for _, t := range sig.GetEventTypes() {
			want[t] = 0
		}
		have := 0
		w := sig.GetWindowSeconds()
		r := 0
		for i := 0; i < n; i++ {
			for r < n && evs[r].GetTs() <= userevent.AddSat(evs[i].GetTs(), w) {
				if c, ok := want[evs[r].GetEventType()]; ok {
					if c == 0 {
						have++
					}
					want[evs[r].GetEventType()] = c + 1
				}
				r++
			}
			if have == len(want) {
				span := evs[r-1].GetTs() - evs[i].GetTs()
				frac := 0.0
				if w > 0 {
					frac = float64(span) / float64(w)
				}
				m := &match{score: sev * (0.5 + 0.5*(1-frac)), anchor: i}
				m.idx = []int{i, r - 1} // ends suffice for the comparison
				if better(m, best, evs) {
					m.idx = rangeIdx(i, r)
					best = m
				}
			}
			if c, ok := want[evs[i].GetEventType()]; ok {
				if c == 1 {
					have--
				}
				want[evs[i].GetEventType()] = c - 1
			}
		}
	case "COUNT_THRESHOLD":
		var p []int
		for i, e := range evs {
			if e.GetEventType() == sig.GetEventType() {
				p = append(p, i)
			}
		}
		w := sig.GetWindowSeconds()
		cnt := float64(sig.GetCount())
		r := 0
		for a := range p {
			for r < len(p) && evs[p[r]].GetTs() <= userevent.AddSat(evs[p[a]].GetTs(), w) {
				r++
			}
			if k := r - a; k >= int(sig.GetCount()) {
				m := &match{score: sev * (0.5 + 0.5*math.Min(1, float64(k)/cnt-1)), anchor: p[a],
					idx: []int{p[a], p[r-1]}}
				if better(m, best, evs) {
					m.idx = slices.Clone(p[a:r])
					best = m
				}
			}
		}
	}
	return best
}

func rangeIdx(a, b int) []int {
	idx := make([]int, b-a)
	for k := range idx {
		idx[k] = a + k
	}
	return idx
}

// valueEqual compares attribute values: numbers within 1e-4, strings and
// booleans exactly, lists element-wise; mixed kinds never equal.
func valueEqual(a, b *structpb.Value) bool {
	switch x := a.GetKind().(type) {
	case *structpb.Value_NumberValue:
		y, ok := b.GetKind().(*structpb.Value_NumberValue)
		return ok && math.Abs(x.NumberValue-y.NumberValue) <= 1e-4
	case *structpb.Value_StringValue:
		y, ok := b.GetKind().(*structpb.Value_StringValue)
		return ok && x.StringValue == y.StringValue
	case *structpb.Value_BoolValue:
		y, ok := b.GetKind().(*structpb.Value_BoolValue)
		return ok && x.BoolValue == y.BoolValue
	case *structpb.Value_ListValue:
		y, ok := b.GetKind().(*structpb.Value_ListValue)
		if !ok || len(x.ListValue.GetValues()) != len(y.ListValue.GetValues()) {
			return false
		}
		for i, v := range x.ListValue.GetValues() {
			if !valueEqual(v, y.ListValue.GetValues()[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func attrsMatch(have, want map[string]*structpb.Value) bool {
	for k, w := range want {
		h, ok := have[k]
		if !ok || !valueEqual(h, w) {
			return false
		}
	}
	return true
}

func anyString(attrs map[string]*structpb.Value, re *regexp.Regexp) bool {
	for _, v := range attrs {
		switch x := v.GetKind().(type) {
		case *structpb.Value_StringValue:
			if re.MatchString(x.StringValue) {
				return true
			}
		case *structpb.Value_ListValue:
			for _, item := range x.ListValue.GetValues() {
				if s, ok := item.GetKind().(*structpb.Value_StringValue); ok && re.MatchString(s.StringValue) {
					return true
				}
			}
		}
	}
	return false
}

// Snapshot recomputes the best match per (active signature, user).
func (s *State) Snapshot(ctx context.Context) (*behavioralv1.FraudSignaturesOutput, error) {
	users := make([]string, 0, len(s.Users))
	for u := range s.Users {
		users = append(users, u)
	}
	sort.Strings(users)
	out := &behavioralv1.FraudSignaturesOutput{}
	for i := range s.Sigs {
		sig := &s.Sigs[i]
		if sig.Active != nil && !sig.GetActive() {
			continue
		}
		for _, u := range users {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			evs := s.Users[u]
			m := sig.best(evs)
			if m == nil {
				continue
			}
			sm := &behavioralv1.SignatureMatch{SignatureId: sig.GetId(), UserId: u, Score: m.score,
				StartTs: evs[m.idx[0]].GetTs(), EndTs: evs[m.idx[len(m.idx)-1]].GetTs()}
			for _, k := range m.idx {
				sm.EventIds = append(sm.EventIds, evs[k].GetId())
			}
			out.Matches = append(out.Matches, sm)
		}
	}
	slices.SortStableFunc(out.Matches, func(a, b *behavioralv1.SignatureMatch) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.SignatureId, b.SignatureId); c != 0 {
			return c
		}
		return strings.Compare(a.UserId, b.UserId)
	})
	return out, nil
}

// Job is the events in ts order with the compiled signatures.
type Job struct {
	Events []*behavioralv1.UserEvent
	Sigs   []Sig
}

// Kernel is behavioral/fraud-signatures.
var Kernel = registry.Def[*behavioralv1.FraudSignaturesInput, *behavioralv1.FraudSignaturesOutput, *Job]{
	Meta: registry.Meta{
		ID:     "behavioral/fraud-signatures",
		Domain: registry.DomainBehavioral,
		Modes:  []registry.Mode{registry.Batch, registry.Ring},
		Description: "Fraud signatures per user stream: event sequences (strict or SASE skip-till-next-match), " +
			"attribute matches, time windows, counts and RE2 regexes; best match per signature and user.",
	},
	Prepare: func(ctx context.Context, in *behavioralv1.FraudSignaturesInput) (*Job, error) {
		if err := userevent.Check(ctx, "events", in.GetEvents()); err != nil {
			return nil, err
		}
		sigs, err := Compile(in.GetSignatures())
		if err != nil {
			return nil, err
		}
		return &Job{Events: userevent.Sorted(in.GetEvents()), Sigs: sigs}, nil
	},
	CPU: Run,
}

// Run folds the events and snapshots.
func Run(ctx context.Context, j *Job) (*behavioralv1.FraudSignaturesOutput, error) {
	s := NewState(j.Sigs)
	for _, e := range j.Events {
		if err := s.Apply(e); err != nil {
			return nil, err
		}
	}
	return s.Snapshot(ctx)
}
