// Package ringtest provides a small ring kernel for tests and benchmarks of
// the ring runtime and the RingService: "test/sum" over the testing Echo
// messages. Configure reads scale (default 1); each data message adds
// scale × b of its pairs to a running sum, draws from the ring's seeded
// generator (so replay must reproduce it), emits a "flag" event when flag
// is set, panics when panic is set and refuses mode "exact" (a handler
// error), answers a data message that carries scale with the running
// count and sum as the reply's output (fold.Reply), sleeps sleep_ms (a slow handler); Snapshot
// returns count = messages applied and scale = the sum.
package ringtest

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/proto"

	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/registry"
)

// ID is the test kernel's id.
const ID = "test/sum"

// State is the test kernel's state.
type State struct {
	Scale float64
	Sum   float64
	N     int
	Draw  uint64
	Last  int64 // rc.Time of the last message, Unix nanoseconds
}

// Spec is the test kernel's handler.
var Spec = fold.Spec[*testingv1.EchoInput, *testingv1.EchoOutput, State]{
	Configure: func(_ context.Context, in *testingv1.EchoInput) (*State, error) {
		scale := 1.0
		if in.Scale != nil {
			scale = in.GetScale()
		}
		return &State{Scale: scale}, nil
	},
	Apply: func(rc fold.Context, s *State, in *testingv1.EchoInput) error {
		if in.GetPanic() {
			panic("test panic")
		}
		if ms := in.GetSleepMs(); ms > 0 {
			// A slow handler, for backpressure tests (the sleep changes no state).
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		if in.GetMode() == "exact" {
			return errors.New("exact mode refused")
		}
		for _, p := range in.GetPairs() {
			s.Sum += p.GetB() * s.Scale
		}
		s.N++
		s.Draw ^= rc.Rand().Uint64()
		s.Last = rc.Time().UnixNano()
		if in.GetFlag() {
			rc.Emit("flag", &testingv1.EchoOutput{Count: int32(s.N)})
		}
		if in.Scale != nil {
			// The reply's output: the running count and sum after this message.
			fold.Reply(rc, &testingv1.EchoOutput{Count: int32(s.N), Scale: proto.Float64(s.Sum)})
		}
		return nil
	},
	Snapshot: func(_ context.Context, s *State) (*testingv1.EchoOutput, error) {
		return &testingv1.EchoOutput{Count: int32(s.N), Scale: proto.Float64(s.Sum)}, nil
	},
	Split: func(in *testingv1.EchoInput) (*testingv1.EchoInput, []*testingv1.EchoInput) {
		var out []*testingv1.EchoInput
		for _, p := range in.GetPairs() {
			out = append(out, &testingv1.EchoInput{Pairs: []*testingv1.Pair{p}})
		}
		return &testingv1.EchoInput{Scale: in.Scale}, out
	},
}

// Register adds test/sum (Batch: the replay of its input; Ring: Spec).
func Register(r *registry.Registry) error {
	err := registry.Add(r, registry.Meta{ID: ID, Domain: registry.DomainCore, Description: "Ring runtime test kernel.",
		Modes: []registry.Mode{registry.Batch, registry.Ring}},
		func(ctx context.Context, in *testingv1.EchoInput) (*testingv1.EchoOutput, error) {
			cfg, data := Spec.Split(in)
			s, err := Spec.Configure(ctx, cfg)
			if err != nil {
				return nil, err
			}
			for _, d := range data {
				for _, p := range d.GetPairs() {
					s.Sum += p.GetB() * s.Scale
				}
				s.N++
			}
			return Spec.Snapshot(ctx, s)
		})
	if err != nil {
		return err
	}
	return r.AddRing(ID, Spec.New)
}
