package fraudsignatures

import (
	"context"
	"encoding/json"

	"google.golang.org/protobuf/proto"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
	"github.com/gokernels/gokernels/kernels/eventfold"
	"github.com/gokernels/gokernels/kernels/fold"
)

// EventAlert is the kind of the ring event emitted per detected match.
const EventAlert = "signature"

// RingSpec is behavioral/fraud-signatures over RingService: Configure
// loads the signatures; each event is added to its user's stream and the
// online detectors (Det: NFA runs for skip-till-next-match sequences, the
// last n types for strict ones, latest occurrences for time windows, a
// deque for counts, match counts for attributes and regexes) report the
// matches it completes, each emitted as a SignatureMatch (kind
// "signature") before the message's reply, one per signature at most.
// Snapshot recomputes the best match per (signature, user) over the
// streams, so it equals Batch.
var RingSpec = eventfold.Spec[*behavioralv1.FraudSignaturesInput, *behavioralv1.FraudSignaturesOutput, *behavioralv1.UserEvent, *State]{
	Messages: fold.Messages{Events: []fold.EventType{
		{Kind: EventAlert, Message: &behavioralv1.SignatureMatch{}, Doc: "An event completed a signature's match " +
			"for its user (at most one per signature per event): the SignatureMatch."},
	}},
	Events: (*behavioralv1.FraudSignaturesInput).GetEvents,
	TS:     (*behavioralv1.UserEvent).GetTs,
	Check: func(ctx context.Context, evs []*behavioralv1.UserEvent) error {
		return userevent.Check(ctx, "events", evs)
	},
	Init: func(_ context.Context, cfg *behavioralv1.FraudSignaturesInput) (*State, error) {
		sigs, err := Compile(cfg.GetSignatures())
		if err != nil {
			return nil, err
		}
		return NewState(sigs), nil
	},
	Apply: func(rc fold.Context, s *State, e *behavioralv1.UserEvent) {
		_ = s.Apply(e) // order checked by eventfold
		u := e.GetUserId()
		for _, m := range s.Detect(u, len(s.Users[u])-1) {
			rc.Emit(EventAlert, m)
		}
	},
	Snapshot: func(ctx context.Context, s *State) (*behavioralv1.FraudSignaturesOutput, error) {
		return s.Snapshot(ctx)
	},
	Marshal: marshalState,
	Unmarshal: func(_ context.Context, cfg *behavioralv1.FraudSignaturesInput, data []byte) (*State, error) {
		sigs, err := Compile(cfg.GetSignatures())
		if err != nil {
			return nil, err
		}
		s := NewState(sigs)
		return s, s.unmarshal(data)
	},
	Sort: userevent.Sorted,
}

type stateJSON struct {
	Users  map[string][][]byte `json:"users"`
	Det    map[string][]*Det   `json:"det"`
	Any    bool                `json:"any"`
	LastTS int64               `json:"last_ts"`
}

func marshalState(s *State) ([]byte, error) {
	j := stateJSON{Users: map[string][][]byte{}, Det: s.Det, Any: s.Any, LastTS: s.LastTS}
	opts := proto.MarshalOptions{Deterministic: true}
	for u, evs := range s.Users {
		l := make([][]byte, len(evs))
		for i, e := range evs {
			b, err := opts.Marshal(e)
			if err != nil {
				return nil, err
			}
			l[i] = b
		}
		j.Users[u] = l
	}
	return json.Marshal(j)
}

func (s *State) unmarshal(data []byte) error {
	var j stateJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	s.Any, s.LastTS = j.Any, j.LastTS
	if j.Det != nil {
		s.Det = j.Det
	}
	for u, l := range j.Users {
		evs := make([]*behavioralv1.UserEvent, len(l))
		for i, b := range l {
			evs[i] = &behavioralv1.UserEvent{}
			if err := proto.Unmarshal(b, evs[i]); err != nil {
				return err
			}
		}
		s.Users[u] = evs
	}
	return nil
}
