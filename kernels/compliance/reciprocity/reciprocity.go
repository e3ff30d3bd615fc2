// Package reciprocity is compliance/reciprocity-flow: two-way flows between
// entity pairs, with edge reciprocity (Garlaschelli & Loffredo 2004) and
// weighted reciprocity (Squartini et al. 2013). Self-loops are excluded.
package reciprocity

import (
	"cmp"
	"context"
	"slices"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Def declares compliance/reciprocity-flow.
var Def = registry.Def[*compliancev1.ReciprocityFlowInput, *compliancev1.ReciprocityFlowOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/reciprocity-flow",
		Domain:      registry.DomainCompliance,
		Description: "Reciprocal flows between entity pairs: reciprocal pairs, edge reciprocity (equals networkx.reciprocity) and weighted reciprocity (Squartini et al. 2013).",
		Modes:       []registry.Mode{registry.Batch, registry.Ring},
	},
	Prepare: prepare,
	CPU: func(ctx context.Context, j *job) (*compliancev1.ReciprocityFlowOutput, error) {
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

func prepare(ctx context.Context, in *compliancev1.ReciprocityFlowInput) (*job, error) {
	order, err := txn.Check(ctx, "transactions", in.GetTransactions())
	if err != nil {
		return nil, err
	}
	if in.IdHorizonSeconds != nil && in.GetIdHorizonSeconds() < 1 {
		return nil, kerr.Invalid("id_horizon_seconds", "must be >= 1, got %d", in.GetIdHorizonSeconds())
	}
	if in.WindowSeconds != nil {
		if in.GetWindowSeconds() < 1 {
			return nil, kerr.Invalid("window_seconds", "must be >= 1, got %d", in.GetWindowSeconds())
		}
		if in.GetWindow() != nil {
			return nil, kerr.Invalid("window_seconds", "cannot be set together with window: choose the sliding or the fixed window")
		}
	}
	p := Params{MinAmount: in.GetMinAmount(), IDHorizon: registry.Or(in.IdHorizonSeconds, DefaultIDHorizon), Slide: in.GetWindowSeconds()}
	if w := in.GetWindow(); w != nil {
		if w.GetEnd() < w.GetStart() {
			return nil, kerr.Invalid("window.end", "must be >= window.start (%d), got %d", w.GetStart(), w.GetEnd())
		}
		p.Windowed, p.Start, p.End = true, w.GetStart(), w.GetEnd()
	}
	return &job{params: p, txs: txn.Sorted(in.GetTransactions(), order)}, nil
}

// DefaultIDHorizon is the default id_horizon_seconds: one day.
const DefaultIDHorizon = 86_400

// Params are the kernel's options.
type Params struct {
	MinAmount  float64
	Windowed   bool
	Start, End int64 // [Start, End) when Windowed
	IDHorizon  int64 // seconds a transaction id is remembered (> 0)
	Slide      int64 // ring only: the sliding window_seconds W (0 = none); Batch ignores it
}

type flow struct {
	amount  float64
	count   int32
	alerted bool // the pair's ReciprocityAlert was emitted (ring; set on both directions)
	// Sliding window only: the live amounts in ts order (amts[head:]) and
	// how many of them are not integers, so an expiry can subtract exactly
	// when all are integers and the sum is below 2^53, and otherwise
	// re-adds the live amounts in order (the Batch sum, bit for bit).
	amts []float64
	head int32
	frac int32
}

// State is the fold: transactions applied in ts order, Snapshot = Batch.
type State struct {
	p     Params
	guard txn.HorizonGuard // ids of the last IDHorizon seconds
	ents  txn.Interner
	flows map[uint64]*flow // src<<32 | dst
	// Sliding window only: the counted transactions still inside it, in
	// ts order (queue[qhead:]), and per entity id how many of them name it.
	queue []queued
	qhead int
	refs  []int32
	live  int // entities with refs > 0
}

// queued is one counted transaction of the sliding window: pointer-free.
type queued struct {
	ts     int64
	u, v   int32
	amount float64
}

// New returns an empty state.
func New(p Params) *State {
	return &State{p: p, guard: txn.NewHorizonGuard(p.IDHorizon), flows: map[uint64]*flow{}}
}

func key(u, v int32) uint64 { return uint64(uint32(u))<<32 | uint64(uint32(v)) }

// Apply adds one transaction; self-loops and transactions outside the
// window are admitted (ids and ts order are checked) but not counted.
func (s *State) Apply(tx *financev1.Transaction) error {
	if err := s.guard.Admit(tx, "transaction"); err != nil {
		return err
	}
	s.add(tx)
	return nil
}

// counted reports whether tx adds to a pair: not a self-loop, inside the
// window.
func (s *State) counted(tx *financev1.Transaction) bool {
	if tx.GetSourceId() == tx.GetDestId() {
		return false
	}
	return !s.p.Windowed || (tx.GetTs() >= s.p.Start && tx.GetTs() < s.p.End)
}

// add counts an admitted transaction and returns its pair's ids (source,
// dest), or ok = false when it does not count.
func (s *State) add(tx *financev1.Transaction) (u, v int32, ok bool) {
	if !s.counted(tx) {
		return 0, 0, false
	}
	u, v = s.addNames(tx.GetSourceId(), tx.GetDestId(), tx.GetAmount())
	return u, v, true
}

// addNames counts a transaction src→dst (not a self-loop) in its flow.
func (s *State) addNames(src, dst string, amount float64) (u, v int32) {
	u, v = s.ents.ID(src), s.ents.ID(dst)
	k := key(u, v)
	f := s.flows[k]
	if f == nil {
		f = &flow{}
		s.flows[k] = f
	}
	f.amount += amount
	f.count++
	return u, v
}

// Snapshot computes the Batch output over the transactions applied so far.
func (s *State) Snapshot() *compliancev1.ReciprocityFlowOutput {
	out := &compliancev1.ReciprocityFlowOutput{}
	n := s.ents.Len()
	keys := make([]uint64, 0, len(s.flows))
	for k := range s.flows {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic summation order
	outS, inS, recS := make([]float64, n), make([]float64, n), make([]float64, n)
	var total, minSum float64
	reciprocated := 0
	for _, k := range keys {
		u, v := int32(k>>32), int32(uint32(k))
		f := s.flows[k]
		total += f.amount
		outS[u] += f.amount
		inS[v] += f.amount
		back, ok := s.flows[key(v, u)]
		if !ok {
			continue
		}
		reciprocated++
		m := min(f.amount, back.amount)
		minSum += m
		recS[u] += m
		a, b := s.ents.Names[u], s.ents.Names[v]
		if a < b && m >= s.p.MinAmount {
			out.Pairs = append(out.Pairs, &compliancev1.ReciprocalPair{
				A: a, B: b, AmountAb: f.amount, AmountBa: back.amount,
				CountAb: f.count, CountBa: back.count, Reciprocated: m,
			})
		}
	}
	slices.SortFunc(out.Pairs, func(x, y *compliancev1.ReciprocalPair) int {
		if c := cmp.Compare(y.Reciprocated, x.Reciprocated); c != 0 {
			return c
		}
		if c := cmp.Compare(x.A, y.A); c != 0 {
			return c
		}
		return cmp.Compare(x.B, y.B)
	})
	for _, p := range out.Pairs {
		out.ReciprocalAmount += 2 * p.Reciprocated
	}
	out.TotalAmount = total
	out.EdgeReciprocity = txn.Ratio(float64(reciprocated), float64(len(keys)))
	out.WeightedReciprocity = txn.Ratio(minSum, total)
	for _, u := range s.ents.ByName() {
		out.Entities = append(out.Entities, &compliancev1.ReciprocityEntity{
			Id: s.ents.Names[u], OutStrength: outS[u], InStrength: inS[u],
			ReciprocatedStrength: recS[u], Reciprocity: txn.Ratio(recS[u], outS[u]),
		})
	}
	return out
}
