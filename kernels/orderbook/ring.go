package orderbook

import (
	"context"
	"fmt"
	"slices"

	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/enginefold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/orderbook/book"
)

// Event kinds a ring session sees, in execution order, before each reply:
// the book's ITCH-style events, then the order's state after the message.
const (
	EventAccepted   = "Accepted"
	EventExecuted   = "Executed"
	EventCanceled   = "Canceled"
	EventReplaced   = "Replaced"
	EventRejected   = "Rejected"
	EventSnapshot   = "Snapshot"
	EventOrderState = "OrderState"
)

// ringKernel runs orderbook/matching as a ring: Configure carries config,
// each data message carries one or more OrderMessages (non-decreasing ts)
// that go straight into a live engine.
var ringKernel = enginefold.Kernel[*orderbookv1.MatchingInput, *orderbookv1.MatchingOutput]{
	Messages: fold.Messages{
		Reply: &orderbookv1.MatchingOutput{},
		ReplyDoc: "This message's slice of the Batch output: its book events in execution order, the number of " +
			"executions (matches), and the state of each order it named once the whole message is applied.",
		Events: []fold.EventType{
			{Kind: EventAccepted, Message: &orderbookv1.Event{}, Doc: "An order entered the book (Event.accepted): " +
				"its id, symbol, side, type, limit price, quantity and time in force."},
			{Kind: EventExecuted, Message: &orderbookv1.Event{}, Doc: "A fill (Event.executed): maker and taker ids, " +
				"price, quantity and aggressor side, one per match in execution order."},
			{Kind: EventCanceled, Message: &orderbookv1.Event{}, Doc: "Quantity left the book (Event.canceled): a " +
				"cancel, an IOC/market remainder, a self-trade prevention or end of day; with the reason."},
			{Kind: EventReplaced, Message: &orderbookv1.Event{}, Doc: "A modify changed an order's price or quantity " +
				"(Event.replaced); priority_kept says whether it kept its place in the queue."},
			{Kind: EventRejected, Message: &orderbookv1.Event{}, Doc: "A request was refused by the book " +
				"(Event.rejected): the request kind and the reason. The message itself is still applied."},
			{Kind: EventSnapshot, Message: &orderbookv1.Event{}, Doc: "A snapshot request's L2 book " +
				"(Event.snapshot): per symbol, the bid and ask levels up to the requested depth."},
			{Kind: EventOrderState, Message: &orderbookv1.OrderState{}, Doc: "After the book events of a submit, " +
				"cancel or modify: the named order's resulting state (status, filled, remaining, average price)."},
		},
	},
	New: func(_ context.Context, in *orderbookv1.MatchingInput) (enginefold.Engine[*orderbookv1.MatchingInput, *orderbookv1.MatchingOutput], error) {
		if len(in.GetMessages()) > 0 {
			return nil, kerr.Invalid("messages", "Configure takes config only; send orders as data messages")
		}
		cfg, err := Config(in.GetConfig())
		if err != nil {
			return nil, err
		}
		return &ringBook{e: book.New(cfg)}, nil
	},
	Split: func(in *orderbookv1.MatchingInput) (*orderbookv1.MatchingInput, []*orderbookv1.MatchingInput) {
		msgs := slices.Clone(in.GetMessages())
		slices.SortStableFunc(msgs, func(a, b *orderbookv1.OrderMessage) int { return cmpTS(Msg(a).Ts, Msg(b).Ts) })
		data := make([]*orderbookv1.MatchingInput, len(msgs))
		for i, m := range msgs {
			data[i] = &orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{m}}
		}
		return &orderbookv1.MatchingInput{Config: in.GetConfig()}, data
	},
}

func cmpTS(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ringBook is one ring's live book.
type ringBook struct {
	e      *book.Engine
	lastTS int64
	seen   bool
}

func (b *ringBook) Apply(ctx context.Context, emit enginefold.Emit, in *orderbookv1.MatchingInput) error {
	if in.GetConfig() != nil {
		return kerr.Invalid("config", "is set by Configure only (before the first order, or after Reset)")
	}
	msgs := make([]book.Msg, len(in.GetMessages()))
	last, seen := b.lastTS, b.seen
	for i, m := range in.GetMessages() { // check all first: a refused message changes nothing
		if m.GetMsg() == nil {
			return kerr.Invalid(fmt.Sprintf("messages[%d]", i), "no message set")
		}
		msgs[i] = Msg(m)
		if seen && msgs[i].Ts < last {
			return kerr.Invalid(fmt.Sprintf("messages[%d].ts", i), "ts %d is before the book's latest ts %d", msgs[i].Ts, last)
		}
		last, seen = msgs[i].Ts, true
	}
	// The reply's output is this message's slice of the Batch output: its
	// events, its fills and the state of each order it named once the
	// whole message is applied (a later order of it may fill an earlier).
	out := &orderbookv1.MatchingOutput{}
	var named []uint64
	for i := range msgs {
		m := &msgs[i]
		n := len(b.e.Events())
		b.e.Apply(m)
		for j := range b.e.Events()[n:] {
			ev := &b.e.Events()[n+j]
			p := EventProto(ev)
			emit(eventKind[ev.Kind], p)
			out.Events = append(out.Events, p)
			if ev.Kind == book.EvExecuted {
				out.Matches++
			}
		}
		if m.Kind == book.MsgSubmit || m.Kind == book.MsgCancel || m.Kind == book.MsgModify {
			if r, ok := b.e.Order(m.ID); ok {
				emit(EventOrderState, OrderStateProto(r))
				if !slices.Contains(named, m.ID) {
					named = append(named, m.ID)
				}
			}
		}
	}
	for _, id := range named {
		if r, ok := b.e.Order(id); ok {
			out.Orders = append(out.Orders, OrderStateProto(r))
		}
	}
	b.lastTS, b.seen = last, seen
	fold.Reply(ctx, out)
	return nil
}

var eventKind = map[book.EventKind]string{
	book.EvAccepted: EventAccepted, book.EvExecuted: EventExecuted, book.EvCanceled: EventCanceled,
	book.EvReplaced: EventReplaced, book.EvRejected: EventRejected, book.EvSnapshot: EventSnapshot,
}

func (b *ringBook) Snapshot(context.Context) (*orderbookv1.MatchingOutput, error) {
	return Output(b.e), nil
}
