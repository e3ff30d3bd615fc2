package txn

import (
	"slices"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// RecentGuard is Guard for ring states that must stay bounded: ts must not
// decrease, and no id may repeat among the transactions of the latest ts.
// Batch checks every id already (Check); a ring keeping only the latest
// ts's ids relies on its (client_id, client_seq) de-duplication for retried
// messages, so an id reused at a later ts is not detected.
type RecentGuard struct {
	Last int64               // latest admitted ts
	Any  bool                // whether any was admitted
	IDs  map[string]struct{} // ids admitted at Last
}

// Check reports why tx cannot be admitted now, naming field.
func (g *RecentGuard) Check(tx *financev1.Transaction, field string) error {
	if g.Any && tx.GetTs() < g.Last {
		return kerr.Invalid(field+".ts", "ts %d is before the last applied ts %d", tx.GetTs(), g.Last)
	}
	if _, dup := g.IDs[tx.GetId()]; dup && g.Any && tx.GetTs() == g.Last {
		return kerr.Invalid(field+".id", "duplicate transaction id %q", tx.GetId())
	}
	return nil
}

// Admit checks tx and records it.
func (g *RecentGuard) Admit(tx *financev1.Transaction, field string) error {
	if err := g.Check(tx, field); err != nil {
		return err
	}
	if !g.Any || tx.GetTs() != g.Last {
		clear(g.IDs)
	}
	if g.IDs == nil {
		g.IDs = map[string]struct{}{}
	}
	g.IDs[tx.GetId()] = struct{}{}
	g.Last, g.Any = tx.GetTs(), true
	return nil
}

// Clone returns an independent copy (a message's dry run).
func (g *RecentGuard) Clone() RecentGuard {
	c := RecentGuard{Last: g.Last, Any: g.Any, IDs: make(map[string]struct{}, len(g.IDs))}
	for id := range g.IDs {
		c.IDs[id] = struct{}{}
	}
	return c
}

// SortedIDs returns the latest ts's ids in order (state encodings).
func (g *RecentGuard) SortedIDs() []string {
	out := make([]string, 0, len(g.IDs))
	for id := range g.IDs {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
