// Package book is a continuous double auction with price-time priority:
// per symbol, two sides of price levels, each level a FIFO queue of resting
// orders. It follows NASDAQ TotalView-ITCH 5.0 event semantics and FIX 5.0
// order handling (domains.md §5): SUBMIT / CANCEL / MODIFY / SNAPSHOT /
// END_OF_DAY messages in, ACCEPTED / EXECUTED / CANCELED / REPLACED /
// REJECTED / SNAPSHOT events out.
//
// The engine is a state machine: Apply folds one message into the state and
// appends its events, Orders and Book read the state. The Batch kernel and
// the Ring session both drive it, so replaying a Batch input message by
// message gives the Batch result by construction.
//
// Prices and quantities are int64 integers bounded by MaxPrice and MaxQty,
// so every notional (≤ MaxPrice·MaxQty per order) fits in int64.
package book

import (
	"slices"
	"sort"
)

// Bounds on prices and quantities.
const (
	MaxPrice = 1_000_000_000
	MaxQty   = 1_000_000_000
)

// STP is a self-trade prevention mode (FIX tag 2964, Binance STP).
type STP uint8

// The STP modes.
const (
	STPCancelAggressor STP = iota // default
	STPNone
	STPCancelResting
	STPCancelBoth
	STPDecrement
)

// ParseSTP maps the proto's string to a mode; "" is the default.
func ParseSTP(s string) (STP, bool) {
	switch s {
	case "", "CANCEL_AGGRESSOR":
		return STPCancelAggressor, true
	case "NONE":
		return STPNone, true
	case "CANCEL_RESTING":
		return STPCancelResting, true
	case "CANCEL_BOTH":
		return STPCancelBoth, true
	case "DECREMENT":
		return STPDecrement, true
	}
	return 0, false
}

// Config is the book configuration.
type Config struct {
	Symbols  []string // empty = any non-empty symbol
	TickSize int64
	LotSize  int64
	MinQty   int64
	MaxQty   int64
	STP      STP
}

// MsgKind names a message.
type MsgKind uint8

// The messages.
const (
	MsgSubmit MsgKind = iota
	MsgCancel
	MsgModify
	MsgSnapshot
	MsgEndOfDay
)

// Msg is one data message. Side, Type and TIF are the wire strings: an
// unknown value is a REJECTED event, not an error.
type Msg struct {
	Kind     MsgKind
	ID       uint64
	Symbol   string
	Trader   string
	Side     string
	Type     string
	TIF      string
	Price    int64
	HasPrice bool // MODIFY: a new price is given
	Qty      int64
	Depth    int // SNAPSHOT: levels per side, 0 = all
	Ts       int64
}

// EventKind names an event.
type EventKind uint8

// The events.
const (
	EvAccepted EventKind = iota
	EvExecuted
	EvCanceled
	EvReplaced
	EvRejected
	EvSnapshot
)

// Event is one event of the log. Fields not used by a kind are zero.
type Event struct {
	Kind         EventKind
	OrderID      uint64 // accepted, canceled, replaced, rejected; executed: taker
	MakerID      uint64 // executed
	MatchID      uint64 // executed
	Symbol       string // accepted, executed
	Side         string // accepted; executed: the aggressor side
	Type         string // accepted
	TIF          string // accepted
	Price        int64
	Qty          int64
	Reason       string // canceled, rejected
	Request      string // rejected: SUBMIT, CANCEL or MODIFY
	PriorityKept bool   // replaced
	Books        []SymbolBook
}

// Level is one L2 level.
type Level struct {
	Price      int64
	Qty        int64
	OrderCount int
}

// SymbolBook is one symbol's L2 book, best levels first.
type SymbolBook struct {
	Symbol string
	Bids   []Level
	Asks   []Level
}

// OrderRow is an accepted order's state.
type OrderRow struct {
	ID        uint64
	Symbol    string
	Side      string
	Price     int64
	Status    string
	Qty       int64
	Filled    int64
	Remaining int64
	Canceled  int64
	Notional  int64
	AvgPrice  float64
}

