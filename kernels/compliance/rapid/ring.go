package rapid

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/lots"
	"github.com/gokernels/gokernels/kernels/finance/txfold"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/fold"
)

// RingState is rapid-movement's ring state: the Batch fold itself. Per
// entity it holds the FIFO lots younger than the window plus one merged
// aged lot, the events younger than the window (open activity windows)
// and running sums; plus the transactions of the latest ts (settled when a
// later ts arrives) and the ids of the transactions of the last window
// (txn.HorizonGuard with horizon W: an id repeated within W is refused,
// an older one is forgotten). It is bounded by the entities and the
// traffic of one window, not by the stream.
type RingState struct{ st *State }

// RingSpec is the ring handler of compliance/rapid-movement: Configure sets
// the parameters, data messages carry transactions in ts order, Snapshot
// is the Batch output over them.
var RingSpec = fold.Spec[*compliancev1.RapidMovementInput, *compliancev1.RapidMovementOutput, RingState]{
	Messages: fold.Messages{
		Reply: &compliancev1.RapidMovementOutput{},
		ReplyDoc: "The rows (as Snapshot would give them now) of the entities this message's transactions touched, " +
			"sorted by id.",
		Events: []fold.EventType{
			{Kind: EventAlert, Message: &compliancev1.RapidMovementEntity{}, Doc: "RapidMovementAlert: an entity's " +
				"flagged turned on (money in and out again within the window): its row as Snapshot would give it then."},
		},
	},
	Configure: txfold.Configure(prepare, func(j *job) *RingState { return &RingState{st: New(j.params)} }),
	Apply: func(rc fold.Context, s *RingState, in *compliancev1.RapidMovementInput) error {
		if err := txfold.CheckData(in); err != nil {
			return err
		}
		// Check everything first: a refused message changes nothing.
		if err := s.st.guard.Check(in.GetTransactions(), "transactions"); err != nil {
			return err
		}
		for _, tx := range in.GetTransactions() {
			if err := s.st.Apply(proto.Clone(tx).(*financev1.Transaction)); err != nil {
				return err // checked above; cannot happen
			}
		}
		s.st.report(rc, in.GetTransactions())
		return nil
	},
	Snapshot: func(_ context.Context, s *RingState) (*compliancev1.RapidMovementOutput, error) {
		return s.st.Snapshot(), nil
	},
	Split: txfold.Split[*compliancev1.RapidMovementInput],
}

// EventAlert is the kind of the event emitted when an entity's flagged
// turns on: its RapidMovementEntity row as Snapshot would give it then.
const EventAlert = "RapidMovementAlert"

// report emits EventAlert for each entity of txs whose row turns flagged
// on, and replies with the rows of those entities (sorted by id). Only the
// entities a transaction touches can change: settling an earlier ts makes
// permanent what its copies showed.
func (s *State) report(rc fold.Context, txs []*financev1.Transaction) {
	if len(txs) == 0 {
		return
	}
	copies := s.settledCopies()
	seen := map[int32]bool{}
	out := &compliancev1.RapidMovementOutput{}
	for _, tx := range txs {
		for _, id := range []string{tx.GetSourceId(), tx.GetDestId()} {
			i, _ := s.ents.Lookup(id)
			if seen[i] {
				continue
			}
			seen[i] = true
			r := s.rowOut(i, copies)
			if r.Flagged && !s.rows[i].flagged {
				rc.Emit(EventAlert, r)
			}
			s.rows[i].flagged = r.Flagged
			out.Entities = append(out.Entities, r)
		}
	}
	slices.SortFunc(out.Entities, func(a, b *compliancev1.RapidMovementEntity) int { return strings.Compare(a.Id, b.Id) })
	fold.Reply(rc, out)
}

// wire is RingState's encoding; floats as IEEE bits (sums may overflow to
// ±Inf, which JSON cannot carry).
type wire struct {
	Window      int64        `json:"window"`
	Velocity    int32        `json:"velocity"`
	Amount      uint64       `json:"amount"`
	PassThrough uint64       `json:"pass_through"`
	Names       []string     `json:"names"` // entity ids by interned index
	Rows        []wireEntity `json:"rows"`
	Pending     [][]byte     `json:"pending"` // the latest ts's transactions, unsettled
	LastTS      int64        `json:"last_ts"`
	Any         bool         `json:"any"`
	Held        []txn.HeldID `json:"held"` // ids of the last window, in ts order
}

