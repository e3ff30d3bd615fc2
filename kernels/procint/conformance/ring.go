package conformance

import (
	"context"
	"encoding/json"
	"slices"

	"google.golang.org/protobuf/proto"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/eventfold"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
)

// EventDeviation is the kind of the ring event emitted per deviation.
const EventDeviation = "deviation"

// RingSpec is procint/conformance over RingService: Configure loads the
// model, each event is replayed on its case's marking (Petri) or last
// activity (DFG) when it arrives and emits a CaseDeviation per deviation
// it causes, and Snapshot closes the open cases on a copy of the state,
// which is the Batch output. State: the model, per open case its marking
// and m/r/p/c (DFG: the last activity and allowed pairs), and the
// precision counters.
var RingSpec = eventfold.Spec[*procintv1.ConformanceInput, *procintv1.ConformanceOutput, *procintv1.Event, *State]{
	Messages: fold.Messages{Events: []fold.EventType{
		{Kind: EventDeviation, Message: &procintv1.CaseDeviation{}, Doc: "An event deviated from the model when " +
			"replayed on its case's marking or last activity: the case id and the deviation at the event's index in its trace."},
	}},
	Events: (*procintv1.ConformanceInput).GetEvents,
	TS:     (*procintv1.Event).GetTs,
	Check:  func(ctx context.Context, evs []*procintv1.Event) error { return eventlog.Check(ctx, "events", evs) },
	Ready: func(s *State) error {
		if s.pn == nil && s.dm == nil {
			return kerr.Invalid("model", "Configure the ring with a dfg or a petri_net before sending events")
		}
		return nil
	},
	Init: initState,
	Apply: func(rc fold.Context, s *State, e *procintv1.Event) {
		devs, _ := s.Step(e.GetCaseId(), e.GetActivity(), e.GetTs()) // order checked by eventfold
		for _, d := range devs {
			rc.Emit(EventDeviation, &procintv1.CaseDeviation{CaseId: e.GetCaseId(), Deviation: d})
		}
	},
	Snapshot: func(_ context.Context, s *State) (*procintv1.ConformanceOutput, error) { return s.Snapshot(), nil },
	Marshal:  marshalState,
	Unmarshal: func(ctx context.Context, cfg *procintv1.ConformanceInput, data []byte) (*State, error) {
		s, err := initState(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return s, s.unmarshal(data)
	},
	Sort: func(evs []*procintv1.Event) []*procintv1.Event {
		order := eventlog.ByTS(len(evs), func(i int) int64 { return evs[i].GetTs() })
		out := make([]*procintv1.Event, len(evs))
		for k, i := range order {
			out[k] = evs[i]
		}
		return out
	},
}

// initState compiles cfg's model; no model gives an unconfigured state.
func initState(ctx context.Context, cfg *procintv1.ConformanceInput) (*State, error) {
	var (
		pn  *petri
		dm  *dfgModel
		err error
	)
	switch {
	case cfg.GetPetriNet() != nil:
		pn, err = compilePetri(ctx, cfg.GetPetriNet())
	case cfg.GetDfg() != nil:
		dm, err = compileDFG(ctx, cfg.GetDfg())
	}
	if err != nil {
		return nil, err
	}
	return newState(pn, dm), nil
}

type devJSON struct {
	Index    int32  `json:"i"`
	Activity string `json:"a"`
	Kind     string `json:"k"`
}

type caseJSON struct {
	N       int32     `json:"n"`
	Marking []int64   `json:"marking,omitempty"`
	MRPC    [4]int64  `json:"mrpc"`
	Unknown bool      `json:"unknown"`
	Last    int32     `json:"last"`
	LastAct string    `json:"last_act"`
	Allowed int64     `json:"allowed"`
	Devs    []devJSON `json:"devs"`
}

type stateJSON struct {
	TS       int64               `json:"ts"`
	Any      bool                `json:"any"`
	Open     map[string]caseJSON `json:"open"`
	Closed   [][]byte            `json:"closed"`
	MRPC     [4]int64            `json:"mrpc"`
	Allowed  int64               `json:"allowed"`
	Pairs    int64               `json:"pairs"`
	Visits   map[int32]int64     `json:"visits"`
	Observed map[int32][]int32   `json:"observed"`
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// marshalState encodes the state deterministically (encoding/json sorts
// map keys; observed successor sets are written sorted).
func marshalState(s *State) ([]byte, error) {
	j := stateJSON{TS: s.ts, Any: s.any, Open: map[string]caseJSON{}, MRPC: [4]int64{s.m, s.r, s.p, s.c},
		Allowed: s.allowed, Pairs: s.pairs, Visits: s.visits, Observed: map[int32][]int32{}}
	for id, cs := range s.open {
		c := caseJSON{N: cs.n, Marking: cs.marking, MRPC: [4]int64{cs.m, cs.r, cs.p, cs.c}, Unknown: cs.unknown,
			Last: cs.last, LastAct: cs.lastAct, Allowed: cs.allowed}
		for _, d := range cs.devs {
			c.Devs = append(c.Devs, devJSON{d.GetIndex(), d.GetActivity(), d.GetKind()})
		}
		j.Open[id] = c
	}
	for _, t := range s.closed {
		b, err := deterministic.Marshal(t)
		if err != nil {
			return nil, err
		}
		j.Closed = append(j.Closed, b)
	}
	for a, set := range s.observed {
		l := make([]int32, 0, len(set))
		for b := range set {
			l = append(l, b)
		}
		slices.Sort(l)
		j.Observed[a] = l
	}
	return json.Marshal(j)
}

func (s *State) unmarshal(data []byte) error {
	var j stateJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	s.ts, s.any = j.TS, j.Any
	s.m, s.r, s.p, s.c = j.MRPC[0], j.MRPC[1], j.MRPC[2], j.MRPC[3]
	s.allowed, s.pairs = j.Allowed, j.Pairs
	for id, c := range j.Open {
		cs := &caseState{n: c.N, marking: c.Marking, m: c.MRPC[0], r: c.MRPC[1], p: c.MRPC[2], c: c.MRPC[3],
			unknown: c.Unknown, last: c.Last, lastAct: c.LastAct, allowed: c.Allowed}
		for _, d := range c.Devs {
			cs.devs = append(cs.devs, dev(d.Index, d.Activity, d.Kind))
		}
		s.open[id] = cs
	}
	for _, b := range j.Closed {
		t := &procintv1.TraceConformance{}
		if err := proto.Unmarshal(b, t); err != nil {
			return err
		}
		s.closed = append(s.closed, t)
	}
	for a, v := range j.Visits {
		s.visits[a] = v
	}
	for a, l := range j.Observed {
		set := make(map[int32]bool, len(l))
		for _, b := range l {
			set[b] = true
		}
		s.observed[a] = set
	}
	return nil
}
