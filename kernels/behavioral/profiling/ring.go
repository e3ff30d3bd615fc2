package profiling

import (
	"context"
	"encoding/json"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
	"github.com/gokernels/gokernels/kernels/eventfold"
	"github.com/gokernels/gokernels/kernels/fold"
)

// RingSpec is behavioral/profiling over RingService: each event updates
// its user's sufficient statistics and the bounded buffer of the last
// 2·stability_window events; Snapshot derives every profile, equal to
// Batch. The state never holds more than 2·W events per user.
var RingSpec = eventfold.Spec[*behavioralv1.ProfilingInput, *behavioralv1.ProfilingOutput, *behavioralv1.UserEvent, *State]{
	Events: (*behavioralv1.ProfilingInput).GetEvents,
	TS:     (*behavioralv1.UserEvent).GetTs,
	Check: func(ctx context.Context, evs []*behavioralv1.UserEvent) error {
		return userevent.Check(ctx, "events", evs)
	},
	Init: func(_ context.Context, cfg *behavioralv1.ProfilingInput) (*State, error) {
		w, err := Window(cfg)
		if err != nil {
			return nil, err
		}
		return NewState(cfg.GetTzOffsetSeconds(), w), nil
	},
	Apply:    func(_ fold.Context, s *State, e *behavioralv1.UserEvent) { _ = s.Apply(e) }, // order checked by eventfold
	Snapshot: func(ctx context.Context, s *State) (*behavioralv1.ProfilingOutput, error) { return s.Snapshot(ctx) },
	Marshal:  func(s *State) ([]byte, error) { return json.Marshal(s) },
	Unmarshal: func(_ context.Context, _ *behavioralv1.ProfilingInput, data []byte) (*State, error) {
		s := &State{}
		return s, json.Unmarshal(data, s)
	},
	Sort: userevent.Sorted,
}
