package conformance

import (
	"errors"
	"slices"
	"sort"
	"strings"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
)

// Deviation kinds.
const (
	MissingTokens   = "MISSING_TOKENS"
	RemainingTokens = "REMAINING_TOKENS"
	UnknownActivity = "UNKNOWN_ACTIVITY"
	DisallowedDF    = "DISALLOWED_DF"
	BadStart        = "BAD_START"
	BadEnd          = "BAD_END"
)

// ErrOutOfOrder is returned by Apply for an event older than the last one;
// the state is unchanged (the ring protocol's OUT_OF_RANGE).
var ErrOutOfOrder = errors.New("conformance: event ts is before the previous event's")

// State is the online conformance state (cf. Burattin et al. 2018): the
// model, a replay state per open case and the sums over closed cases. The
// Batch kernel is Apply over the events in ts order, then Snapshot.
type State struct {
	pn  *petri
	dm  *dfgModel
	ts  int64
	any bool

	open   map[string]*caseState
	closed []*procintv1.TraceConformance
	// Log sums over closed traces.
	m, r, p, c     int64
	allowed, pairs int64
	// Precision counters: visits per state, and the allowed successors
	// observed from it (only the intersection matters).
	visits   map[int32]int64
	observed map[int32]map[int32]bool
}

type caseState struct {
	n          int32 // events applied
	marking    []int64
	m, r, p, c int64
	unknown    bool
	last       int32 // DFG: last activity code (startCode before the first)
	lastAct    string
	allowed    int64
	devs       []*procintv1.Deviation
}

func newState(pn *petri, dm *dfgModel) *State {
	return &State{pn: pn, dm: dm, open: map[string]*caseState{},
		visits: map[int32]int64{}, observed: map[int32]map[int32]bool{}}
}

// Apply replays one event of caseID.
func (s *State) Apply(caseID, activity string, ts int64) error {
	_, err := s.Step(caseID, activity, ts)
	return err
}

// Step replays one event of caseID and returns the deviations it caused.
func (s *State) Step(caseID, activity string, ts int64) ([]*procintv1.Deviation, error) {
	if s.any && ts < s.ts {
		return nil, ErrOutOfOrder
	}
	s.any, s.ts = true, ts
	cs := s.open[caseID]
	if cs == nil {
		cs = &caseState{last: startCode}
		if s.pn != nil {
			cs.marking = slices.Clone(s.pn.initial)
			for _, v := range cs.marking {
				cs.p += v
			}
		}
		s.open[caseID] = cs
	}
	idx := cs.n
	cs.n++
	before := len(cs.devs)
	if s.pn != nil {
		s.firePetri(cs, idx, activity)
		return cs.devs[before:len(cs.devs):len(cs.devs)], nil
	}
	code, ok := s.dm.acts[activity]
	if !ok {
		code = unknownCode
		cs.devs = append(cs.devs, dev(idx, activity, UnknownActivity))
	}
	if s.dfgStep(cs.last, code) {
		cs.allowed++
	} else if cs.last == startCode {
		cs.devs = append(cs.devs, dev(idx, activity, BadStart))
	} else {
		cs.devs = append(cs.devs, dev(idx, activity, DisallowedDF))
	}
	cs.last, cs.lastAct = code, activity
	return cs.devs[before:len(cs.devs):len(cs.devs)], nil
}

// dfgStep records a visit of state a followed by b for precision and
// reports whether a → b is allowed.
func (s *State) dfgStep(a, b int32) bool {
	if a == unknownCode {
		return false
	}
	s.visits[a]++
	if !s.dm.allowed[a][b] {
		return false
	}
	if s.observed[a] == nil {
		s.observed[a] = map[int32]bool{}
	}
	s.observed[a][b] = true
	return true
}

func (s *State) firePetri(cs *caseState, idx int32, activity string) {
	pre, ok := s.pn.pre[activity]
	if !ok {
		cs.unknown = true
		cs.devs = append(cs.devs, dev(idx, activity, UnknownActivity))
		return
	}
	var missing int64
	for _, a := range pre {
		if cs.marking[a.place] < a.weight {
			missing += a.weight - cs.marking[a.place]
			cs.marking[a.place] = a.weight
		}
		cs.marking[a.place] -= a.weight
		cs.c += a.weight
	}
	if missing > 0 {
		cs.m += missing
		cs.devs = append(cs.devs, dev(idx, activity, MissingTokens))
	}
	for _, a := range s.pn.post[activity] {
		cs.marking[a.place] += a.weight
		cs.p += a.weight
	}
}

func dev(idx int32, activity, kind string) *procintv1.Deviation {
	return &procintv1.Deviation{Index: idx, Activity: activity, Kind: kind}
}

// Close ends caseID's trace, adds it to the log sums and returns its
// result; nil for an unknown case.
func (s *State) Close(caseID string) *procintv1.TraceConformance {
	cs := s.open[caseID]
	if cs == nil {
		return nil
	}
	delete(s.open, caseID)
	t := s.finish(caseID, cs)
	s.closed = append(s.closed, t)
	return t
}

