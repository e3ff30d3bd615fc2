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

type entity struct {
	ts      []int64 // activity, a self-loop once
	amounts []float64
	fifo    lots.FIFO
	in, out float64
	rapid   float64
	dwell   float64 // Σ rapid portion × age
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
	guard   txn.Guard
	ents    txn.Interner
	rows    []*entity
	pending []*financev1.Transaction
}

// New returns an empty state.
func New(p Params) *State { return &State{p: p} }

func (s *State) row(id string) *entity {
	i := s.ents.ID(id)
	if int(i) == len(s.rows) {
		s.rows = append(s.rows, &entity{})
	}
	return s.rows[i]
}

// Apply adds one transaction.
func (s *State) Apply(tx *financev1.Transaction) error {
	if err := s.guard.Admit(tx); err != nil {
		return err
	}
	if len(s.pending) > 0 && s.pending[0].GetTs() != tx.GetTs() {
		settle(s.pending, s.lookup(s.rows), s.p.Window)
		s.pending = s.pending[:0]
	}
	src := s.row(tx.GetSourceId())
	src.ts = append(src.ts, tx.GetTs())
	src.amounts = append(src.amounts, tx.GetAmount())
	if tx.GetDestId() != tx.GetSourceId() {
		dst := s.row(tx.GetDestId())
		dst.ts = append(dst.ts, tx.GetTs())
		dst.amounts = append(dst.amounts, tx.GetAmount())
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
	for _, tx := range group {
		d := row(tx.GetDestId())
		d.in += tx.GetAmount()
		d.fifo.Push(tx.GetAmount(), tx.GetTs())
	}
	for _, tx := range group {
		e := row(tx.GetSourceId())
		e.out += tx.GetAmount()
		e.fifo.Consume(tx.GetAmount(), tx.GetTs(), func(take float64, lotTS int64) {
			if age := tx.GetTs() - lotTS; age < w {
				e.rapid += take
				e.dwell += take * float64(age)
			}
		})
	}
}

// Snapshot computes the Batch output over the transactions applied so far.
// It does not change the state: the pending ts is settled on copies of the
// entities it touches.
func (s *State) Snapshot() *compliancev1.RapidMovementOutput {
	rows := s.rows
	if len(s.pending) > 0 {
		rows = make([]*entity, len(s.rows))
		copy(rows, s.rows)
		touched := map[string]bool{}
		for _, tx := range s.pending {
			for _, id := range []string{tx.GetSourceId(), tx.GetDestId()} {
				if !touched[id] {
					touched[id] = true
					i, _ := s.ents.Lookup(id)
					rows[i] = s.rows[i].clone()
				}
			}
		}
		settle(s.pending, s.lookup(rows), s.p.Window)
	}
	out := &compliancev1.RapidMovementOutput{}
	for _, i := range s.ents.ByName() {
		e := rows[i]
		count, amount := busiest(e.ts, e.amounts, s.p.Window)
		r := &compliancev1.RapidMovementEntity{
			Id: s.ents.Names[i], MaxWindowCount: count, MaxWindowAmount: amount,
			InAmount: e.in, OutAmount: e.out, RapidOutAmount: e.rapid,
			RapidRatio: txn.Ratio(e.rapid, e.in), MeanDwellSeconds: txn.Ratio(e.dwell, e.rapid),
		}
		r.Flagged = count >= s.p.Velocity || (r.RapidOutAmount >= s.p.Amount && r.RapidRatio >= s.p.PassThrough)
		out.Entities = append(out.Entities, r)
		out.RapidAmount += e.rapid
	}
	return out
}

// busiest returns the largest number of events in one window [t_i, t_i+W)
// anchored at an event, and the amount of the earliest such window. ts is
// non-decreasing.
func busiest(ts []int64, amounts []float64, w int64) (int32, float64) {
	best, bestAt, end := 0, 0, 0
	for i := range ts {
		limit := ts[i] + w
		if limit < ts[i] { // overflow: the window reaches the end of time
			end = len(ts)
		}
		for end < len(ts) && ts[end] < limit {
			end++
		}
		end = max(end, i+1)
		if end-i > best {
			best, bestAt = end-i, i
		}
	}
	if best == 0 {
		return 0, 0
	}
	var sum float64
	for _, a := range amounts[bestAt : bestAt+best] {
		sum += a
	}
	return int32(best), sum
}
