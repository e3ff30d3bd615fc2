// Package txn is the working form of finance.v1.Transaction lists shared by
// the transaction-graph kernels (compliance, banking, payments): request
// checks (size caps, duplicate ids, ts order), entity interning and the
// §1.5 order (stable by ts, ties in input order).
//
// Kernels are written as folds: a state with Apply(tx) per transaction in
// ts order and Snapshot() = the Batch output. Guard holds the checks that
// every such state needs before it accepts a transaction (a duplicate id is
// a 400; a ts older than the last one is out of range for the ring), so
// Batch and the ring reject the same things.
package txn

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// CheckEvery is how many transactions run between context checks.
const CheckEvery = 1 << 14

// Check applies the request-level rules to a transaction list named field:
// at most limits.MaxEdges transactions and unique ids. It returns the order
// in which a fold must apply them (stable by ts).
func Check(ctx context.Context, field string, txs []*financev1.Transaction) ([]int, error) {
	if err := limits.Check(field, len(txs), limits.From(ctx).MaxEdges); err != nil {
		return nil, err
	}
	seen := make(map[string]struct{}, len(txs))
	for i, t := range txs {
		if i%CheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if _, dup := seen[t.GetId()]; dup {
			return nil, kerr.Invalid(fmt.Sprintf("%s[%d].id", field, i), "duplicate transaction id %q", t.GetId())
		}
		seen[t.GetId()] = struct{}{}
	}
	return TSOrder(txs), nil
}

// TSOrder returns the indexes of txs stable-sorted by ts (pandas
// sort_values(kind="mergesort")). Input already in ts order (the usual
// case for a stream) costs one pass; otherwise (ts, index) pairs are
// sorted in one contiguous array, so the comparisons neither chase
// pointers to the messages nor need a stable sort (the index breaks ties).
func TSOrder(txs []*financev1.Transaction) []int {
	order := make([]int, len(txs))
	sorted := true
	for i := range order {
		order[i] = i
		if i > 0 && txs[i].GetTs() < txs[i-1].GetTs() {
			sorted = false
		}
	}
	if sorted {
		return order
	}
	type key struct {
		ts int64
		i  int
	}
	keys := make([]key, len(txs))
	for i, tx := range txs {
		keys[i] = key{tx.GetTs(), i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.ts, b.ts); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	for i, k := range keys {
		order[i] = k.i
	}
	return order
}

// Sorted returns txs in TSOrder.
func Sorted(txs []*financev1.Transaction, order []int) []*financev1.Transaction {
	out := make([]*financev1.Transaction, len(order))
	for i, j := range order {
		out[i] = txs[j]
	}
	return out
}

// ErrOutOfOrder is returned by Guard.Admit for a transaction older than the
// last one admitted; the ring answers it with OUT_OF_RANGE.
type ErrOutOfOrder struct{ TS, Last int64 }

func (e *ErrOutOfOrder) Error() string {
	return fmt.Sprintf("transaction ts %d is before the last applied ts %d", e.TS, e.Last)
}

// Guard is the per-state admission check of a fold: unique ids and
// non-decreasing ts.
type Guard struct {
	seen map[string]struct{}
	last int64
	any  bool
}

// Admit checks tx and records it. The state must not change when it fails.
func (g *Guard) Admit(tx *financev1.Transaction) error {
	if g.seen == nil {
		g.seen = map[string]struct{}{}
	}
	if g.any && tx.GetTs() < g.last {
		return &ErrOutOfOrder{TS: tx.GetTs(), Last: g.last}
	}
	if _, dup := g.seen[tx.GetId()]; dup {
		return kerr.Invalid("transaction.id", "duplicate transaction id %q", tx.GetId())
	}
	g.seen[tx.GetId()] = struct{}{}
	g.last, g.any = tx.GetTs(), true
	return nil
}

// Last returns the last admitted ts and whether any was admitted.
func (g *Guard) Last() (int64, bool) { return g.last, g.any }

// Interner maps entity ids to dense int32 indexes in order of first
// appearance.
type Interner struct {
	index map[string]int32
	Names []string
}

// ID returns the index of name, adding it when new.
func (in *Interner) ID(name string) int32 {
	if in.index == nil {
		in.index = map[string]int32{}
	}
	if id, ok := in.index[name]; ok {
		return id
	}
	id := int32(len(in.Names))
	in.index[name] = id
	in.Names = append(in.Names, name)
	return id
}

// Lookup returns the index of name and whether it is known.
func (in *Interner) Lookup(name string) (int32, bool) {
	id, ok := in.index[name]
	return id, ok
}

// Len is the number of entities.
func (in *Interner) Len() int { return len(in.Names) }

// ByName returns the entity indexes sorted bytewise by name.
func (in *Interner) ByName() []int32 {
	order := make([]int32, len(in.Names))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(in.Names[a], in.Names[b]) })
	return order
}

// Ratio is num/den, 0 when den is 0 (§1.6).
func Ratio(num, den float64) float64 {
	if den == 0 {
		return 0
	}
	return num / den
}
