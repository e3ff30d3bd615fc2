// Package settlement is a DVP settlement engine, BIS CPSS 1992 Model 1
// (gross, simultaneous, atomic), with recycling and optional partial
// settlement as in T2S (minimum settlement unit MSU, settlement unit
// multiple SUM). Balances really move: a settled delivery takes the
// securities from the deliverer and the cash from the receiver in one step,
// so the same holdings can never be spent twice, and every isin and every
// currency is conserved.
//
// The engine is a state machine over the Ring messages (SetSecurities,
// SetCash, Credit, Hold, Release, AdvanceDate, Add, RunCycle); the Batch
// kernel folds its input through the same messages, then Snapshot.
package settlement

import (
	"cmp"
	"math/big"
	"slices"
)

// Tx is a settlement transaction (amounts in minor units).
type Tx struct {
	ID, Deliverer, Receiver, ISIN, Currency, ISD string
	Qty, Amount                                  int64
	Priority                                     int
	Partial                                      bool
	MSU, SUM                                     int64

	settledQty, settledAmt int64
}

// Key is a (party, asset) balance key: an isin or a currency.
type Key struct{ Party, Asset string }

// Event is one settlement.
type Event struct {
	Kind        string // SETTLED or PARTIALLY_SETTLED
	ID          string
	Qty, Amount int64
	Pass        int
}

// Result is one transaction's outcome.
type Result struct {
	ID, Status, Reason string
	SettledQty         int64
	SettledAmount      int64
}

// Engine is the settlement state.
type Engine struct {
	txs      map[string]*Tx
	sec      map[Key]int64
	cash     map[Key]int64
	credit   map[Key]int64
	eligible map[string]bool // nil = every party
	hold     map[string]bool
	date     string
	events   []Event
	passes   int
}

// New returns an empty engine; eligible nil means every party is eligible.
func New(eligible []string) *Engine {
	e := &Engine{txs: map[string]*Tx{}, sec: map[Key]int64{}, cash: map[Key]int64{},
		credit: map[Key]int64{}, hold: map[string]bool{}}
	if eligible != nil {
		e.eligible = map[string]bool{}
		for _, p := range eligible {
			e.eligible[p] = true
		}
	}
	return e
}

// SetSecurities sets a securities balance.
func (e *Engine) SetSecurities(party, isin string, qty int64) { e.sec[Key{party, isin}] = qty }

// SetCash sets a cash balance.
func (e *Engine) SetCash(party, ccy string, amount int64) { e.cash[Key{party, ccy}] = amount }

// Credit sets a credit limit (≥ 0).
func (e *Engine) Credit(party, ccy string, limit int64) { e.credit[Key{party, ccy}] = limit }

// CreditLimit is the credit limit of (party, ccy), 0 when none was set.
func (e *Engine) CreditLimit(party, ccy string) int64 { return e.credit[Key{party, ccy}] }

// Hold puts a party on hold; Release lifts it.
func (e *Engine) Hold(party string) { e.hold[party] = true }

// Release lifts a hold.
func (e *Engine) Release(party string) { delete(e.hold, party) }

// AdvanceDate sets the business date (YYYY-MM-DD); transactions that fall
// due join the queue at the next cycle.
func (e *Engine) AdvanceDate(date string) { e.date = date }

// Add adds a transaction (its id must be new); its balance keys appear in
// the snapshot from now on, at 0 when absent.
func (e *Engine) Add(t Tx) {
	if t.SUM <= 0 {
		t.SUM = 1
	}
	e.txs[t.ID] = &t
	for _, k := range []Key{{t.Deliverer, t.ISIN}, {t.Receiver, t.ISIN}} {
		e.sec[k] += 0
	}
	for _, k := range []Key{{t.Deliverer, t.Currency}, {t.Receiver, t.Currency}} {
		e.cash[k] += 0
	}
}

// Has reports whether a transaction id is known.
func (e *Engine) Has(id string) bool { return e.txs[id] != nil }

func (e *Engine) eligibleParty(p string) bool { return e.eligible == nil || e.eligible[p] }

// queued reports whether t takes part in a cycle.
func (e *Engine) queued(t *Tx) bool {
	return t.settledQty < t.Qty && e.eligibleParty(t.Deliverer) && e.eligibleParty(t.Receiver) &&
		!e.hold[t.Deliverer] && !e.hold[t.Receiver] && t.ISD <= e.date
}