const (
	buy  = 0
	sell = 1
)

var sideName = [2]string{"BUY", "SELL"}

// An order holds no Go pointer: links are handles (1-based positions in
// the engine's order chunks), its level and book are indices and its
// trader an interned number. A book of a million resting orders is then
// memory the garbage collector never scans, and storing an order needs no
// write barrier — with pointers, GC work was a quarter of the order
// book's CPU profile on the 70/20/10 mix. Prices and quantities are at
// most 10⁹ (MaxPrice, MaxQty), so they fit int32 and an order is 64 bytes:
// one cache line, which a cancel of a random old order misses once.
type order struct {
	id                               uint64
	ntnl                             int64
	price                            int32
	qty, filled, remaining, canceled int32
	self, prev, next                 uint32 // handles; 0 = none
	lvl                              uint32 // level index + 1; 0 = not resting
	bk                               uint32 // index into Engine.bookList
	trader                           uint32 // interned; 0 = no trader (or STP off)
	side                             uint8
	market                           bool
	tif                              tif
}

// tif is a time in force.
type tif uint8

// The times in force.
const (
	tifGTC tif = iota
	tifIOC
	tifFOK
	tifDAY
)

var tifName = [...]string{"GTC", "IOC", "FOK", "DAY"}

type level struct {
	price      int64
	qty        int64
	count      int
	head, tail uint32 // order handles
}

// symBook keeps each side sorted so that the best level is last: bids
// ascending, asks descending. Aggressive flow touches the end of the slice.
// Sides hold level indices + 1.
type symBook struct {
	symbol string
	idx    uint32 // position in Engine.bookList
	sides  [2][]uint32
}

// restingBit flags an index entry whose order rests in a level.
const restingBit = 1 << 31

// Orders live in fixed-size chunks that never move, so *order pointers
// taken during one Apply stay valid.
const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
)

// Engine is the order book state machine.
type Engine struct {
	cfg      Config
	books    map[string]*symBook
	bookList []*symBook
	lastBook *symBook // the previous submit's book: most streams repeat it
	orders   index
	chunks   [][]order
	nOrders  uint32
	traders  map[string]uint32
	matchSeq uint64
	events   []Event
	lvls     []level
	freeLvls []uint32
}

// New returns an empty engine. cfg must hold validated values.
func New(cfg Config) *Engine {
	if cfg.MaxQty <= 0 || cfg.MaxQty > MaxQty {
		cfg.MaxQty = MaxQty
	}
	e := &Engine{cfg: cfg, books: map[string]*symBook{}}
	for _, s := range cfg.Symbols {
		e.addBook(s)
	}
	return e
}

func (e *Engine) addBook(symbol string) *symBook {
	bk := &symBook{symbol: symbol, idx: uint32(len(e.bookList))}
	e.books[symbol] = bk
	e.bookList = append(e.bookList, bk)
	return bk
}

// ord is the order with handle h (h > 0).
func (e *Engine) ord(h uint32) *order {
	h--
	return &e.chunks[h>>chunkBits][h&(chunkSize-1)]
}

// get is the accepted order with this id, or nil.
func (e *Engine) get(id uint64) *order {
	if h := e.orders.get(id) &^ restingBit; h != 0 {
		return e.ord(h)
	}
	return nil
}

// resting is the resting order with this id, or nil. The index entry
// carries a resting flag, so a cancel or modify of an order that is gone
// (filled, canceled, or never accepted) is answered from the index alone,
// without loading the order: in the 70/20/10 mix almost every cancel
// names such an order, and the order's cache line was the load that
// missed.
func (e *Engine) resting(id uint64) *order {
	if h := e.orders.get(id); h&restingBit != 0 {
		return e.ord(h &^ restingBit)
	}
	return nil
}

// lvl is the level with index+1 li (li > 0).
func (e *Engine) lvl(li uint32) *level { return &e.lvls[li-1] }

