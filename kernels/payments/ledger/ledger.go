// Package ledger is a real-time gross settlement ledger (CPMI glossary:
// real-time, gross, final) with TARGET2-style queue management: per-payer
// priority queues, strict FIFO unless bypass is allowed, breadth-first
// retry after every credit, a settlement window for non-real-time types
// and end-of-day policies. A settlement moves the money — payer debited,
// payee and fee account credited in one step — so funds cannot be spent
// twice, and Σ balances per currency changes only by external funding.
//
// The ledger is a state machine over the Ring data messages (Fund, Submit,
// Cancel, Tick, EndOfDay); the Batch kernel folds its message list through
// it and reads Snapshot.
package ledger

import (
	"cmp"
	"slices"
	"time"
)

// Account is a ledger account (minor units).
type Account struct {
	ID, Currency, Status string
	Balance, CreditLine  int64
	DailyLimit           int64 // < 0: unlimited
	DailyUsed            int64
	queue                []*Payment
}

// Window is the settlement window of non-real-time types.
type Window struct {
	Open, Close int64 // seconds of the day, [Open, Close)
	Weekdays    [8]bool
	TZ          int64
}

// Fee is a per-type fee.
type Fee struct{ Fixed, BP int64 }

// Config configures the ledger.
type Config struct {
	Queueing   bool
	FIFOBypass bool
	EODReject  bool
	RealTime   map[string]bool
	Window     *Window
	Min, Max   int64
	Fees       map[string]Fee
	FeeAccount string
}

// Payment is a submitted payment.
type Payment struct {
	ID, Payer, Payee, Currency, Type string
	Amount                           int64
	Rank                             int // 0 URGENT … 3 LOW
	Status, Reason                   string
	Fee                              int64
	seq                              int64 // queue-entry sequence
}

// Event is a status change.
type Event struct{ ID, Status, Reason string }

// Ledger is the state.
type Ledger struct {
	cfg      Config
	accounts map[string]*Account
	payments map[string]*Payment
	held     []*Payment
	seq      int64
	events   []Event
}

// Ranks maps a priority name to its rank ("" = NORMAL).
var Ranks = map[string]int{"URGENT": 0, "HIGH": 1, "": 2, "NORMAL": 2, "LOW": 3}

// New returns a ledger over the accounts (ids unique, validated).
func New(cfg Config, accounts []Account) *Ledger {
	l := &Ledger{cfg: cfg, accounts: map[string]*Account{}, payments: map[string]*Payment{}}
	for _, a := range accounts {
		l.accounts[a.ID] = &a
	}
	return l
}

// Open adds an account (its id must be new and validated).
func (l *Ledger) Open(a Account) { l.accounts[a.ID] = &a }

// HasAccount reports whether an account exists.
func (l *Ledger) HasAccount(id string) bool { return l.accounts[id] != nil }

func (l *Ledger) emit(p *Payment, status, reason string) {
	p.Status, p.Reason = status, reason
	l.events = append(l.events, Event{p.ID, status, reason})
}

// Fund credits an account from outside (it must exist) and retries queues.
func (l *Ledger) Fund(account string, amount int64) {
	l.accounts[account].Balance += amount
	l.retry([]string{account})
}

// Submit processes a payment order at time ts.
func (l *Ledger) Submit(p Payment, ts int64) {
	if _, dup := l.payments[p.ID]; dup {
		l.events = append(l.events, Event{p.ID, "RJCT", "DUPL"})
		return
	}
	pp := &p
	l.payments[p.ID] = pp
	payer, payee := l.accounts[p.Payer], l.accounts[p.Payee]
	reason := ""
	switch {
	case payer == nil || payee == nil:
		reason = "AC01"
	case payer.Status == "CLOSED" || payee.Status == "CLOSED":
		reason = "AC04"
	case blocked(payer.Status) || blocked(payee.Status):
		reason = "AC06"
	case payer.Currency != p.Currency || payee.Currency != p.Currency:
		reason = "AM03"
	case p.Amount <= 0 || p.Amount < l.cfg.Min || p.Amount > l.cfg.Max:
		reason = "AM02"
	case payer.DailyLimit >= 0 && payer.DailyUsed+p.Amount > payer.DailyLimit:
		reason = "AM14"
	}
	if reason == "" {
		if f, ok := l.cfg.Fees[p.Type]; ok {
			// ⌊amount·bp/10 000⌋ without overflowing int64 (amount ≤ 1e15).
			pp.Fee = f.Fixed + p.Amount/10_000*f.BP + p.Amount%10_000*f.BP/10_000
			if fa := l.accounts[l.cfg.FeeAccount]; pp.Fee > 0 && fa.Currency != p.Currency {
				reason = "AM03"
			}
		}
	}
	if reason != "" {
		l.emit(pp, "RJCT", reason)
		return
	}
	if l.cfg.Window != nil && !l.cfg.RealTime[p.Type] && !l.open(ts) {
		l.held = append(l.held, pp)
		l.emit(pp, "PDNG", "OUTSIDE_WINDOW")
		return
	}
	l.attempt(pp)
}

func blocked(s string) bool { return s == "BLOCKED" || s == "FROZEN" }

