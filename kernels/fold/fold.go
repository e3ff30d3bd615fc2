// Package fold is the handler API of Ring kernels: a kernel's streaming
// behaviour written as a fold over messages. A handler owns a typed state;
// the ring runtime (package ring) calls Configure, Apply per data message,
// Snapshot for the derived result and Reset, always from the one goroutine
// that owns the ring, so handlers need no locks.
//
// Handlers must be deterministic: the journal holds the inputs and recovery
// re-executes them, so everything a handler knows beyond the message comes
// from its Context (sequence number, recorded time, seeded randomness).
// Handler packages may not read the wall clock or math/rand (a test in
// package ring scans them), and must not let Go's map iteration order leak
// into state or output.
//
// The replay law ties a ring to its Batch twin: feeding a Batch input as
// data messages in ts order, then Snapshot, equals the Batch output of the
// same kernel id.
package fold

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/proto"
)

// Context is what a handler may know besides the message. Every value is
// recorded in (or derived from) the journal, so replay sees the same ones.
type Context interface {
	context.Context
	// Seq is the message's position in the ring's total order (from 1).
	Seq() uint64
	// TS is the message's data timestamp (Unix seconds; non-decreasing).
	TS() int64
	// Time is the acceptance time the runtime recorded in the journal.
	Time() time.Time
	// Rand is a generator seeded from the ring's seed and Seq.
	Rand() *rand.Rand
	// Emit records an event; events are delivered before the message's reply.
	Emit(kind string, ev proto.Message)
}

// Handler is one ring's kernel behaviour, type-erased for the runtime.
type Handler interface {
	// Configure sets the parameters from the kernel's input message (its
	// data fields must be empty). Only valid before the first data message
	// or after Reset; the runtime enforces that.
	Configure(ctx context.Context, cfg proto.Message) error
	// Apply folds one data message (the kernel's input message carrying a
	// slice of the data) into the state. It must not change the state when
	// it returns an error.
	Apply(rc Context, msg proto.Message) error
	// Snapshot returns the full derived result: the Batch output.
	Snapshot(ctx context.Context) (proto.Message, error)
	// Reset returns to the unconfigured empty state.
	Reset()
	// MarshalState encodes the state deterministically (equal states give
	// equal bytes); UnmarshalState restores it.
	MarshalState() ([]byte, error)
	UnmarshalState(data []byte) error
	// Split turns a Batch input into a Configure message and data messages
	// in ts order, the feed under which the replay law holds.
	Split(in proto.Message) (cfg proto.Message, data []proto.Message)
}

// Spec declares a handler with a typed state S. S is encoded with
// encoding/json, which writes map keys sorted, so equal states give equal
// bytes; S's fields must therefore be exported and hold finite floats.
type Spec[In, Out proto.Message, S any] struct {
	// Configure builds a fresh state from the parameter fields of in,
	// rejecting data fields or bad parameters with a *kerr.FieldError.
	Configure func(ctx context.Context, in In) (*S, error)
	// Apply folds the data fields of in into s.
	Apply func(rc Context, s *S, in In) error
	// Snapshot computes the Batch output from s.
	Snapshot func(ctx context.Context, s *S) (Out, error)
	// Split turns a Batch input into its Configure message and its data
	// messages in ts order: the replay law's feed (tests, clients).
	Split func(in In) (cfg In, data []In)
	// Messages declares the reply output and the events of the handler
	// (the kernel's typed ring messages are generated from it).
	Messages Messages
}

// New returns a Handler over a fresh state (configured with defaults, as
// if an empty Configure had been sent).
func (sp Spec[In, Out, S]) New() Handler {
	h := &typed[In, Out, S]{spec: sp}
	h.Reset()
	return h
}

type typed[In, Out proto.Message, S any] struct {
	spec  Spec[In, Out, S]
	state *S
}

func (h *typed[In, Out, S]) Configure(ctx context.Context, cfg proto.Message) error {
	in, ok := cfg.(In)
	if !ok {
		var want In
		return fmt.Errorf("configure message is %T, want %T", cfg, want)
	}
	s, err := h.spec.Configure(ctx, in)
	if err != nil {
		return err
	}
	h.state = s
	return nil
}