// eachOrder calls f for every accepted order, in no particular order.
func (e *Engine) eachOrder(f func(*order)) {
	for h := uint32(1); h <= e.nOrders; h++ {
		f(e.ord(h))
	}
}

// traderID interns a trader for self-trade prevention; with STP off the
// trader plays no part in matching and is not interned.
func (e *Engine) traderID(t string) uint32 {
	if t == "" || e.cfg.STP == STPNone {
		return 0
	}
	id, ok := e.traders[t]
	if !ok {
		if e.traders == nil {
			e.traders = map[string]uint32{}
		}
		id = uint32(len(e.traders) + 1)
		e.traders[t] = id
	}
	return id
}

// Events returns the events emitted so far (owned by the engine).
func (e *Engine) Events() []Event { return e.events }

// ResetEvents drops the emitted events (a streaming caller that has sent
// them keeps memory bounded).
func (e *Engine) ResetEvents() { e.events = e.events[:0] }

// Matches is the number of executions so far.
func (e *Engine) Matches() uint64 { return e.matchSeq }

func (e *Engine) emit(ev Event) { e.events = append(e.events, ev) }

func (e *Engine) reject(id uint64, request, reason string) {
	e.emit(Event{Kind: EvRejected, OrderID: id, Request: request, Reason: reason})
}

// newOrder takes the next order slot; it returns nil when the handles are
// exhausted (2³¹ − 1 orders: the index keeps the top bit for restingBit).
func (e *Engine) newOrder() *order {
	if e.nOrders == restingBit-1 {
		return nil
	}
	if int(e.nOrders>>chunkBits) == len(e.chunks) {
		e.chunks = append(e.chunks, make([]order, chunkSize))
	}
	e.nOrders++
	o := e.ord(e.nOrders)
	o.self = e.nOrders
	return o
}

// Apply folds one message into the book.
func (e *Engine) Apply(m *Msg) {
	switch m.Kind {
	case MsgSubmit:
		e.submit(m)
	case MsgCancel:
		o := e.resting(m.ID)
		if o == nil {
			e.reject(m.ID, "CANCEL", "UNKNOWN_ORDER")
			return
		}
		e.cancelResting(o, o.remaining, "USER")
	case MsgModify:
		e.modify(m)
	case MsgSnapshot:
		e.emit(Event{Kind: EvSnapshot, Books: e.Book(m.Depth)})
	case MsgEndOfDay:
		e.endOfDay()
	}
}

func (e *Engine) validPrice(p int64) bool {
	return p > 0 && p <= MaxPrice && p%e.cfg.TickSize == 0
}

func (e *Engine) validQty(q int64, modify bool) bool {
	return q > 0 && q%e.cfg.LotSize == 0 && q <= e.cfg.MaxQty && (modify || q >= e.cfg.MinQty)
}

