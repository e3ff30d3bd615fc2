// Package rapid is compliance/rapid-movement: pass-through detection by
// FIFO lot matching per entity (funds that move in and out rapidly, FFIEC
// BSA/AML red flags) plus the busiest activity window [t, t+W).
package rapid

import (
	"context"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/lots"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Defaults of the optional fields.
const (
	DefaultWindow      = 86_400
	DefaultVelocity    = 20
	DefaultAmount      = 10_000.0
	DefaultPassThrough = 0.8
)

// Def declares compliance/rapid-movement.
var Def = registry.Def[*compliancev1.RapidMovementInput, *compliancev1.RapidMovementOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/rapid-movement",
		Domain:      registry.DomainCompliance,
		Description: "Rapid movement of funds: FIFO lot matching per entity (rapid = drawn from lots younger than the window), pass-through ratio, dwell time and peak activity window.",
		Modes:       []registry.Mode{registry.Batch, registry.Ring},
	},
	Prepare: prepare,
	CPU: func(ctx context.Context, j *job) (*compliancev1.RapidMovementOutput, error) {
		st := New(j.params)
		for i, tx := range j.txs {
			if i%txn.CheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if err := st.Apply(tx); err != nil {
				return nil, err
			}
		}
		return st.Snapshot(), nil
	},
}

type job struct {
	params Params
	txs    []*financev1.Transaction
}

func prepare(ctx context.Context, in *compliancev1.RapidMovementInput) (*job, error) {
	order, err := txn.Check(ctx, "transactions", in.GetTransactions())
	if err != nil {
		return nil, err
	}
	if in.WindowSeconds != nil && in.GetWindowSeconds() < 1 {
		return nil, kerr.Invalid("window_seconds", "must be >= 1, got %d", in.GetWindowSeconds())
	}
	return &job{
		params: Params{
			Window:      registry.Or(in.WindowSeconds, DefaultWindow),
			Velocity:    registry.Or(in.VelocityThreshold, DefaultVelocity),
			Amount:      registry.Or(in.AmountThreshold, DefaultAmount),
			PassThrough: registry.Or(in.PassThroughRatio, DefaultPassThrough),
		},
		txs: txn.Sorted(in.GetTransactions(), order),
	}, nil
}

// Params are the kernel's options with defaults applied.
type Params struct {
	Window      int64
	Velocity    int32
	Amount      float64
	PassThrough float64
}

// event is one transaction in an entity's activity (a self-loop once).
type event struct {
	ts     int64
	amount float64
}

type entity struct {
	// open are the events whose window [ts, ts+W) may still gain events
	// (from head on); best/bestAmount the busiest window of those closed.
	open       []event
	head       int
	best       int32
	bestAmount float64
	fifo       lots.FIFO // lots aged >= W merged into the front one
	flagged    bool      // the ring's last reported flagged (alerts on the turn on)
	in, out    float64
	rapid      float64
	dwell      float64 // Σ rapid portion × age
}

func (e *entity) clone() *entity {
	c := *e
	c.fifo = e.fifo.Clone()
	return &c
}

// State is the fold: transactions applied in ts order, Snapshot = Batch.
//
// Transactions of the current ts are held in pending: at equal ts inflows
// come before outflows, so the lots of one ts are settled only when a later
// ts arrives (or, on a copy, at Snapshot).
type State struct {
	p       Params
	guard   txn.HorizonGuard // ids of the last window (horizon W)
	ents    txn.Interner
	rows    []*entity
	pending []*financev1.Transaction
}

// New returns an empty state.
func New(p Params) *State { return &State{p: p, guard: txn.NewHorizonGuard(p.Window)} }

func (s *State) row(id string) *entity {
	i := s.ents.ID(id)
	if int(i) == len(s.rows) {
		s.rows = append(s.rows, &entity{})
	}
	return s.rows[i]
}

// Apply adds one transaction.
func (s *State) Apply(tx *financev1.Transaction) error {
	if err := s.guard.Admit(tx, "transaction"); err != nil {
		return err
	}
	if len(s.pending) > 0 && s.pending[0].GetTs() != tx.GetTs() {
		settle(s.pending, s.lookup(s.rows), s.p.Window)
		s.pending = s.pending[:0]
	}
	s.row(tx.GetSourceId()).activity(tx.GetTs(), tx.GetAmount(), s.p.Window)
	if tx.GetDestId() != tx.GetSourceId() {
		s.row(tx.GetDestId()).activity(tx.GetTs(), tx.GetAmount(), s.p.Window)
		s.pending = append(s.pending, tx)
	}
	return nil
}

func (s *State) lookup(rows []*entity) func(string) *entity {
	return func(id string) *entity {
		i, _ := s.ents.Lookup(id)
		return rows[i]
	}
}