// open reports whether the window is open at ts.
func (l *Ledger) open(ts int64) bool {
	w := l.cfg.Window
	t := time.Unix(ts+w.TZ, 0).UTC()
	wd := int(t.Weekday())
	if wd == 0 {
		wd = 7
	}
	sec := int64(t.Hour()*3600 + t.Minute()*60 + t.Second())
	return w.Weekdays[wd] && w.Open <= sec && sec < w.Close
}

func (l *Ledger) funded(p *Payment) bool {
	a := l.accounts[p.Payer]
	return a.Balance+a.CreditLine >= p.Amount+p.Fee && (a.DailyLimit < 0 || a.DailyUsed+p.Amount <= a.DailyLimit)
}

// attempt places a new or released payment: behind a queued payment of
// its payer with equal or higher priority (without bypass), else settled
// when funded, else queued or rejected AM04.
func (l *Ledger) attempt(p *Payment) {
	payer := l.accounts[p.Payer]
	blockedByQueue := !l.cfg.FIFOBypass && slices.ContainsFunc(payer.queue, func(q *Payment) bool { return q.Rank <= p.Rank })
	switch {
	case !blockedByQueue && l.funded(p):
		l.settle(p)
		l.retry([]string{p.Payee})
	case blockedByQueue || l.cfg.Queueing:
		l.enqueue(payer, p)
	default:
		l.emit(p, "RJCT", "AM04")
	}
}

func (l *Ledger) enqueue(a *Account, p *Payment) {
	l.seq++
	p.seq = l.seq
	i, _ := slices.BinarySearchFunc(a.queue, p, func(x, y *Payment) int {
		return cmp.Or(cmp.Compare(x.Rank, y.Rank), cmp.Compare(x.seq, y.seq))
	})
	a.queue = slices.Insert(a.queue, i, p)
	l.emit(p, "PDNG", "QUEUED")
}

// settle moves the money of a funded payment.
func (l *Ledger) settle(p *Payment) {
	payer, payee := l.accounts[p.Payer], l.accounts[p.Payee]
	payer.Balance -= p.Amount + p.Fee
	payee.Balance += p.Amount
	if p.Fee > 0 {
		l.accounts[l.cfg.FeeAccount].Balance += p.Fee
	}
	payer.DailyUsed += p.Amount
	l.emit(p, "ACSC", "")
}

// retry works through a breadth-first worklist of accounts: each queue is
// retried in order, stopping at the first payment that cannot settle
// unless bypass is on; each settlement appends its payee.
func (l *Ledger) retry(work []string) {
	for len(work) > 0 {
		a := l.accounts[work[0]]
		work = work[1:]
		kept := a.queue[:0]
		stop := false
		for _, p := range a.queue {
			if stop || !l.funded(p) {
				kept = append(kept, p)
				stop = !l.cfg.FIFOBypass
				continue
			}
			l.settle(p)
			work = append(work, p.Payee)
		}
		clear(a.queue[len(kept):])
		a.queue = kept
	}
}

// Cancel cancels a pending payment (CANC) and retries its payer's queue; a
// cancel of anything else is answered RJCR.
func (l *Ledger) Cancel(id string) {
	p := l.payments[id]
	switch {
	case p == nil:
		l.events = append(l.events, Event{id, "RJCR", "UNKNOWN_PAYMENT"})
		return
	case p.Status != "PDNG":
		l.events = append(l.events, Event{id, "RJCR", "NOT_PENDING"})
		return
	}
	if p.Reason == "OUTSIDE_WINDOW" {
		l.held = slices.DeleteFunc(l.held, func(q *Payment) bool { return q == p })
	} else {
		a := l.accounts[p.Payer]
		a.queue = slices.DeleteFunc(a.queue, func(q *Payment) bool { return q == p })
	}
	l.emit(p, "CANC", "")
	l.retry([]string{p.Payer})
}

// Tick releases the held payments in arrival order when the window is open
// at now.
func (l *Ledger) Tick(now int64) {
	if l.cfg.Window == nil || len(l.held) == 0 || !l.open(now) {
		return
	}
	held := l.held
	l.held = nil
	for _, p := range held {
		l.attempt(p)
	}
}

// EndOfDay resets daily usage, then rejects every queued payment (AM04, by
// account id then queue order) or retries every queue in account-id order.
func (l *Ledger) EndOfDay() {
	ids := make([]string, 0, len(l.accounts))
	for id, a := range l.accounts {
		a.DailyUsed = 0
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		a := l.accounts[id]
		if l.cfg.EODReject {
			for _, p := range a.queue {
				l.emit(p, "RJCT", "AM04")
			}
			a.queue = nil
		} else {
			l.retry([]string{id})
		}
	}
}

// Events returns the status events so far.
func (l *Ledger) Events() []Event { return l.events }

// Payments returns every payment sorted by id.
func (l *Ledger) Payments() []*Payment {
	out := make([]*Payment, 0, len(l.payments))
	for _, p := range l.payments {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Payment) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Accounts returns every account sorted by id.
func (l *Ledger) Accounts() []*Account {
	out := make([]*Account, 0, len(l.accounts))
	for _, a := range l.accounts {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *Account) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Queued returns an account's queue in retry order (owned by the ledger).
func (l *Ledger) Queued(account string) []*Payment { return l.accounts[account].queue }