func (e *Engine) submit(m *Msg) {
	rej := func(reason string) { e.reject(m.ID, "SUBMIT", reason) }
	if e.orders.get(m.ID) != 0 {
		rej("DUPLICATE_ID")
		return
	}
	bk := e.lastBook
	if bk == nil || bk.symbol != m.Symbol {
		bk = e.books[m.Symbol]
	}
	if bk == nil && (len(e.cfg.Symbols) > 0 || m.Symbol == "") {
		rej("UNKNOWN_SYMBOL")
		return
	}
	var side uint8
	switch m.Side {
	case "BUY":
		side = buy
	case "SELL":
		side = sell
	default:
		rej("INVALID_SIDE")
		return
	}
	var market bool
	switch m.Type {
	case "LIMIT":
	case "MARKET":
		market = true
	default:
		rej("INVALID_TYPE")
		return
	}
	var tf tif
	switch m.TIF {
	case "", "GTC":
	case "IOC":
		tf = tifIOC
	case "FOK":
		tf = tifFOK
	case "DAY":
		tf = tifDAY
	default:
		rej("INVALID_TIF")
		return
	}
	if market && m.Price != 0 || !market && !e.validPrice(m.Price) {
		rej("INVALID_PRICE")
		return
	}
	if !e.validQty(m.Qty, false) {
		rej("INVALID_QTY")
		return
	}
	if bk == nil {
		bk = e.addBook(m.Symbol)
	}
	e.lastBook = bk
	o := e.newOrder()
	if o == nil {
		rej("ORDER_LIMIT")
		return
	}
	*o = order{id: m.ID, self: o.self, bk: bk.idx, trader: e.traderID(m.Trader), side: side, market: market, tif: tf,
		price: int32(m.Price), qty: int32(m.Qty), remaining: int32(m.Qty)}
	e.orders.put(m.ID, o.self)
	e.emit(Event{Kind: EvAccepted, OrderID: m.ID, Symbol: bk.symbol, Side: m.Side, Type: m.Type,
		TIF: tifName[tf], Price: m.Price, Qty: m.Qty})
	if tf == tifFOK && !e.fillable(o) {
		e.cancelOwn(o, o.remaining, "FOK_UNFILLABLE")
		return
	}
	e.aggress(o)
	if o.remaining == 0 {
		return
	}
	switch {
	case market:
		e.cancelOwn(o, o.remaining, "MARKET_REMAINDER")
	case tf == tifIOC:
		e.cancelOwn(o, o.remaining, "IOC_REMAINDER")
	default:
		e.rest(o)
	}
}

// crosses reports whether an incoming order can trade at a resting price.
func crosses(o *order, price int64) bool {
	switch {
	case o.market:
		return true
	case o.side == buy:
		return price <= int64(o.price)
	default:
		return price >= int64(o.price)
	}
}

func (e *Engine) selfTrade(a, r *order) bool {
	return a.trader != 0 && a.trader == r.trader
}

// fillable is the FOK pre-check: a dry run of aggress, STP included, that
// reports whether the order would fill completely.
func (e *Engine) fillable(o *order) bool {
	need := o.remaining
	opp := e.bookList[o.bk].sides[1-o.side]
	for i := len(opp) - 1; i >= 0; i-- {
		lv := e.lvl(opp[i])
		if !crosses(o, lv.price) {
			return false
		}
		for h := lv.head; h != 0; {
			r := e.ord(h)
			h = r.next
			if e.selfTrade(o, r) {
				if e.cfg.STP == STPCancelResting {
					continue
				}
				// CANCEL_AGGRESSOR and CANCEL_BOTH stop; DECREMENT removes
				// quantity without filling it.
				return false
			}
			need -= min(need, r.remaining)
			if need == 0 {
				return true
			}
		}
	}
	return false
}

// aggress matches an incoming order against the opposite side.
func (e *Engine) aggress(o *order) {
	bk := e.bookList[o.bk]
	opp := 1 - o.side
	for o.remaining > 0 {
		lvls := bk.sides[opp]
		if len(lvls) == 0 {
			return
		}
		lv := e.lvl(lvls[len(lvls)-1])
		if !crosses(o, lv.price) {
			return
		}
		r := e.ord(lv.head)
		if e.selfTrade(o, r) {
			switch e.cfg.STP {
			case STPCancelAggressor:
				e.cancelOwn(o, o.remaining, "STP")
				return
			case STPCancelResting:
				e.cancelResting(r, r.remaining, "STP")
				continue
			case STPCancelBoth:
				e.cancelResting(r, r.remaining, "STP")
				e.cancelOwn(o, o.remaining, "STP")
				return
			case STPDecrement:
				d := min(o.remaining, r.remaining)
				e.cancelResting(r, d, "STP_DECREMENT")
				e.cancelOwn(o, d, "STP_DECREMENT")
				continue
			}
		}
		q := min(o.remaining, r.remaining)
		e.matchSeq++
		px := lv.price
		r.remaining -= q
		r.filled += q
		r.ntnl += int64(q) * px
		lv.qty -= int64(q)
		o.remaining -= q
		o.filled += q
		o.ntnl += int64(q) * px
		e.emit(Event{Kind: EvExecuted, MatchID: e.matchSeq, Symbol: bk.symbol, MakerID: r.id,
			OrderID: o.id, Price: px, Qty: int64(q), Side: sideName[o.side]})
		if r.remaining == 0 {
			e.unlink(r)
		}
	}
}