// settle applies one ts's flows: every inflow (a lot) before any outflow.
func settle(group []*financev1.Transaction, row func(string) *entity, w int64) {
	aged, ok := agedBefore(group[0].GetTs(), w)
	for _, tx := range group {
		d := row(tx.GetDestId())
		d.in += tx.GetAmount()
		if ok {
			d.fifo.MergeAged(aged)
		}
		d.fifo.Push(tx.GetAmount(), tx.GetTs())
	}
	for _, tx := range group {
		e := row(tx.GetSourceId())
		e.out += tx.GetAmount()
		if ok {
			e.fifo.MergeAged(aged)
		}
		e.fifo.Consume(tx.GetAmount(), tx.GetTs(), func(take float64, lotTS int64) {
			if age := tx.GetTs() - lotTS; age < w {
				e.rapid += take
				e.dwell += take * float64(age)
			}
		})
	}
}

// agedBefore returns the latest lot ts that is aged (age >= w) at t, and
// false when no ts is (t - w would underflow).
func agedBefore(t, w int64) (int64, bool) {
	b := t - w
	return b, b <= t
}

// Snapshot computes the Batch output over the transactions applied so far.
// It does not change the state: the pending ts is settled on copies of the
// entities it touches.
func (s *State) Snapshot() *compliancev1.RapidMovementOutput {
	copies := s.settledCopies()
	out := &compliancev1.RapidMovementOutput{}
	for _, i := range s.ents.ByName() {
		r := s.rowOut(i, copies)
		out.Entities = append(out.Entities, r)
		out.RapidAmount += r.RapidOutAmount
	}
	return out
}

// settledCopies settles the pending ts on copies of the entities it
// touches (by index), leaving the state as it is.
func (s *State) settledCopies() map[int32]*entity {
	if len(s.pending) == 0 {
		return nil
	}
	copies := map[int32]*entity{}
	for _, tx := range s.pending {
		for _, id := range []string{tx.GetSourceId(), tx.GetDestId()} {
			if i, _ := s.ents.Lookup(id); copies[i] == nil {
				copies[i] = s.rows[i].clone()
			}
		}
	}
	settle(s.pending, func(id string) *entity {
		i, _ := s.ents.Lookup(id)
		return copies[i]
	}, s.p.Window)
	return copies
}

// rowOut is entity i's output row, from its settled copy when it has one.
func (s *State) rowOut(i int32, copies map[int32]*entity) *compliancev1.RapidMovementEntity {
	e := s.rows[i]
	if c, ok := copies[i]; ok {
		e = c
	}
	count, amount := e.busiest()
	r := &compliancev1.RapidMovementEntity{
		Id: s.ents.Names[i], MaxWindowCount: count, MaxWindowAmount: amount,
		InAmount: e.in, OutAmount: e.out, RapidOutAmount: e.rapid,
		RapidRatio: txn.Ratio(e.rapid, e.in), MeanDwellSeconds: txn.Ratio(e.dwell, e.rapid),
	}
	r.Flagged = count >= s.p.Velocity || (r.RapidOutAmount >= s.p.Amount && r.RapidRatio >= s.p.PassThrough)
	return r
}

// activity adds an event at ts (non-decreasing): the windows [t_i, t_i+W)
// anchored at open events that end at or before ts are final, so they
// close, and the busiest of them is kept (the earliest on ties, as the
// scan over every anchor does). Open events are those younger than W.
func (e *entity) activity(ts int64, amount float64, w int64) {
	for e.head < len(e.open) {
		f := e.open[e.head]
		limit := f.ts + w
		if limit < f.ts || ts < limit { // limit < f.ts: overflow, the window never ends
			break
		}
		if n := int32(len(e.open) - e.head); n > e.best {
			e.best, e.bestAmount = n, sum(e.open[e.head:])
		}
		e.head++
	}
	if e.head > 0 && e.head*2 >= len(e.open) { // reclaim closed space
		n := copy(e.open, e.open[e.head:])
		e.open, e.head = e.open[:n], 0
	}
	e.open = append(e.open, event{ts, amount})
}

// busiest returns the largest number of events in one window [t_i, t_i+W)
// anchored at an event, and the amount of the earliest such window: the
// best closed one, or the oldest open one (it holds every open event).
func (e *entity) busiest() (int32, float64) {
	if n := int32(len(e.open) - e.head); n > e.best {
		return n, sum(e.open[e.head:])
	}
	return e.best, e.bestAmount
}

// sum adds the amounts in order (the window's amount, summed as the
// events came).
func sum(evs []event) float64 {
	var s float64
	for _, ev := range evs {
		s += ev.amount
	}
	return s
}