func (h *typed[In, Out, S]) Apply(rc Context, msg proto.Message) error {
	in, ok := msg.(In)
	if !ok {
		var want In
		return fmt.Errorf("data message is %T, want %T", msg, want)
	}
	return h.spec.Apply(rc, h.state, in)
}

func (h *typed[In, Out, S]) Snapshot(ctx context.Context) (proto.Message, error) {
	return h.spec.Snapshot(ctx, h.state)
}

func (h *typed[In, Out, S]) Reset() {
	var zero In
	s, err := h.spec.Configure(context.Background(), zero.ProtoReflect().Type().New().Interface().(In))
	if err != nil {
		// The defaults of an empty message are always valid; a Spec whose
		// are not is a programming error caught by its own tests.
		panic(fmt.Sprintf("fold: default configuration rejected: %v", err))
	}
	h.state = s
}

func (h *typed[In, Out, S]) MarshalState() ([]byte, error) { return json.Marshal(h.state) }

func (h *typed[In, Out, S]) UnmarshalState(data []byte) error {
	s := new(S)
	if err := json.Unmarshal(data, s); err != nil {
		return err
	}
	h.state = s
	return nil
}

func (h *typed[In, Out, S]) Split(in proto.Message) (proto.Message, []proto.Message) {
	cfg, data := h.spec.Split(in.(In))
	out := make([]proto.Message, len(data))
	for i, d := range data {
		out[i] = d
	}
	return cfg, out
}

// State exposes a typed handler's state (tests).
func State[S any](h Handler) (*S, bool) {
	type stater interface{ stateAny() any }
	if st, ok := h.(stater); ok {
		s, ok := st.stateAny().(*S)
		return s, ok
	}
	return nil, false
}

func (h *typed[In, Out, S]) stateAny() any { return h.state }

// RingMessages implements Describer.
func (h *typed[In, Out, S]) RingMessages() Messages { return h.spec.Messages }

// Messages declares what a ring kernel sends besides its Batch output: the
// output of a data message's reply (Reply) and the events it emits (Emit).
// internal/cmd/kernelsvcgen generates the kernel's typed ring messages
// from it (<Kernel>RingRequest, <Kernel>RingReply, <Kernel>RingEvent in the
// kernel's proto package), and the server uses the same declaration to
// carry replies and events as those messages. A handler that emits a kind
// or replies with a type it does not declare breaks the typed protocol: a
// test over every Ring id replays its fixtures and checks both.
type Messages struct {
	// Reply is the type (any value of it) of the output fold.Reply gives a
	// data message; nil when data messages' replies carry no output.
	Reply proto.Message
	// ReplyDoc says what a data message's reply output holds.
	ReplyDoc string
	// Events are the kinds the handler emits, in the order of their field
	// numbers in <Kernel>RingEvent: append new kinds at the end, never
	// reorder or remove one (the field numbers are the wire format).
	Events []EventType
}

// EventType is one event kind a handler emits.
type EventType struct {
	// Kind is the kind passed to Context.Emit (RingEvent.kind).
	Kind string
	// Message is the type (any value of it) of the emitted message.
	Message proto.Message
	// Doc says when the event fires and what it carries.
	Doc string
}

// Describer is a handler that declares its Messages. Handlers built from
// Spec (and the helpers over it) are Describers.
type Describer interface {
	RingMessages() Messages
}

// Replier is implemented by the runtime's Context: it takes the output of
// the reply to the message being applied. It is a separate interface so
// that Context stays small and test fakes need not implement it.
type Replier interface {
	SetReply(out proto.Message)
}

// Reply sets the output of the reply to the message being applied (the
// order's resulting state, the instruction's result): the runtime sends it
// as the RingReply's output (JSON-shaped or typed, as the request asks),
// and a retried (client_id, client_seq) gets the same output back. It is
// derived, never journaled: replay recomputes it, so it must be a
// deterministic function of the state and the message like everything a
// handler does. The last call for a message wins; a ctx that is not the
// runtime's (a test fake, an engine rebuild) ignores it.
func Reply(ctx context.Context, out proto.Message) {
	if r, ok := ctx.(Replier); ok {
		r.SetReply(out)
	}
}
