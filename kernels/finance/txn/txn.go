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
	"fmt"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// CheckEvery is how many transactions run between context checks.
const CheckEvery = 1 << 14

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

// Ratio is num/den, 0 when den is 0 (§1.6).
func Ratio(num, den float64) float64 {
	if den == 0 {
		return 0
	}
	return num / den
}
