// Package eventfold turns an event-log kernel (input = parameters plus a
// repeated `events` field) into a ring handler (package fold) whose state
// is the kernel's own incremental fold: Configure takes the parameters,
// each data message carries events that are checked, then folded one by
// one in ts order, and Snapshot is the kernel's snapshot of its state.
// The replay law holds by construction when the kernel's Batch path is the
// same fold over the ts-sorted events, which is how the procint and
// behavioral Ring kernels are written.
//
// The state encoding is an envelope around the kernel's own encoding: the
// configuration message (deterministic proto bytes), the ts of the last
// folded event, and the kernel state's bytes, so equal states give equal
// bytes.
package eventfold

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// Spec declares a kernel's ring behaviour over its state S.
type Spec[In, Out, E proto.Message, S any] struct {
	// Events returns the data field of an input message.
	Events func(in In) []E
	// TS returns an event's ts.
	TS func(e E) int64
	// Check validates the events of one data message (ids, values), the
	// same checks the Batch path makes, under the field name "events".
	Check func(ctx context.Context, events []E) error
	// Ready (optional) refuses data while the state cannot take events
	// (a model not configured yet), with a *kerr.FieldError.
	Ready func(s S) error
	// Init builds an empty state from a configuration message (its events
	// are empty), rejecting bad parameters with a *kerr.FieldError.
	Init func(ctx context.Context, cfg In) (S, error)
	// Apply folds one checked event, in ts order; it emits through rc.
	// It must not fail: everything that can be refused is refused by
	// Check before any event of the message is folded.
	Apply func(rc fold.Context, s S, e E)
	// Snapshot computes the Batch output from s.
	Snapshot func(ctx context.Context, s S) (Out, error)
	// Marshal encodes s deterministically; Unmarshal restores it under
	// the configuration cfg.
	Marshal   func(s S) ([]byte, error)
	Unmarshal func(ctx context.Context, cfg In, data []byte) (S, error)
	// Sort returns the stable ts order of events (the Batch order).
	Sort func(events []E) []E
	// Messages declares the events Apply emits (fold.Messages).
	Messages fold.Messages
}

// New returns a Handler with the default configuration.
func (sp Spec[In, Out, E, S]) New() fold.Handler {
	h := &handler[In, Out, E, S]{sp: sp}
	h.Reset()
	return h
}

type handler[In, Out, E proto.Message, S any] struct {
	sp     Spec[In, Out, E, S]
	cfg    In
	state  S
	any    bool
	lastTS int64
}

// RingMessages implements fold.Describer.
func (h *handler[In, Out, E, S]) RingMessages() fold.Messages { return h.sp.Messages }

func emptyOf[M proto.Message]() M {
	var zero M
	return zero.ProtoReflect().Type().New().Interface().(M)
}

func eventsField(m protoreflect.Message) protoreflect.FieldDescriptor {
	return m.Descriptor().Fields().ByName("events")
}

// withoutEvents is a copy of in with its events cleared.
func withoutEvents[In proto.Message](in In) In {
	c := proto.Clone(in).(In)
	m := c.ProtoReflect()
	m.Clear(eventsField(m))
	return c
}

func (h *handler[In, Out, E, S]) Reset() {
	cfg := emptyOf[In]()
	s, err := h.sp.Init(context.Background(), cfg)
	if err != nil {
		// An empty configuration takes the documented defaults; a Spec
		// whose defaults are refused is a programming error.
		panic(fmt.Sprintf("eventfold: default configuration rejected: %v", err))
	}
	h.cfg, h.state, h.any, h.lastTS = cfg, s, false, 0
}

func (h *handler[In, Out, E, S]) Configure(ctx context.Context, msg proto.Message) error {
	in, ok := msg.(In)
	if !ok {
		return fmt.Errorf("configure message is %T, want %T", msg, emptyOf[In]())
	}
	if len(h.sp.Events(in)) > 0 {
		return kerr.Invalid("events", "Configure takes the parameters only; send events as data messages")
	}
	s, err := h.sp.Init(ctx, in)
	if err != nil {
		return err
	}
	h.cfg, h.state, h.any, h.lastTS = proto.Clone(in).(In), s, false, 0
	return nil
}

