package book

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// randomMsgs is a random stream around a mid of 1000 (tick 2, lot 5), with
// a share of invalid fields, duplicates, cancels, modifies, snapshots and
// end-of-day.
func randomMsgs(rng *rand.Rand, n int, symbols, traders []string) []Msg {
	var ids []uint64
	next := uint64(1)
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	msgs := make([]Msg, 0, n)
	for t := range n {
		u := rng.Float64()
		switch {
		case u < 0.65:
			m := Msg{Kind: MsgSubmit, ID: next, Symbol: pick(symbols), Trader: pick(traders),
				Side: pick([]string{"BUY", "SELL"}), Type: "LIMIT", TIF: pick([]string{"GTC", "GTC", "IOC", "FOK", "DAY", ""}),
				Qty: int64(5 * (1 + rng.IntN(40))), Ts: int64(t)}
			if rng.Float64() < 0.15 {
				m.Type = "MARKET"
			} else {
				off := int64(rng.IntN(13) - 6)
				if m.Side == "BUY" {
					off = -off
				}
				m.Price = 1000 + 2*off
			}
			if rng.Float64() < 0.03 {
				m.Price = 7
			}
			if rng.Float64() < 0.02 && len(ids) > 0 {
				m.ID = ids[rng.IntN(len(ids))]
			} else {
				ids = append(ids, next)
				next++
			}
			msgs = append(msgs, m)
		case u < 0.8 && len(ids) > 0:
			msgs = append(msgs, Msg{Kind: MsgCancel, ID: ids[rng.IntN(len(ids))], Ts: int64(t)})
		case u < 0.95 && len(ids) > 0:
			m := Msg{Kind: MsgModify, ID: ids[rng.IntN(len(ids))], Qty: int64(5 * (1 + rng.IntN(40))), Ts: int64(t)}
			if rng.IntN(2) == 0 {
				m.HasPrice, m.Price = true, 1000+2*int64(rng.IntN(13)-6)
			}
			msgs = append(msgs, m)
		case u < 0.98:
			msgs = append(msgs, Msg{Kind: MsgSnapshot, Depth: rng.IntN(3), Ts: int64(t)})
		default:
			msgs = append(msgs, Msg{Kind: MsgEndOfDay, Ts: int64(t)})
		}
	}
	return msgs
}

// queues records each level's FIFO (order ids) before a message.
func queues(e *Engine) map[string][]uint64 {
	q := map[string][]uint64{}
	for _, bk := range e.books {
		for s, lvls := range bk.sides {
			for _, li := range lvls {
				lv := e.lvl(li)
				k := fmt.Sprintf("%s/%d/%d", bk.symbol, s, lv.price)
				for h := lv.head; h != 0; h = e.ord(h).next {
					q[k] = append(q[k], e.ord(h).id)
				}
			}
		}
	}
	return q
}

