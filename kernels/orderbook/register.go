// Package orderbook registers the OrderMatching kernel orderbook/matching:
// the glue between proto/gokernels/kernels/orderbook/v1 and the engine in
// orderbook/book.
package orderbook

import (
	"context"
	"fmt"
	"slices"

	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/enginefold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/orderbook/book"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds orderbook/matching to r.
func Register(r *registry.Registry) error {
	return registry.Register(r, Matching)
}

// Job is a validated configuration and the messages in ts order.
type Job struct {
	Config book.Config
	Msgs   []book.Msg
}

// Matching is orderbook/matching: a Ring kernel whose Batch twin folds the
// message list through one engine.
var Matching = registry.Def[*orderbookv1.MatchingInput, *orderbookv1.MatchingOutput, *Job]{
	Meta: registry.Meta{
		ID:     "orderbook/matching",
		Domain: registry.DomainOrderMatching,
		Modes:  []registry.Mode{registry.Batch, registry.Ring},
		Description: "Continuous double auction with price-time priority (ITCH 5.0 events, FIX STP modes, FOK pre-check, " +
			"Eurex modify priority); equals the Python reference engine event for event.",
	},
	Prepare: prepare,
	CPU:     run,
	Ring:    func() fold.Handler { return enginefold.Spec(ringKernel).New() },
	Estimate: func(in *orderbookv1.MatchingInput) registry.Cost {
		n := int64(len(in.GetMessages()))
		return registry.Cost{WorkingBytes: 400 * n, OutputBytes: 300 * n, Work: float64(n)}
	},
}

// Config converts a validated proto configuration, applying the defaults.
func Config(c *orderbookv1.MatchingConfig) (book.Config, error) {
	if c == nil {
		c = &orderbookv1.MatchingConfig{}
	}
	stp, ok := book.ParseSTP(c.GetStpMode())
	if !ok {
		return book.Config{}, kerr.Invalid("config.stp_mode", "unknown mode %q", c.GetStpMode())
	}
	def := func(v *int64, d int64) int64 {
		if v != nil {
			return *v
		}
		return d
	}
	cfg := book.Config{
		Symbols:  c.GetSymbols(),
		TickSize: def(c.TickSize, 1),
		LotSize:  def(c.LotSize, 1),
		MinQty:   def(c.MinQty, 1),
		MaxQty:   def(c.MaxQty, book.MaxQty),
		STP:      stp,
	}
	if cfg.MinQty > cfg.MaxQty {
		return book.Config{}, kerr.Invalid("config.min_qty", "%d exceeds max_qty %d", cfg.MinQty, cfg.MaxQty)
	}
	for i, s := range cfg.Symbols {
		if slices.Contains(cfg.Symbols[:i], s) {
			return book.Config{}, kerr.Invalid(fmt.Sprintf("config.symbols[%d]", i), "duplicate symbol %q", s)
		}
	}
	return cfg, nil
}

// Msg converts one proto message.
func Msg(m *orderbookv1.OrderMessage) book.Msg {
	switch x := m.GetMsg().(type) {
	case *orderbookv1.OrderMessage_Submit:
		s := x.Submit
		return book.Msg{Kind: book.MsgSubmit, ID: s.GetOrderId(), Symbol: s.GetSymbol(), Trader: s.GetTraderId(),
			Side: s.GetSide(), Type: s.GetType(), TIF: s.GetTif(), Price: s.GetPrice(), Qty: s.GetQty(), Ts: s.GetTs()}
	case *orderbookv1.OrderMessage_Cancel:
		return book.Msg{Kind: book.MsgCancel, ID: x.Cancel.GetOrderId(), Ts: x.Cancel.GetTs()}
	case *orderbookv1.OrderMessage_Modify:
		md := x.Modify
		return book.Msg{Kind: book.MsgModify, ID: md.GetOrderId(), Qty: md.GetQty(), Price: md.GetPrice(),
			HasPrice: md.Price != nil, Ts: md.GetTs()}
	case *orderbookv1.OrderMessage_Snapshot:
		return book.Msg{Kind: book.MsgSnapshot, Depth: int(x.Snapshot.GetDepth()), Ts: x.Snapshot.GetTs()}
	default:
		return book.Msg{Kind: book.MsgEndOfDay, Ts: m.GetEndOfDay().GetTs()}
	}
}

func prepare(ctx context.Context, in *orderbookv1.MatchingInput) (*Job, error) {
	if err := limits.Check("messages", len(in.GetMessages()), limits.From(ctx).MaxSamples); err != nil {
		return nil, err
	}
	cfg, err := Config(in.GetConfig())
	if err != nil {
		return nil, err
	}
	msgs := make([]book.Msg, len(in.GetMessages()))
	for i, m := range in.GetMessages() {
		if m.GetMsg() == nil {
			return nil, kerr.Invalid(fmt.Sprintf("messages[%d]", i), "no message set")
		}
		msgs[i] = Msg(m)
	}
	// §1.5: inputs are stable-sorted by ts, so the replay law holds for a
	// Ring session that receives them in ts order.
	slices.SortStableFunc(msgs, func(a, b book.Msg) int {
		switch {
		case a.Ts < b.Ts:
			return -1
		case a.Ts > b.Ts:
			return 1
		}
		return 0
	})
	return &Job{Config: cfg, Msgs: msgs}, nil
}

func run(ctx context.Context, job *Job) (*orderbookv1.MatchingOutput, error) {
	e := book.New(job.Config)
	for i := range job.Msgs {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		e.Apply(&job.Msgs[i])
	}
	return Output(e), nil
}

// Output is the engine's Snapshot: the event log, the order rows and the
// full book.
func Output(e *book.Engine) *orderbookv1.MatchingOutput {
	evs := e.Events()
	out := &orderbookv1.MatchingOutput{
		Events:  make([]*orderbookv1.Event, len(evs)),
		Book:    Books(e.Book(0)),
		Matches: e.Matches(),
	}
	for i := range evs {
		out.Events[i] = EventProto(&evs[i])
	}
	for _, r := range e.Orders() {
		out.Orders = append(out.Orders, OrderStateProto(r))
	}
	return out
}

// OrderStateProto converts one order row.
func OrderStateProto(r book.OrderRow) *orderbookv1.OrderState {
	return &orderbookv1.OrderState{
		OrderId: r.ID, Symbol: r.Symbol, Side: r.Side, Price: r.Price, Status: r.Status, Qty: r.Qty,
		Filled: r.Filled, Remaining: r.Remaining, Canceled: r.Canceled, Notional: r.Notional, AvgPrice: r.AvgPrice,
	}
}

// EventProto converts one event.
func EventProto(ev *book.Event) *orderbookv1.Event {
	switch ev.Kind {
	case book.EvAccepted:
		return &orderbookv1.Event{Kind: &orderbookv1.Event_Accepted{Accepted: &orderbookv1.Accepted{
			OrderId: ev.OrderID, Symbol: ev.Symbol, Side: ev.Side, Type: ev.Type, Price: ev.Price, Qty: ev.Qty, Tif: ev.TIF}}}
	case book.EvExecuted:
		return &orderbookv1.Event{Kind: &orderbookv1.Event_Executed{Executed: &orderbookv1.Executed{
			MatchId: ev.MatchID, Symbol: ev.Symbol, MakerId: ev.MakerID, TakerId: ev.OrderID, Price: ev.Price,
			Qty: ev.Qty, AggressorSide: ev.Side}}}
	case book.EvCanceled:
		return &orderbookv1.Event{Kind: &orderbookv1.Event_Canceled{Canceled: &orderbookv1.Canceled{
			OrderId: ev.OrderID, Qty: ev.Qty, Reason: ev.Reason}}}
	case book.EvReplaced:
		return &orderbookv1.Event{Kind: &orderbookv1.Event_Replaced{Replaced: &orderbookv1.Replaced{
			OrderId: ev.OrderID, Price: ev.Price, Qty: ev.Qty, PriorityKept: ev.PriorityKept}}}
	case book.EvRejected:
		return &orderbookv1.Event{Kind: &orderbookv1.Event_Rejected{Rejected: &orderbookv1.Rejected{
			OrderId: ev.OrderID, Request: ev.Request, Reason: ev.Reason}}}
	default:
		return &orderbookv1.Event{Kind: &orderbookv1.Event_Snapshot{Snapshot: &orderbookv1.BookSnapshot{Books: Books(ev.Books)}}}
	}
}

// Books converts an L2 book.
func Books(bs []book.SymbolBook) []*orderbookv1.SymbolBook {
	out := make([]*orderbookv1.SymbolBook, len(bs))
	lv := func(ls []book.Level) []*orderbookv1.Level {
		o := make([]*orderbookv1.Level, len(ls))
		for i, l := range ls {
			o[i] = &orderbookv1.Level{Price: l.Price, Qty: l.Qty, OrderCount: int32(l.OrderCount)}
		}
		return o
	}
	for i, b := range bs {
		out[i] = &orderbookv1.SymbolBook{Symbol: b.Symbol, Bids: lv(b.Bids), Asks: lv(b.Asks)}
	}
	return out
}
