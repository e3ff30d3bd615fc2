package reciprocity

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txfold"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// EventAlert is the kind of the event emitted when a pair first becomes
// reciprocal (both directions present, min(w_ab, w_ba) >= min_amount): a
// ReciprocalPair with the pair's sums and counts at that transaction.
const EventAlert = "ReciprocityAlert"

// RingState is reciprocity-flow's ring state: the Batch fold itself (per
// pair sums and counts inside the configured window, entity names, the
// ids of the last id_horizon_seconds), so it is bounded by the number of
// distinct pairs and one horizon's traffic, not the number of
// transactions, and Snapshot is the Batch output. With window_seconds it
// also keeps the window's counted transactions in a FIFO queue (slide.go)
// and holds one window's traffic.
type RingState struct{ st *State }

// RingSpec is the ring handler of compliance/reciprocity-flow. A data
// message carries transactions in ts order. Each one that counts (not a
// self-loop, inside the window) replies with its pair's ReciprocalPair
// (a < b); a pair whose min first reaches min_amount with both directions
// present emits EventAlert before the reply.
var RingSpec = fold.Spec[*compliancev1.ReciprocityFlowInput, *compliancev1.ReciprocityFlowOutput, RingState]{
	Messages: fold.Messages{
		Reply: &compliancev1.ReciprocalPair{},
		ReplyDoc: "The pair of the message's last counted transaction, with its sums and counts in both " +
			"directions (unset when no transaction counted).",
		Events: []fold.EventType{
			{Kind: EventAlert, Message: &compliancev1.ReciprocalPair{}, Doc: "ReciprocityAlert: a pair first became " +
				"reciprocal (both directions present, min(amount_ab, amount_ba) >= min_amount): the pair's sums and " +
				"counts at that transaction."},
		},
	},
	Configure: txfold.Configure(prepare, func(j *job) *RingState { return &RingState{st: New(j.params)} }),
	Apply:     applyRing,
	Snapshot: func(_ context.Context, s *RingState) (*compliancev1.ReciprocityFlowOutput, error) {
		if s.st.p.Slide > 0 {
			return s.st.slidingSnapshot(), nil
		}
		return s.st.Snapshot(), nil
	},
	Split: txfold.Split[*compliancev1.ReciprocityFlowInput],
}

func applyRing(rc fold.Context, s *RingState, in *compliancev1.ReciprocityFlowInput) error {
	if err := txfold.CheckData(in); err != nil {
		return err
	}
	st := s.st
	txs := in.GetTransactions()
	// Check everything first: a refused message changes nothing.
	if err := st.guard.Check(txs, "transactions"); err != nil {
		return err
	}
	var newPairs map[[2]string]bool
	for _, tx := range txs {
		if st.counted(tx) && !st.hasPair(tx.GetSourceId(), tx.GetDestId()) {
			if newPairs == nil {
				newPairs = map[[2]string]bool{}
			}
			newPairs[[2]string{tx.GetSourceId(), tx.GetDestId()}] = true
		}
	}
	if err := limits.Check("transactions", len(st.flows)+len(newPairs), limits.From(rc).MaxEdges); err != nil {
		return kerr.Invalid("transactions", "the ring would hold %d directed pairs, over the server limit of %d", len(st.flows)+len(newPairs), limits.From(rc).MaxEdges)
	}
	for _, tx := range txs {
		if err := st.guard.Admit(tx, "transaction"); err != nil {
			return err // checked above; cannot happen
		}
		if st.p.Slide > 0 {
			st.expire(tx.GetTs())
		}
		u, v, ok := st.add(tx)
		if !ok {
			continue
		}
		if st.p.Slide > 0 {
			st.push(tx.GetTs(), u, v, tx.GetAmount())
		}
		f, back := st.flows[key(u, v)], st.flows[key(v, u)]
		if back != nil && !f.alerted && min(f.amount, back.amount) >= st.p.MinAmount {
			f.alerted, back.alerted = true, true
			rc.Emit(EventAlert, st.pair(u, v))
		}
		fold.Reply(rc, st.pair(u, v))
	}
	return nil
}

// hasPair reports whether the directed pair src→dst has a flow already.
func (s *State) hasPair(src, dst string) bool {
	u, ok := s.ents.Lookup(src)
	if !ok {
		return false
	}
	v, ok := s.ents.Lookup(dst)
	return ok && s.flows[key(u, v)] != nil
}