func (h *handler[In, Out, E, S]) Apply(rc fold.Context, msg proto.Message) error {
	in, ok := msg.(In)
	if !ok {
		return fmt.Errorf("data message is %T, want %T", msg, emptyOf[In]())
	}
	// Parameters belong to Configure: a data message carries events only.
	var bad error
	in.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.Name() != "events" {
			bad = kerr.Invalid(string(fd.Name()), "is a parameter: set it with Configure (before the first data message or after Reset)")
			return false
		}
		return true
	})
	if bad != nil {
		return bad
	}
	if h.sp.Ready != nil {
		if err := h.sp.Ready(h.state); err != nil {
			return err
		}
	}
	evs := h.sp.Events(in)
	if err := h.sp.Check(rc, evs); err != nil {
		return err
	}
	last, any := h.lastTS, h.any
	for i, e := range evs {
		if any && h.sp.TS(e) < last {
			return kerr.Invalid("events["+strconv.Itoa(i)+"].ts", "ts %d is before the last applied ts %d (events arrive in ts order)", h.sp.TS(e), last)
		}
		last, any = h.sp.TS(e), true
	}
	for _, e := range evs {
		h.sp.Apply(rc, h.state, e)
	}
	h.lastTS, h.any = last, any
	return nil
}

func (h *handler[In, Out, E, S]) Snapshot(ctx context.Context) (proto.Message, error) {
	return h.sp.Snapshot(ctx, h.state)
}

type envelope struct {
	Config []byte          `json:"config"`
	Any    bool            `json:"any"`
	LastTS int64           `json:"last_ts"`
	State  json.RawMessage `json:"state"`
}

var deterministic = proto.MarshalOptions{Deterministic: true}

func (h *handler[In, Out, E, S]) MarshalState() ([]byte, error) {
	cfg, err := deterministic.Marshal(h.cfg)
	if err != nil {
		return nil, err
	}
	st, err := h.sp.Marshal(h.state)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(st) // bytes travel as base64: any encoding fits
	if err != nil {
		return nil, err
	}
	return json.Marshal(envelope{Config: cfg, Any: h.any, LastTS: h.lastTS, State: raw})
}

func (h *handler[In, Out, E, S]) UnmarshalState(data []byte) error {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return err
	}
	cfg := emptyOf[In]()
	if err := proto.Unmarshal(env.Config, cfg); err != nil {
		return err
	}
	var st []byte
	if err := json.Unmarshal(env.State, &st); err != nil {
		return err
	}
	s, err := h.sp.Unmarshal(context.Background(), cfg, st)
	if err != nil {
		return err
	}
	h.cfg, h.state, h.any, h.lastTS = cfg, s, env.Any, env.LastTS
	return nil
}

// Split returns the configuration (the input without events) and one
// data message per event, in stable ts order.
func (h *handler[In, Out, E, S]) Split(msg proto.Message) (proto.Message, []proto.Message) {
	in := msg.(In)
	cfg := withoutEvents(in)
	var out []proto.Message
	for _, e := range h.sp.Sort(h.sp.Events(in)) {
		m := emptyOf[In]()
		r := m.ProtoReflect()
		r.Mutable(eventsField(r)).List().Append(protoreflect.ValueOfMessage(e.ProtoReflect()))
		out = append(out, m)
	}
	return cfg, out
}

// State exposes a handler's kernel state (tests).
func State[S any](h fold.Handler) (S, bool) {
	type stater interface{ kernelState() any }
	if st, ok := h.(stater); ok {
		s, ok := st.kernelState().(S)
		return s, ok
	}
	var zero S
	return zero, false
}

func (h *handler[In, Out, E, S]) kernelState() any { return h.state }