// cancelOwn cancels qty of an order that is not resting (the aggressor).
func (e *Engine) cancelOwn(o *order, qty int32, reason string) {
	o.remaining -= qty
	o.canceled += qty
	e.emit(Event{Kind: EvCanceled, OrderID: o.id, Qty: int64(qty), Reason: reason})
}

// cancelResting cancels qty of a resting order, removing it when nothing
// remains.
func (e *Engine) cancelResting(o *order, qty int32, reason string) {
	o.remaining -= qty
	o.canceled += qty
	e.lvl(o.lvl).qty -= int64(qty)
	e.emit(Event{Kind: EvCanceled, OrderID: o.id, Qty: int64(qty), Reason: reason})
	if o.remaining == 0 {
		e.unlink(o)
	}
}

// rest appends an order to the back of its price level.
func (e *Engine) rest(o *order) {
	bk := e.bookList[o.bk]
	lvls := bk.sides[o.side]
	// Bids ascend and asks descend, so "better than" flips with the side.
	better := func(a, b int64) bool {
		if o.side == buy {
			return a > b
		}
		return a < b
	}
	// Levels before i are worse than o.price, levels from i on at least as good.
	px := int64(o.price)
	i := sort.Search(len(lvls), func(k int) bool { return !better(px, e.lvls[lvls[k]-1].price) })
	var li uint32
	if i < len(lvls) && e.lvls[lvls[i]-1].price == px {
		li = lvls[i]
	} else {
		if n := len(e.freeLvls); n > 0 {
			li = e.freeLvls[n-1]
			e.freeLvls = e.freeLvls[:n-1]
		} else {
			e.lvls = append(e.lvls, level{})
			li = uint32(len(e.lvls))
		}
		*e.lvl(li) = level{price: px}
		bk.sides[o.side] = slices.Insert(lvls, i, li)
	}
	lv := e.lvl(li)
	o.lvl = li
	e.orders.set(o.id, o.self|restingBit)
	o.prev, o.next = lv.tail, 0
	if lv.tail != 0 {
		e.ord(lv.tail).next = o.self
	} else {
		lv.head = o.self
	}
	lv.tail = o.self
	lv.qty += int64(o.remaining)
	lv.count++
}

// unlink removes a resting order from its level (its remaining quantity
// must already be taken off the level), dropping the level when empty.
func (e *Engine) unlink(o *order) {
	li := o.lvl
	lv := e.lvl(li)
	if o.prev != 0 {
		e.ord(o.prev).next = o.next
	} else {
		lv.head = o.next
	}
	if o.next != 0 {
		e.ord(o.next).prev = o.prev
	} else {
		lv.tail = o.prev
	}
	o.prev, o.next, o.lvl = 0, 0, 0
	e.orders.set(o.id, o.self)
	lv.count--
	if lv.count > 0 {
		return
	}
	bk := e.bookList[o.bk]
	lvls := bk.sides[o.side]
	if n := len(lvls); lvls[n-1] == li {
		bk.sides[o.side] = lvls[:n-1]
	} else {
		i := slices.Index(lvls, li)
		bk.sides[o.side] = slices.Delete(lvls, i, i+1)
	}
	e.freeLvls = append(e.freeLvls, li)
}

