package anomaly

import (
	"context"
	"encoding/json"

	"google.golang.org/protobuf/proto"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
	"github.com/gokernels/gokernels/kernels/eventfold"
	"github.com/gokernels/gokernels/kernels/fold"
)

// EventAlert is the kind of the ring event emitted for an anomalous event.
const EventAlert = "anomaly"

// RingSpec is behavioral/anomaly over RingService: each event is scored
// against its user's statistics when it arrives (then learnt), and an
// anomalous one emits its EventAnomaly (kind "anomaly") before the
// message's reply; Snapshot lists every result, equal to Batch.
var RingSpec = eventfold.Spec[*behavioralv1.AnomalyInput, *behavioralv1.AnomalyOutput, *behavioralv1.UserEvent, *State]{
	Messages: fold.Messages{Events: []fold.EventType{
		{Kind: EventAlert, Message: &behavioralv1.EventAnomaly{}, Doc: "An event scored as anomalous against its " +
			"user's statistics when it arrived: its EventAnomaly (score, contributing type), before the message's reply."},
	}},
	Events: (*behavioralv1.AnomalyInput).GetEvents,
	TS:     (*behavioralv1.UserEvent).GetTs,
	Check: func(ctx context.Context, evs []*behavioralv1.UserEvent) error {
		return userevent.Check(ctx, "events", evs)
	},
	Init: func(_ context.Context, cfg *behavioralv1.AnomalyInput) (*State, error) {
		p, err := params(cfg)
		if err != nil {
			return nil, err
		}
		return NewState(p), nil
	},
	Apply: func(rc fold.Context, s *State, e *behavioralv1.UserEvent) {
		r, _ := s.Apply(e) // order checked by eventfold
		if r != nil && r.IsAnomaly {
			rc.Emit(EventAlert, r)
		}
	},
	Snapshot: func(_ context.Context, s *State) (*behavioralv1.AnomalyOutput, error) { return s.Snapshot(), nil },
	Marshal:  marshalState,
	Unmarshal: func(_ context.Context, _ *behavioralv1.AnomalyInput, data []byte) (*State, error) {
		return unmarshalState(data)
	},
	Sort: userevent.Sorted,
}

// stateJSON is State with the results as deterministic proto bytes.
type stateJSON struct {
	P      Params           `json:"p"`
	Users  map[string]*User `json:"users"`
	Any    bool             `json:"any"`
	LastTS int64            `json:"last_ts"`
	Out    [][]byte         `json:"out"`
}

func marshalState(s *State) ([]byte, error) {
	j := stateJSON{P: s.P, Users: s.Users, Any: s.Any, LastTS: s.LastTS, Out: make([][]byte, len(s.Out))}
	opts := proto.MarshalOptions{Deterministic: true}
	for i, r := range s.Out {
		b, err := opts.Marshal(r)
		if err != nil {
			return nil, err
		}
		j.Out[i] = b
	}
	return json.Marshal(j)
}

func unmarshalState(data []byte) (*State, error) {
	var j stateJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, err
	}
	s := &State{P: j.P, Users: j.Users, Any: j.Any, LastTS: j.LastTS}
	if s.Users == nil {
		s.Users = map[string]*User{}
	}
	for _, b := range j.Out {
		r := &behavioralv1.EventAnomaly{}
		if err := proto.Unmarshal(b, r); err != nil {
			return nil, err
		}
		s.Out = append(s.Out, r)
	}
	return s, nil
}
