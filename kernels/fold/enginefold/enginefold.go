// Package enginefold makes a ring handler (package fold) from a stateful
// engine that folds data messages one at a time — the order book, the
// settlement engine, the instruction matcher, the payments ledger. Apply
// goes straight to the live engine, which emits the message's events
// (fills, settlements, status changes) through the fold.Context before the
// runtime sends the reply; Snapshot reads the live engine, so nothing is
// recomputed per snapshot.
//
// The persisted state is event-sourced: the Configure message and every
// applied data message, proto-encoded deterministically. Equal histories
// therefore give equal bytes (the journal-replay law), and UnmarshalState
// rebuilds the engine by replaying them with events discarded — the
// engines' own pointer structures (price levels, FIFO queues, retry queues)
// never need a second encoding that could drift from the code that uses
// them. The cost is a state that grows with the messages applied (as the
// Batch twin's event log does) and a rebuild in time linear in them.
package enginefold

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/fold"
)

// Engine is one ring's live state.
type Engine[In, Out proto.Message] interface {
	// Apply folds the data fields of in, emitting its events in order. It
	// must leave the engine unchanged when it returns an error. Engines are
	// deterministic functions of their messages: they read no clock and no
	// randomness. An engine answers the message with fold.Reply(ctx, out)
	// (the reply's output: what the message did); ctx is the ring's
	// fold.Context when live and a plain context during a rebuild, where
	// the call does nothing.
	Apply(ctx context.Context, emit Emit, in In) error
	// Snapshot is the Batch output of everything applied so far.
	Snapshot(ctx context.Context) (Out, error)
}

// Emit delivers one event (fold.Context.Emit, or nothing during a rebuild).
type Emit func(kind string, ev proto.Message)

// quietCtx hides the fold.Context (and its fold.Replier) behind a plain
// context.Context.
type quietCtx struct{ context.Context }

// Kernel declares how to build and feed an engine.
type Kernel[In, Out proto.Message] struct {
	// New validates the parameter fields of a Configure message (rejecting
	// data fields with a *kerr.FieldError) and returns a fresh engine.
	New func(ctx context.Context, cfg In) (Engine[In, Out], error)
	// Split turns a Batch input into its Configure message and its data
	// messages in ts order (the replay law's feed).
	Split func(in In) (cfg In, data []In)
	// Messages declares the engine's reply output and events
	// (fold.Messages).
	Messages fold.Messages
}

// State is the persisted history and the live engine built from it.
type State[In, Out proto.Message] struct {
	Config []byte   `json:"config"`
	Msgs   [][]byte `json:"msgs"`
	eng    Engine[In, Out]
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// Spec is the fold.Spec of k.
func Spec[In, Out proto.Message](k Kernel[In, Out]) fold.Spec[In, Out, State[In, Out]] {
	live := func(ctx context.Context, s *State[In, Out]) error {
		if s.eng != nil {
			return nil
		}
		return rebuild(ctx, k, s)
	}
	return fold.Spec[In, Out, State[In, Out]]{
		Configure: func(ctx context.Context, in In) (*State[In, Out], error) {
			eng, err := k.New(ctx, in)
			if err != nil {
				return nil, err
			}
			cfg, err := deterministic.Marshal(in)
			if err != nil {
				return nil, err
			}
			return &State[In, Out]{Config: cfg, eng: eng}, nil
		},
		Apply: func(rc fold.Context, s *State[In, Out], in In) error {
			if err := live(rc, s); err != nil {
				return err
			}
			b, err := deterministic.Marshal(in)
			if err != nil {
				return err
			}
			if err := s.eng.Apply(rc, rc.Emit, in); err != nil {
				return err
			}
			s.Msgs = append(s.Msgs, b)
			return nil
		},
		Snapshot: func(ctx context.Context, s *State[In, Out]) (Out, error) {
			if err := live(ctx, s); err != nil {
				var zero Out
				return zero, err
			}
			return s.eng.Snapshot(ctx)
		},
		Split:    k.Split,
		Messages: k.Messages,
	}
}

// rebuild replays the recorded history into a fresh engine.
func rebuild[In, Out proto.Message](ctx context.Context, k Kernel[In, Out], s *State[In, Out]) error {
	var zero In
	newIn := func() In { return zero.ProtoReflect().Type().New().Interface().(In) }
	cfg := newIn()
	if err := proto.Unmarshal(s.Config, cfg); err != nil {
		return err
	}
	eng, err := k.New(ctx, cfg)
	if err != nil {
		return err
	}
	quiet := func(string, proto.Message) {} // delivered when first applied
	// Nor may the history set the reply output of the message that
	// triggered the rebuild: the engines see a plain context here.
	plain := quietCtx{ctx}
	for _, b := range s.Msgs {
		m := newIn()
		if err := proto.Unmarshal(b, m); err != nil {
			return err
		}
		if err := eng.Apply(plain, quiet, m); err != nil {
			return err
		}
	}
	s.eng = eng
	return nil
}