func (e *Engine) modify(m *Msg) {
	o := e.resting(m.ID)
	if o == nil {
		e.reject(m.ID, "MODIFY", "UNKNOWN_ORDER")
		return
	}
	if m.HasPrice && !e.validPrice(m.Price) {
		e.reject(m.ID, "MODIFY", "INVALID_PRICE")
		return
	}
	if !e.validQty(m.Qty, true) {
		e.reject(m.ID, "MODIFY", "INVALID_QTY")
		return
	}
	// validPrice and validQty bound both by 10⁹: they fit int32.
	price, qty := o.price, int32(m.Qty)
	if m.HasPrice {
		price = int32(m.Price)
	}
	done := o.filled + o.canceled
	if qty <= done {
		e.cancelResting(o, o.remaining, "MODIFY_BELOW_FILLED")
		return
	}
	newRem := qty - done
	if price == o.price && qty <= o.qty {
		e.lvl(o.lvl).qty += int64(newRem - o.remaining)
		o.remaining = newRem
		o.qty = qty
		e.emit(Event{Kind: EvReplaced, OrderID: o.id, Price: int64(price), Qty: m.Qty, PriorityKept: true})
		return
	}
	e.lvl(o.lvl).qty -= int64(o.remaining)
	e.unlink(o)
	o.price, o.qty, o.remaining = price, qty, newRem
	e.emit(Event{Kind: EvReplaced, OrderID: o.id, Price: int64(price), Qty: m.Qty})
	e.aggress(o)
	if o.remaining > 0 {
		e.rest(o)
	}
}

func (e *Engine) endOfDay() {
	var day []*order
	e.eachOrder(func(o *order) {
		if o.lvl != 0 && o.tif == tifDAY {
			day = append(day, o)
		}
	})
	slices.SortFunc(day, func(a, b *order) int { return cmpU64(a.id, b.id) })
	for _, o := range day {
		e.cancelResting(o, o.remaining, "EXPIRED")
	}
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Book returns the L2 book of every symbol, sorted by symbol, with at most
// depth levels per side (0 = all).
func (e *Engine) Book(depth int) []SymbolBook {
	syms := make([]string, 0, len(e.books))
	for s := range e.books {
		syms = append(syms, s)
	}
	slices.Sort(syms)
	out := make([]SymbolBook, len(syms))
	for i, s := range syms {
		bk := e.books[s]
		out[i] = SymbolBook{Symbol: s, Bids: e.levels(bk.sides[buy], depth), Asks: e.levels(bk.sides[sell], depth)}
	}
	return out
}

func (e *Engine) levels(lvls []uint32, depth int) []Level {
	n := len(lvls)
	if depth > 0 && depth < n {
		n = depth
	}
	out := make([]Level, n)
	for i := range n {
		lv := e.lvl(lvls[len(lvls)-1-i])
		out[i] = Level{Price: lv.price, Qty: lv.qty, OrderCount: lv.count}
	}
	return out
}

// Orders returns every accepted order's state, sorted by id.
func (e *Engine) Orders() []OrderRow {
	rows := make([]OrderRow, 0, e.nOrders)
	e.eachOrder(func(o *order) { rows = append(rows, e.rowOf(o)) })
	slices.SortFunc(rows, func(a, b OrderRow) int { return cmpU64(a.ID, b.ID) })
	return rows
}

// Order returns one accepted order's state.
func (e *Engine) Order(id uint64) (OrderRow, bool) {
	o := e.get(id)
	if o == nil {
		return OrderRow{}, false
	}
	return e.rowOf(o), true
}

func (e *Engine) rowOf(o *order) OrderRow {
	r := OrderRow{ID: o.id, Symbol: e.bookList[o.bk].symbol, Side: sideName[o.side], Price: int64(o.price),
		Qty: int64(o.qty), Filled: int64(o.filled), Remaining: int64(o.remaining), Canceled: int64(o.canceled),
		Notional: o.ntnl}
	switch {
	case o.filled == o.qty:
		r.Status = "FILLED"
	case o.lvl != 0 && o.filled > 0:
		r.Status = "PARTIALLY_FILLED"
	case o.lvl != 0:
		r.Status = "NEW"
	default:
		r.Status = "CANCELED"
	}
	if o.filled > 0 {
		r.AvgPrice = float64(o.ntnl) / float64(o.filled)
	}
	return r
}