func (s *State) finish(caseID string, cs *caseState) *procintv1.TraceConformance {
	t := &procintv1.TraceConformance{CaseId: caseID}
	if s.pn != nil {
		var missing int64
		for p, f := range s.pn.final {
			if f == 0 {
				continue
			}
			if cs.marking[p] < f {
				missing += f - cs.marking[p]
				cs.marking[p] = 0
			} else {
				cs.marking[p] -= f
			}
			cs.c += f
		}
		cs.m += missing
		for _, v := range cs.marking {
			cs.r += v
		}
		if missing > 0 {
			cs.devs = append(cs.devs, dev(cs.n, eventlog.End, MissingTokens))
		}
		if cs.r > 0 {
			cs.devs = append(cs.devs, dev(cs.n, eventlog.End, RemainingTokens))
		}
		t.Missing, t.Remaining, t.Produced, t.Consumed = cs.m, cs.r, cs.p, cs.c
		t.Fitness = Fitness(cs.m, cs.r, cs.p, cs.c)
		t.IsFit = cs.m == 0 && cs.r == 0 && !cs.unknown
		s.m += cs.m
		s.r += cs.r
		s.p += cs.p
		s.c += cs.c
	} else {
		if s.dfgStep(cs.last, endCode) {
			cs.allowed++
		} else {
			last := cs.n - 1
			cs.devs = append(cs.devs, dev(last, cs.lastAct, BadEnd))
		}
		pairs := int64(cs.n) + 1
		t.Fitness = ratio(cs.allowed, pairs)
		t.IsFit = cs.allowed == pairs
		s.allowed += cs.allowed
		s.pairs += pairs
	}
	sort.SliceStable(cs.devs, func(a, b int) bool {
		if cs.devs[a].Index != cs.devs[b].Index {
			return cs.devs[a].Index < cs.devs[b].Index
		}
		return cs.devs[a].Kind < cs.devs[b].Kind
	})
	t.Deviations = cs.devs
	return t
}

// Fitness is ½(1 − m/c) + ½(1 − r/p), a zero denominator giving a 0 ratio.
func Fitness(m, r, p, c int64) float64 {
	return 0.5*(1-ratio(m, c)) + 0.5*(1-ratio(r, p))
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Snapshot returns the result with every open case closed, leaving the
// state itself unchanged.
func (s *State) Snapshot() *procintv1.ConformanceOutput { return s.clone().closeAll() }

// closeAll closes every open case of s itself and returns the result: the
// Batch path's last step, which needs no copy of a state it discards.
func (s *State) closeAll() *procintv1.ConformanceOutput {
	c := s
	ids := make([]string, 0, len(c.open))
	for id := range c.open {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c.Close(id)
	}
	traces := slices.Clone(c.closed)
	slices.SortStableFunc(traces, func(a, b *procintv1.TraceConformance) int { return strings.Compare(a.CaseId, b.CaseId) })
	lg := &procintv1.LogConformance{TraceCount: int64(len(traces))}
	counts := map[string]int64{}
	var fit int64
	for _, t := range traces {
		if t.IsFit {
			fit++
		}
		for _, d := range t.Deviations {
			counts[d.Kind]++
		}
	}
	lg.FittingTraceRatio = ratio(fit, int64(len(traces)))
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		lg.DeviationCounts = append(lg.DeviationCounts, &procintv1.KindCount{Kind: k, Count: counts[k]})
	}
	if len(traces) > 0 {
		if c.pn != nil {
			lg.Fitness = Fitness(c.m, c.r, c.p, c.c)
		} else {
			lg.Fitness = ratio(c.allowed, c.pairs)
			lg.Precision = c.precision()
		}
	}
	return &procintv1.ConformanceOutput{Traces: traces, Log: lg}
}

// precision is ETConformance's escaping-edge precision over the visited
// states.
func (s *State) precision() float64 {
	var num, den float64
	for a, v := range s.visits {
		num += float64(v) * float64(len(s.observed[a]))
		den += float64(v) * float64(len(s.dm.allowed[a]))
	}
	if den == 0 {
		return 0
	}
	return num / den
}

func (s *State) clone() *State {
	c := *s
	c.open = make(map[string]*caseState, len(s.open))
	for id, cs := range s.open {
		cc := *cs
		cc.marking = slices.Clone(cs.marking)
		cc.devs = slices.Clone(cs.devs)
		c.open[id] = &cc
	}
	c.closed = slices.Clone(s.closed)
	c.visits = make(map[int32]int64, len(s.visits))
	for k, v := range s.visits {
		c.visits[k] = v
	}
	c.observed = make(map[int32]map[int32]bool, len(s.observed))
	for k, v := range s.observed {
		m := make(map[int32]bool, len(v))
		for x := range v {
			m[x] = true
		}
		c.observed[k] = m
	}
	return &c
}
