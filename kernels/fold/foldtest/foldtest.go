// Package foldtest is the fold.Context of handler tests: a handler's Apply
// can be driven directly, without a ring runtime, journal or session, and
// the test reads back what the message emitted and replied.
//
// Its values follow the runtime's (package ring): Rand is seeded from Seed
// and the sequence number the same way, so a handler drawing randomness sees
// the numbers it would see in a ring with that seed.
package foldtest

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/fold"
)

// Event is one Emit call.
type Event struct {
	Kind string
	Msg  proto.Message
}

// Context is a fold.Context (and a fold.Replier) whose message values are
// set by the test. The zero value with Context set is usable: sequence 0,
// timestamp 0, seed 0. One Context may serve several messages; set
// Sequence (and TS) before each, and call Clear to forget what the previous
// message emitted and replied.
type Context struct {
	context.Context
	Sequence  uint64    // returned by Seq
	Timestamp int64     // returned by TS
	Accepted  time.Time // returned by Time; zero means Timestamp in UTC
	Seed      uint64    // the ring's seed, for Rand

	events  []Event
	reply   proto.Message
	rng     *rand.Rand
	rngSeed uint64
	rngSeq  uint64
}

var (
	_ fold.Context = (*Context)(nil)
	_ fold.Replier = (*Context)(nil)
)

// New returns a Context over ctx for the message with sequence number seq.
func New(ctx context.Context, seq uint64) *Context {
	return &Context{Context: ctx, Sequence: seq}
}

// Seq implements fold.Context.
func (c *Context) Seq() uint64 { return c.Sequence }

// TS implements fold.Context.
func (c *Context) TS() int64 { return c.Timestamp }

// Time implements fold.Context.
func (c *Context) Time() time.Time {
	if c.Accepted.IsZero() {
		return time.Unix(c.Timestamp, 0).UTC()
	}
	return c.Accepted
}

// Rand implements fold.Context: PCG(Seed, Sequence), like the runtime, and
// the same generator for repeated calls within one message.
func (c *Context) Rand() *rand.Rand {
	if c.rng == nil || c.rngSeed != c.Seed || c.rngSeq != c.Sequence {
		c.rng = rand.New(rand.NewPCG(c.Seed, c.Sequence))
		c.rngSeed, c.rngSeq = c.Seed, c.Sequence
	}
	return c.rng
}

// Emit implements fold.Context: it records the event.
func (c *Context) Emit(kind string, ev proto.Message) {
	c.events = append(c.events, Event{Kind: kind, Msg: ev})
}

// SetReply implements fold.Replier: the last call wins, as in the runtime.
func (c *Context) SetReply(out proto.Message) { c.reply = out }

// Events returns the emitted events in order.
func (c *Context) Events() []Event { return c.events }

// Kinds returns the kinds of the emitted events in order.
func (c *Context) Kinds() []string {
	if len(c.events) == 0 {
		return nil
	}
	kinds := make([]string, len(c.events))
	for i, e := range c.events {
		kinds[i] = e.Kind
	}
	return kinds
}

// Emitted returns, in order, the messages of c's events of the given kind,
// as T. It panics (failing the test) if one is not a T: a handler emitting
// another type under kind is a bug the test should show.
func Emitted[T proto.Message](c *Context, kind string) []T {
	var out []T
	for _, e := range c.events {
		if e.Kind != kind {
			continue
		}
		var m T // a nil event stays the zero T
		if e.Msg != nil {
			m = e.Msg.(T)
		}
		out = append(out, m)
	}
	return out
}

// Reply returns the output set with fold.Reply (nil if none).
func (c *Context) Reply() proto.Message { return c.reply }

// Clear forgets the recorded events and reply. It keeps the events' backing
// array, so a benchmark that clears after every message does not allocate
// for the next one's events; a slice from Events taken before Clear is
// overwritten by later Emits (copy it to keep it).
func (c *Context) Clear() {
	c.events, c.reply = c.events[:0], nil
}

// Restored is h's state marshalled and unmarshalled into a fresh handler
// from newHandler: the mid-stream round trip the ring tests compare
// against the handler that kept running.
func Restored(t testing.TB, h fold.Handler, newHandler func() fold.Handler) fold.Handler {
	t.Helper()
	b, err := h.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	r := newHandler()
	if err := r.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	return r
}
