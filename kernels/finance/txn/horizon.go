package txn

import (
	"fmt"
	"hash/maphash"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// HorizonGuard is Guard for ring states that must stay bounded: ts must
// not decrease, and no id may repeat among the transactions whose ts lies
// within Horizon seconds of the one being admitted (ts_old > ts − Horizon,
// so equal ts always collide). Ids of transactions that have fallen out of
// the horizon are forgotten: the guard holds the ids of one horizon's
// traffic, not of the whole stream, and an id older than that is accepted
// again. (Batch checks every id of its input; Check.)
//
// The remembered ids are a FIFO in ts order plus a count per 64-bit hash;
// a hash hit is confirmed by comparing the ids themselves, so a collision
// never refuses a fresh id. The hash seed is per process and never
// encoded: what the guard accepts depends only on the ids and their ts.
type HorizonGuard struct {
	Horizon int64 // seconds, > 0

	last  int64
	seen  bool
	held  []HeldID // admitted ids in ts order; held[head:] are remembered
	head  int
	count map[uint64]int32 // hash → remembered ids with that hash
}

// HeldID is one remembered transaction id (state encodings).
type HeldID struct {
	TS int64  `json:"ts"`
	ID string `json:"id"`
}

var horizonSeed = maphash.MakeSeed()

func idHash(id string) uint64 { return maphash.String(horizonSeed, id) }

// within reports whether an id admitted at old (<= t) is still remembered
// at t: t − old < horizon, computed without overflow.
func within(old, t, horizon int64) bool { return uint64(t)-uint64(old) < uint64(horizon) }

// NewHorizonGuard returns an empty guard remembering ids for horizon
// seconds (> 0).
func NewHorizonGuard(horizon int64) HorizonGuard {
	return HorizonGuard{Horizon: horizon}
}

// Last returns the latest admitted ts and whether any was admitted.
func (g *HorizonGuard) Last() (int64, bool) { return g.last, g.seen }

// Len is the number of remembered ids (at most one horizon's traffic,
// plus those not yet expired by a later admission).
func (g *HorizonGuard) Len() int { return len(g.held) - g.head }

// Held returns the remembered ids in admission order (state encodings).
func (g *HorizonGuard) Held() []HeldID {
	out := make([]HeldID, g.Len())
	copy(out, g.held[g.head:])
	return out
}

// Restore rebuilds a guard from Last and Held of an encoded one.
func Restore(horizon, last int64, seen bool, held []HeldID) (HorizonGuard, error) {
	if horizon <= 0 {
		return HorizonGuard{}, fmt.Errorf("id horizon %d must be > 0", horizon)
	}
	g := HorizonGuard{Horizon: horizon, last: last, seen: seen}
	for i, h := range held {
		if !seen || h.TS > last || (i > 0 && h.TS < held[i-1].TS) {
			return HorizonGuard{}, fmt.Errorf("remembered id %q at ts %d is out of order", h.ID, h.TS)
		}
		g.push(h)
	}
	return g, nil
}

// remembered reports whether id was admitted within the horizon of t. The
// scan runs only on a hash hit: a true repeat (refused) or a collision.
func (g *HorizonGuard) remembered(id string, t int64) bool {
	if g.count[idHash(id)] == 0 {
		return false
	}
	for i := len(g.held) - 1; i >= g.head; i-- {
		h := g.held[i]
		if !within(h.TS, t, g.Horizon) {
			return false // older ones are older still
		}
		if h.ID == id {
			return true
		}
	}
	return false
}

// Check reports why txs, admitted in order after everything admitted so
// far, cannot all be: a ts before the previous one, or an id remembered
// within the horizon (from earlier messages or earlier in txs). It changes
// nothing; the error names field[i].ts or field[i].id.
func (g *HorizonGuard) Check(txs []*financev1.Transaction, field string) error {
	last, seen := g.last, g.seen
	var local map[string]int64 // ids of txs → their latest ts
	for i, tx := range txs {
		t, id := tx.GetTs(), tx.GetId()
		if seen && t < last {
			return kerr.Invalid(fmt.Sprintf("%s[%d].ts", field, i), "ts %d is before the last applied ts %d", t, last)
		}
		prev, dup := local[id]
		if (dup && within(prev, t, g.Horizon)) || g.remembered(id, t) {
			return kerr.Invalid(fmt.Sprintf("%s[%d].id", field, i),
				"duplicate transaction id %q: it was applied within the last %d s (ids are remembered for that horizon)", id, g.Horizon)
		}
		if local == nil {
			local = make(map[string]int64, len(txs))
		}
		local[id], last, seen = t, t, true
	}
	return nil
}

// Admit checks one transaction and records it (a Batch fold's Apply).
func (g *HorizonGuard) Admit(tx *financev1.Transaction, field string) error {
	t, id := tx.GetTs(), tx.GetId()
	if g.seen && t < g.last {
		return kerr.Invalid(field+".ts", "ts %d is before the last applied ts %d", t, g.last)
	}
	if g.remembered(id, t) {
		return kerr.Invalid(field+".id", "duplicate transaction id %q within the last %d s", id, g.Horizon)
	}
	g.Add(tx)
	return nil
}

// Add records a transaction Check accepted: ids that fall out of the
// horizon at its ts are forgotten first.
func (g *HorizonGuard) Add(tx *financev1.Transaction) {
	t := tx.GetTs()
	for g.head < len(g.held) && !within(g.held[g.head].TS, t, g.Horizon) {
		h := idHash(g.held[g.head].ID)
		if g.count[h]--; g.count[h] == 0 {
			delete(g.count, h)
		}
		g.held[g.head] = HeldID{}
		g.head++
	}
	if g.head > 0 && g.head*2 >= len(g.held) { // reclaim the expired front
		n := copy(g.held, g.held[g.head:])
		clear(g.held[n:])
		g.held, g.head = g.held[:n], 0
	}
	g.push(HeldID{TS: t, ID: tx.GetId()})
	g.last, g.seen = t, true
}

func (g *HorizonGuard) push(h HeldID) {
	if g.count == nil {
		g.count = map[uint64]int32{}
	}
	g.held = append(g.held, h)
	g.count[idHash(h.ID)]++
}
