package eventcorrelation

import (
	"context"
	"encoding/json"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
	"github.com/gokernels/gokernels/kernels/eventfold"
	"github.com/gokernels/gokernels/kernels/fold"
)

// EventMerged is the kind of the ring event emitted when two clusters merge.
const EventMerged = "cluster_merged"

// RingSpec is behavioral/event-correlation over RingService: each event
// is joined with the retained events of the last window (both top lists
// updated) and unioned with its strong partners; every union of two
// clusters emits ClusterMerged{from, into}. Clusters only merge, so
// Snapshot equals Batch. State: the window deque, the top lists, the
// union-find with its per-cluster aggregates.
var RingSpec = eventfold.Spec[*behavioralv1.EventCorrelationInput, *behavioralv1.EventCorrelationOutput, *behavioralv1.UserEvent, *State]{
	Messages: fold.Messages{Events: []fold.EventType{
		{Kind: EventMerged, Message: &behavioralv1.ClusterMerged{}, Doc: "An event's strong correlations united " +
			"two clusters: the cluster merged (from) and the one it joined (into)."},
	}},
	Events: (*behavioralv1.EventCorrelationInput).GetEvents,
	TS:     (*behavioralv1.UserEvent).GetTs,
	Check: func(ctx context.Context, evs []*behavioralv1.UserEvent) error {
		return userevent.Check(ctx, "events", evs)
	},
	Init: func(_ context.Context, cfg *behavioralv1.EventCorrelationInput) (*State, error) {
		return NewState(params(cfg)), nil
	},
	Apply: func(rc fold.Context, s *State, e *behavioralv1.UserEvent) {
		merges, _ := s.Step(e) // order checked by eventfold
		for _, m := range merges {
			rc.Emit(EventMerged, &behavioralv1.ClusterMerged{From: m.From, Into: m.Into})
		}
	},
	Snapshot: func(ctx context.Context, s *State) (*behavioralv1.EventCorrelationOutput, error) {
		return s.Snapshot(ctx)
	},
	Marshal: func(s *State) ([]byte, error) { return json.Marshal(s) },
	Unmarshal: func(_ context.Context, _ *behavioralv1.EventCorrelationInput, data []byte) (*State, error) {
		s := NewState(Params{})
		return s, json.Unmarshal(data, s)
	},
	Sort: userevent.Sorted,
}