// checkInvariants asserts the domains.md §5 invariants after a message.
func checkInvariants(t *testing.T, e *Engine, before map[string][]uint64, evs []Event, step int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("after message %d: "+format, append([]any{step}, args...)...)
	}
	resting := 0
	for _, bk := range e.books {
		for s, lvls := range bk.sides {
			for i, li := range lvls {
				lv := e.lvl(li)
				if i > 0 && (s == buy && e.lvl(lvls[i-1]).price >= lv.price || s == sell && e.lvl(lvls[i-1]).price <= lv.price) {
					fail("%s side %d levels out of order", bk.symbol, s)
				}
				var sum int64
				n := 0
				var prev uint32
				for h := lv.head; h != 0; h = e.ord(h).next {
					o := e.ord(h)
					if o.lvl != li || int64(o.price) != lv.price || o.side != uint8(s) || o.remaining <= 0 || o.self != h ||
						o.prev != prev || e.bookList[o.bk] != bk {
						fail("order %d misfiled in level %d", o.id, lv.price)
					}
					prev = h
					sum += int64(o.remaining)
					n++
				}
				if sum != lv.qty || n != lv.count || n == 0 || lv.tail != prev {
					fail("level %s %d: qty %d count %d, orders sum %d count %d", bk.symbol, lv.price, lv.qty, lv.count, sum, n)
				}
				resting += n
			}
		}
		if b, a := bk.sides[buy], bk.sides[sell]; len(b) > 0 && len(a) > 0 && e.lvl(b[len(b)-1]).price >= e.lvl(a[len(a)-1]).price {
			fail("%s crossed or locked: bid %d ask %d", bk.symbol, e.lvl(b[len(b)-1]).price, e.lvl(a[len(a)-1]).price)
		}
	}
	n := 0
	e.eachOrder(func(o *order) {
		if o.qty != o.filled+o.remaining+o.canceled || o.remaining < 0 || o.filled < 0 || o.canceled < 0 {
			fail("order %d: qty %d ≠ filled %d + remaining %d + canceled %d", o.id, o.qty, o.filled, o.remaining, o.canceled)
		}
		if (o.lvl != 0) != (o.remaining > 0) {
			fail("order %d: resting %v with remaining %d", o.id, o.lvl != 0, o.remaining)
		}
		if e.get(o.id) != o {
			fail("order %d: the id index points elsewhere", o.id)
		}
		if (e.resting(o.id) != nil) != (o.lvl != 0) {
			fail("order %d: index resting flag %v, resting %v", o.id, e.resting(o.id) != nil, o.lvl != 0)
		}
		if o.lvl != 0 {
			n++
		}
	})
	if n != resting {
		fail("%d resting orders indexed, %d in levels", n, resting)
	}
	// Fills respect both limits and priority: a maker trades at its own
	// price, the taker's limit is never violated, prices worsen
	// monotonically for the taker, and makers at one level trade in their
	// queue order with every order ahead of them gone.
	var lastPx int64
	makers := map[string][]uint64{}
	for _, ev := range evs {
		if ev.Kind != EvExecuted {
			continue
		}
		mk, tk := e.get(ev.MakerID), e.get(ev.OrderID)
		if ev.Qty <= 0 || mk.side == tk.side {
			fail("execution %d: qty %d, sides %d/%d", ev.MatchID, ev.Qty, mk.side, tk.side)
		}
		if !tk.market && (tk.side == buy && ev.Price > int64(tk.price) || tk.side == sell && ev.Price < int64(tk.price)) {
			fail("execution %d at %d violates taker limit %d", ev.MatchID, ev.Price, tk.price)
		}
		if lastPx != 0 && (tk.side == buy && ev.Price < lastPx || tk.side == sell && ev.Price > lastPx) {
			fail("execution %d at %d after %d: price priority broken", ev.MatchID, ev.Price, lastPx)
		}
		lastPx = ev.Price
		k := fmt.Sprintf("%s/%d/%d", e.bookList[mk.bk].symbol, mk.side, ev.Price)
		makers[k] = append(makers[k], ev.MakerID)
	}
	for k, ms := range makers {
		q := before[k]
		j := 0
		for _, id := range ms {
			for j < len(q) && q[j] != id {
				if o := e.get(q[j]); o.lvl != 0 && o.price == e.get(id).price {
					fail("maker %d traded while %d, ahead of it at %s, still rests", id, q[j], k)
				}
				j++
			}
			if j == len(q) {
				fail("maker %d was not resting at %s before the message", id, k)
			}
		}
	}
}

func TestInvariantsRandomStreams(t *testing.T) {
	for seed := range 12 {
		stp := STP(seed % 5)
		t.Run(fmt.Sprintf("seed%d_stp%d", seed, stp), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 1))
			e := New(Config{Symbols: []string{"A", "B"}, TickSize: 2, LotSize: 5, MinQty: 10, MaxQty: 1000, STP: stp})
			for i, m := range randomMsgs(rng, 3000, []string{"A", "B", "C"}, []string{"t1", "t2", "t3", ""}) {
				before := queues(e)
				k := len(e.events)
				e.Apply(&m)
				checkInvariants(t, e, before, e.events[k:], i)
			}
			if e.Matches() == 0 {
				t.Fatal("no executions: the stream does not exercise matching")
			}
		})
	}
}