type wireEntity struct {
	Open       [][2]int64 `json:"open"` // ts, amount bits
	Flagged    bool       `json:"flagged"`
	Best       int32      `json:"best"`
	BestAmount uint64     `json:"best_amount"`
	Lots       [][2]int64 `json:"lots"` // amount bits, ts
	Sums       [4]uint64  `json:"sums"` // in, out, rapid, dwell (bits)
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// MarshalJSON encodes the state deterministically.
func (s *RingState) MarshalJSON() ([]byte, error) {
	st := s.st
	w := wire{
		Window: st.p.Window, Velocity: st.p.Velocity,
		Amount: math.Float64bits(st.p.Amount), PassThrough: math.Float64bits(st.p.PassThrough),
		Names: st.ents.Names, Rows: make([]wireEntity, len(st.rows)), Pending: make([][]byte, len(st.pending)),
		Held: st.guard.Held(),
	}
	w.LastTS, w.Any = st.guard.Last()
	if w.Names == nil {
		w.Names = []string{}
	}
	for i, e := range st.rows {
		r := wireEntity{Flagged: e.flagged, Best: e.best, BestAmount: math.Float64bits(e.bestAmount), Open: [][2]int64{}, Lots: [][2]int64{},
			Sums: [4]uint64{math.Float64bits(e.in), math.Float64bits(e.out), math.Float64bits(e.rapid), math.Float64bits(e.dwell)}}
		for _, ev := range e.open[e.head:] {
			r.Open = append(r.Open, [2]int64{ev.ts, int64(math.Float64bits(ev.amount))})
		}
		for _, l := range e.fifo.Lots() {
			r.Lots = append(r.Lots, [2]int64{int64(math.Float64bits(l.Amount)), l.TS})
		}
		w.Rows[i] = r
	}
	for i, tx := range st.pending {
		b, err := deterministic.Marshal(tx)
		if err != nil {
			return nil, err
		}
		w.Pending[i] = b
	}
	return json.Marshal(w)
}

// UnmarshalJSON restores a state MarshalJSON wrote.
func (s *RingState) UnmarshalJSON(data []byte) error {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	if len(w.Rows) != len(w.Names) {
		return fmt.Errorf("rapid ring state: %d rows for %d entities", len(w.Rows), len(w.Names))
	}
	st := New(Params{Window: w.Window, Velocity: w.Velocity, Amount: math.Float64frombits(w.Amount), PassThrough: math.Float64frombits(w.PassThrough)})
	for i, name := range w.Names {
		if id := st.ents.ID(name); int(id) != i {
			return fmt.Errorf("rapid ring state: entity %q repeated", name)
		}
		r := w.Rows[i]
		e := &entity{flagged: r.Flagged, best: r.Best, bestAmount: math.Float64frombits(r.BestAmount),
			in: math.Float64frombits(r.Sums[0]), out: math.Float64frombits(r.Sums[1]),
			rapid: math.Float64frombits(r.Sums[2]), dwell: math.Float64frombits(r.Sums[3])}
		for _, ev := range r.Open {
			e.open = append(e.open, event{ts: ev[0], amount: math.Float64frombits(uint64(ev[1]))})
		}
		ls := make([]lots.Lot, len(r.Lots))
		for k, l := range r.Lots {
			ls[k] = lots.Lot{Amount: math.Float64frombits(uint64(l[0])), TS: l[1]}
		}
		e.fifo = lots.FromLots(ls)
		st.rows = append(st.rows, e)
	}
	for _, b := range w.Pending {
		tx := &financev1.Transaction{}
		if err := proto.Unmarshal(b, tx); err != nil {
			return err
		}
		if _, ok := st.ents.Lookup(tx.GetSourceId()); !ok {
			return fmt.Errorf("rapid ring state: pending transaction %q names an unknown entity", tx.GetId())
		}
		if _, ok := st.ents.Lookup(tx.GetDestId()); !ok {
			return fmt.Errorf("rapid ring state: pending transaction %q names an unknown entity", tx.GetId())
		}
		st.pending = append(st.pending, tx)
	}
	g, err := txn.Restore(w.Window, w.LastTS, w.Any, w.Held)
	if err != nil {
		return fmt.Errorf("rapid ring state: %w", err)
	}
	st.guard = g
	s.st = st
	return nil
}