// pair returns the unordered pair {u, v} as a ReciprocalPair (a < b), with
// reciprocated = min of the two directions (0 when one is missing).
func (s *State) pair(u, v int32) *compliancev1.ReciprocalPair {
	if s.ents.Names[u] > s.ents.Names[v] {
		u, v = v, u
	}
	p := &compliancev1.ReciprocalPair{A: s.ents.Names[u], B: s.ents.Names[v]}
	if f := s.flows[key(u, v)]; f != nil {
		p.AmountAb, p.CountAb = f.amount, f.count
	}
	if f := s.flows[key(v, u)]; f != nil {
		p.AmountBa, p.CountBa = f.amount, f.count
	}
	if p.CountAb > 0 && p.CountBa > 0 {
		p.Reciprocated = min(p.AmountAb, p.AmountBa)
	}
	return p
}

// wire is RingState's encoding: floats as their IEEE bits (sums may
// overflow to ±Inf, which JSON cannot carry), flows sorted by key.
type wire struct {
	MinAmount uint64       `json:"min_amount"`
	Windowed  bool         `json:"windowed"`
	Start     int64        `json:"start"`
	End       int64        `json:"end"`
	Names     []string     `json:"names"` // entity ids by interned index
	Flows     [][5]int64   `json:"flows"` // src, dst, amount bits, count, alerted
	IDHorizon int64        `json:"id_horizon"`
	LastTS    int64        `json:"last_ts"`
	Any       bool         `json:"any"`
	Held      []txn.HeldID `json:"held"` // ids of the last id_horizon seconds, in ts order
	Slide     int64        `json:"window_seconds,omitempty"`
	Queue     [][4]int64   `json:"queue,omitempty"` // sliding window: ts, src, dst, amount bits, in ts order
}

// MarshalJSON encodes the state deterministically.
func (s *RingState) MarshalJSON() ([]byte, error) {
	st := s.st
	w := wire{
		MinAmount: math.Float64bits(st.p.MinAmount), Windowed: st.p.Windowed, Start: st.p.Start, End: st.p.End,
		Names: st.ents.Names, Flows: make([][5]int64, 0, len(st.flows)),
		IDHorizon: st.p.IDHorizon, Held: st.guard.Held(), Slide: st.p.Slide,
	}
	for _, q := range st.queue[st.qhead:] {
		w.Queue = append(w.Queue, [4]int64{q.ts, int64(q.u), int64(q.v), int64(math.Float64bits(q.amount))})
	}
	w.LastTS, w.Any = st.guard.Last()
	if w.Names == nil {
		w.Names = []string{}
	}
	keys := make([]uint64, 0, len(st.flows))
	for k := range st.flows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f := st.flows[k]
		alerted := int64(0)
		if f.alerted {
			alerted = 1
		}
		w.Flows = append(w.Flows, [5]int64{int64(k >> 32), int64(uint32(k)), int64(math.Float64bits(f.amount)), int64(f.count), alerted})
	}
	return json.Marshal(w)
}

// UnmarshalJSON restores a state MarshalJSON wrote.
func (s *RingState) UnmarshalJSON(data []byte) error {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	st := New(Params{MinAmount: math.Float64frombits(w.MinAmount), Windowed: w.Windowed, Start: w.Start, End: w.End, IDHorizon: w.IDHorizon, Slide: w.Slide})
	for i, name := range w.Names {
		if id := st.ents.ID(name); int(id) != i {
			return fmt.Errorf("reciprocity ring state: entity %q repeated", name)
		}
	}
	n := int64(len(w.Names))
	for _, f := range w.Flows {
		if f[0] < 0 || f[0] >= n || f[1] < 0 || f[1] >= n {
			return fmt.Errorf("reciprocity ring state: flow %d→%d names no entity", f[0], f[1])
		}
		st.flows[key(int32(f[0]), int32(f[1]))] = &flow{amount: math.Float64frombits(uint64(f[2])), count: int32(f[3]), alerted: f[4] != 0}
	}
	for _, q := range w.Queue {
		if q[1] < 0 || q[1] >= n || q[2] < 0 || q[2] >= n || st.flows[key(int32(q[1]), int32(q[2]))] == nil {
			return fmt.Errorf("reciprocity ring state: queued transaction %d→%d names no flow", q[1], q[2])
		}
		st.push(q[0], int32(q[1]), int32(q[2]), math.Float64frombits(uint64(q[3])))
	}
	for _, f := range st.flows {
		if st.p.Slide > 0 && len(f.amts) != int(f.count) {
			return fmt.Errorf("reciprocity ring state: a flow's count %d differs from its %d queued transactions", f.count, len(f.amts))
		}
	}
	g, err := txn.Restore(w.IDHorizon, w.LastTS, w.Any, w.Held)
	if err != nil {
		return fmt.Errorf("reciprocity ring state: %w", err)
	}
	st.guard = g
	s.st = st
	return nil
}
