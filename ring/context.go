package ring

import (
	"context"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/proto"
)

// Event is something a message made happen, delivered to watchers and, on
// a session, before the message's reply.
type Event struct {
	Seq       uint64
	TS        int64
	Kind      string // "applied" (every state-changing message) or the handler's kind
	ClientID  string
	ClientSeq uint64
	Code      uint32        // for "applied": the reply's code
	Payload   proto.Message // handler events; nil for "applied"
}

// applyCtx is the fold.Context of one message. Everything in it comes from
// the journal entry and the ring's seed, so replay sees the same values.
type applyCtx struct {
	context.Context
	e      *entry
	seed   uint64
	rng    *rand.Rand
	events []Event
	output proto.Message // fold.Reply
}

// SetReply implements fold.Replier.
func (c *applyCtx) SetReply(out proto.Message) { c.output = out }

func (c *applyCtx) Seq() uint64     { return c.e.Seq }
func (c *applyCtx) TS() int64       { return c.e.TS }
func (c *applyCtx) Time() time.Time { return time.Unix(0, c.e.Time).UTC() }

func (c *applyCtx) Rand() *rand.Rand {
	if c.rng == nil {
		c.rng = rand.New(rand.NewPCG(c.seed, c.e.Seq))
	}
	return c.rng
}

func (c *applyCtx) Emit(kind string, ev proto.Message) {
	c.events = append(c.events, Event{Seq: c.e.Seq, TS: c.e.TS, Kind: kind,
		ClientID: c.e.ClientID, ClientSeq: c.e.ClientSeq, Payload: ev})
}