// RunCycle settles the queue in (priority desc, ISD asc, id asc) order,
// pass after pass, until a pass changes nothing. It returns the events of
// this cycle.
func (e *Engine) RunCycle() []Event {
	var q []*Tx
	for _, t := range e.txs {
		if e.queued(t) {
			q = append(q, t)
		}
	}
	slices.SortFunc(q, func(a, b *Tx) int {
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.ISD, b.ISD), cmp.Compare(a.ID, b.ID))
	})
	start := len(e.events)
	for changed := true; changed; {
		changed = false
		e.passes++
		for _, t := range q {
			if t.settledQty == t.Qty {
				continue
			}
			remQ, remA := t.Qty-t.settledQty, t.Amount-t.settledAmt
			dk, rk := Key{t.Deliverer, t.ISIN}, Key{t.Receiver, t.ISIN}
			pk, ck := Key{t.Receiver, t.Currency}, Key{t.Deliverer, t.Currency}
			avail := e.cash[pk] + e.credit[pk]
			q, a, kind := remQ, remA, "SETTLED"
			if e.sec[dk] < remQ || avail < remA {
				if !t.Partial {
					continue
				}
				var ok bool
				if q, a, ok = partial(remQ, remA, e.sec[dk], avail, t.MSU, t.SUM); !ok {
					continue
				}
				kind = "PARTIALLY_SETTLED"
			}
			// Both legs move at once.
			e.sec[dk] -= q
			e.sec[rk] += q
			e.cash[pk] -= a
			e.cash[ck] += a
			t.settledQty += q
			t.settledAmt += a
			e.events = append(e.events, Event{Kind: kind, ID: t.ID, Qty: q, Amount: a, Pass: e.passes})
			changed = true
		}
	}
	return e.events[start:]
}

// partial is the largest q < remQ with q ≤ held, q ≥ max(msu, 1), q a
// multiple of sum and a = ⌊remA·q/remQ⌋ ≤ avail, with a > 0 when remA > 0.
// The products need up to 80 bits, so they are computed exactly in big.Int.
func partial(remQ, remA, held, avail, msu, sum int64) (q, a int64, ok bool) {
	q = min(remQ-1, held)
	if remA > 0 {
		if avail < 0 {
			return 0, 0, false
		}
		// ⌊remA·q/remQ⌋ ≤ avail ⟺ remA·q < (avail+1)·remQ.
		lim := new(big.Int).Mul(big.NewInt(avail+1), big.NewInt(remQ))
		lim.Sub(lim, big.NewInt(1))
		lim.Quo(lim, big.NewInt(remA))
		if lim.IsInt64() {
			q = min(q, lim.Int64())
		}
	}
	q -= q % sum
	if q < max(msu, 1) {
		return 0, 0, false
	}
	prod := new(big.Int).Mul(big.NewInt(remA), big.NewInt(q))
	a = prod.Quo(prod, big.NewInt(remQ)).Int64()
	if remA > 0 && a == 0 {
		return 0, 0, false
	}
	return q, a, true
}

// Events returns every settlement so far.
func (e *Engine) Events() []Event { return e.events }

// Passes is the number of passes run so far.
func (e *Engine) Passes() int { return e.passes }

// Results returns every transaction's status, sorted by id.
func (e *Engine) Results() []Result {
	out := make([]Result, 0, len(e.txs))
	for _, t := range e.txs {
		r := Result{ID: t.ID, SettledQty: t.settledQty, SettledAmount: t.settledAmt}
		switch {
		case t.settledQty == t.Qty:
			r.Status = "SETTLED"
		case !e.eligibleParty(t.Deliverer) || !e.eligibleParty(t.Receiver):
			r.Status, r.Reason = "FAILED", "INELIGIBLE"
		case e.hold[t.Deliverer] || e.hold[t.Receiver]:
			r.Status = "ON_HOLD"
		case t.ISD > e.date:
			r.Status, r.Reason = "PENDING", "NOT_DUE"
		default:
			r.Status = "PENDING"
			if t.settledQty > 0 {
				r.Status = "PARTIAL"
			}
			r.Reason = "LACK_OF_CASH"
			if e.sec[Key{t.Deliverer, t.ISIN}] < t.Qty-t.settledQty {
				r.Reason = "LACK_OF_SECURITIES"
			}
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Result) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Balance is one (party, asset) balance.
type Balance struct {
	Key    Key
	Amount int64
}

// Securities returns the securities balances sorted by (party, isin).
func (e *Engine) Securities() []Balance { return balances(e.sec) }

// Cash returns the cash balances sorted by (party, currency).
func (e *Engine) Cash() []Balance { return balances(e.cash) }

func balances(m map[Key]int64) []Balance {
	out := make([]Balance, 0, len(m))
	for k, v := range m {
		out = append(out, Balance{k, v})
	}
	slices.SortFunc(out, func(a, b Balance) int {
		return cmp.Or(cmp.Compare(a.Key.Party, b.Key.Party), cmp.Compare(a.Key.Asset, b.Key.Asset))
	})
	return out
}

// Settleable reports whether any queued transaction could still settle,
// fully or partially (false after RunCycle: recycling is maximal).
func (e *Engine) Settleable() bool {
	for _, t := range e.txs {
		if !e.queued(t) {
			continue
		}
		remQ, remA := t.Qty-t.settledQty, t.Amount-t.settledAmt
		pk := Key{t.Receiver, t.Currency}
		held, avail := e.sec[Key{t.Deliverer, t.ISIN}], e.cash[pk]+e.credit[pk]
		if held >= remQ && avail >= remA {
			return true
		}
		if _, _, ok := partial(remQ, remA, held, avail, t.MSU, t.SUM); t.Partial && ok {
			return true
		}
	}
	return false
}