// Every trade moves equal quantities: Σ filled over buyers = Σ filled over
// sellers = Σ executed qty, and notionals agree likewise.
func TestFillConservation(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	e := New(Config{TickSize: 2, LotSize: 5, MinQty: 5, MaxQty: MaxQty, STP: STPDecrement})
	for _, m := range randomMsgs(rng, 5000, []string{"A"}, []string{"x", "y"}) {
		e.Apply(&m)
	}
	var exec, exN int64
	for _, ev := range e.Events() {
		if ev.Kind == EvExecuted {
			exec += ev.Qty
			exN += ev.Qty * ev.Price
		}
	}
	var fill, ntnl [2]int64
	for _, r := range e.Orders() {
		s := 0
		if r.Side == "SELL" {
			s = 1
		}
		fill[s] += r.Filled
		ntnl[s] += r.Notional
	}
	if exec == 0 || fill[0] != exec || fill[1] != exec || ntnl[0] != exN || ntnl[1] != exN {
		t.Fatalf("executed %d (notional %d), buyers filled %d (%d), sellers %d (%d)", exec, exN, fill[0], ntnl[0], fill[1], ntnl[1])
	}
}

// A FOK that cannot fill leaves the book untouched; one that can fills
// completely.
func TestFOK(t *testing.T) {
	e := New(Config{TickSize: 1, LotSize: 1, MinQty: 1, MaxQty: MaxQty})
	e.Apply(&Msg{Kind: MsgSubmit, ID: 1, Symbol: "X", Side: "SELL", Type: "LIMIT", Price: 10, Qty: 5})
	e.Apply(&Msg{Kind: MsgSubmit, ID: 2, Symbol: "X", Side: "SELL", Type: "LIMIT", Price: 11, Qty: 5, Trader: "me"})
	e.Apply(&Msg{Kind: MsgSubmit, ID: 3, Symbol: "X", Side: "BUY", Type: "LIMIT", Price: 11, Qty: 8, TIF: "FOK", Trader: "me"})
	if got := e.Book(0)[0].Asks; len(got) != 2 || got[0].Qty != 5 || got[1].Qty != 5 {
		t.Fatalf("unfillable FOK (self-trade in the way) changed the book: %+v", got)
	}
	if ev := e.Events()[len(e.Events())-1]; ev.Kind != EvCanceled || ev.Reason != "FOK_UNFILLABLE" || ev.Qty != 8 {
		t.Fatalf("last event %+v, want CANCELED FOK_UNFILLABLE 8", ev)
	}
	e.Apply(&Msg{Kind: MsgSubmit, ID: 4, Symbol: "X", Side: "BUY", Type: "LIMIT", Price: 11, Qty: 8, TIF: "FOK"})
	if r := e.Orders()[3]; r.Status != "FILLED" || r.Notional != 5*10+3*11 {
		t.Fatalf("fillable FOK: %+v", r)
	}
}

// TestOrderIsOneCacheLine: the order layout is part of the design (a
// cancel of a random old order touches one cache line).
func TestOrderIsOneCacheLine(t *testing.T) {
	if n := unsafe.Sizeof(order{}); n != 64 {
		t.Fatalf("order is %d bytes, want 64", n)
	}
}

// TestExtremeQuantities: prices and quantities at their bounds (10⁹) fill,
// with a notional of 10¹⁸ in int64 and no int32 overflow in the order.
func TestExtremeQuantities(t *testing.T) {
	e := New(Config{TickSize: 1, LotSize: 1, MinQty: 1, MaxQty: MaxQty, STP: STPNone})
	e.Apply(&Msg{Kind: MsgSubmit, ID: 1, Symbol: "X", Side: "SELL", Type: "LIMIT", Price: MaxPrice, Qty: MaxQty})
	e.Apply(&Msg{Kind: MsgModify, ID: 1, Qty: MaxQty, HasPrice: true, Price: MaxPrice})
	e.Apply(&Msg{Kind: MsgSubmit, ID: 2, Symbol: "X", Side: "BUY", Type: "MARKET", Qty: MaxQty})
	r, _ := e.Order(2)
	if r.Filled != MaxQty || r.Notional != MaxQty*MaxPrice || r.Status != "FILLED" {
		t.Fatalf("taker %+v", r)
	}
	e.Apply(&Msg{Kind: MsgSubmit, ID: 3, Symbol: "X", Side: "BUY", Type: "LIMIT", Price: MaxPrice, Qty: MaxQty + 1})
	if ev := e.Events()[len(e.Events())-1]; ev.Kind != EvRejected || ev.Reason != "INVALID_QTY" {
		t.Fatalf("qty above MaxQty: %+v", ev)
	}
}
