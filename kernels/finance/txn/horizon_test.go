package txn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// TestHorizonGuardMatchesBruteForce: random messages of transactions with
// reused ids and jumps in ts, checked and admitted by the guard, are
// accepted exactly when a brute force over every admitted (id, ts) finds
// no earlier id within the horizon and ts does not go back; a refused
// message changes nothing (the next Check answers as before), and a guard
// restored from Held answers the same.
func TestHorizonGuardMatchesBruteForce(t *testing.T) {
	for seed := range uint64(6) {
		r := rand.New(rand.NewPCG(seed, 11))
		horizon := int64(1 + r.IntN(30))
		g := NewHorizonGuard(horizon)
		type rec struct {
			id string
			ts int64
		}
		var admitted []rec
		ts := int64(r.IntN(5)) - 2
		refusedID, refusedTS, accepted := 0, 0, 0
		for range 3000 {
			n := 1 + r.IntN(3)
			msg := make([]*financev1.Transaction, n)
			for k := range msg {
				if r.IntN(4) == 0 {
					ts += int64(r.IntN(int(horizon) + 5))
				}
				t2 := ts
				if r.IntN(40) == 0 {
					t2 -= 1 + int64(r.IntN(3))
				}
				msg[k] = &financev1.Transaction{Id: fmt.Sprint("x", r.IntN(60)), Ts: t2}
			}
			// Brute force over every admitted transaction plus the message's earlier ones.
			want := ""
			last, seen := int64(0), len(admitted) > 0
			if seen {
				last = admitted[len(admitted)-1].ts
			}
			all := append([]rec(nil), admitted...)
			for k, tx := range msg {
				if seen && tx.Ts < last {
					want = fmt.Sprintf("transactions[%d].ts", k)
					break
				}
				for _, a := range all {
					if a.id == tx.Id && tx.Ts-a.ts < horizon {
						want = fmt.Sprintf("transactions[%d].id", k)
					}
				}
				if want != "" {
					break
				}
				all = append(all, rec{tx.Id, tx.Ts})
				last, seen = tx.Ts, true
			}
			err := g.Check(msg, "transactions")
			got := ""
			if fe, ok := kerr.AsField(err); ok {
				got = fe.Field
			} else if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("seed %d: %v: guard says %q, brute force %q", seed, msg, got, want)
			}
			if err != nil {
				if got[len(got)-2:] == "id" {
					refusedID++
				} else {
					refusedTS++
				}
				if err2 := g.Check(msg, "transactions"); err2 == nil || err2.Error() != err.Error() {
					t.Fatalf("seed %d: Check changed the guard", seed)
				}
				continue
			}
			for _, tx := range msg {
				g.Add(tx)
			}
			admitted = all
			accepted++
			// Bounded: only ids within the horizon of the latest ts, plus
			// none older (expired on Add).
			lastTS, _ := g.Last()
			for _, h := range g.Held() {
				if !within(h.TS, lastTS, horizon) {
					t.Fatalf("seed %d: id %q at ts %d held at %d past the horizon %d", seed, h.ID, h.TS, lastTS, horizon)
				}
			}
			if accepted%97 == 0 {
				last, seen := g.Last()
				r2, err := Restore(horizon, last, seen, g.Held())
				if err != nil {
					t.Fatal(err)
				}
				g = r2
			}
		}
		if refusedID < 50 || refusedTS < 10 || accepted < 500 {
			t.Fatalf("seed %d: %d id refusals, %d ts refusals, %d accepted: the case checks little", seed, refusedID, refusedTS, accepted)
		}
	}
}

// TestHorizonGuardExtremes: ts near the int64 ends neither overflow the
// horizon arithmetic nor forget an id early.
func TestHorizonGuardExtremes(t *testing.T) {
	g := NewHorizonGuard(math.MaxInt64)
	tx := func(id string, ts int64) *financev1.Transaction { return &financev1.Transaction{Id: id, Ts: ts} }
	if err := g.Admit(tx("a", math.MinInt64), "tx"); err != nil {
		t.Fatal(err)
	}
	if err := g.Admit(tx("a", -2), "tx"); err == nil { // 2^63-2 s later
		t.Fatal("id repeated within a horizon of MaxInt64 seconds accepted")
	}
	if err := g.Admit(tx("a", math.MaxInt64), "tx"); err != nil { // 2^64-1 s later
		t.Fatalf("id past a horizon of MaxInt64 seconds refused: %v", err)
	}
	g2 := NewHorizonGuard(10)
	if err := g2.Admit(tx("a", math.MinInt64), "tx"); err != nil {
		t.Fatal(err)
	}
	if err := g2.Admit(tx("a", math.MaxInt64), "tx"); err != nil {
		t.Fatalf("id past the horizon refused: %v", err)
	}
	if g2.Len() != 1 {
		t.Fatalf("%d ids held, want 1", g2.Len())
	}
}

// BenchmarkHorizonGuard: admitting transactions (4 per ts, a 1,000 s
// horizon: ~4,000 ids held) against the baseline of inserting each id in
// one map, the whole-input duplicate check Batch does.
func BenchmarkHorizonGuard(b *testing.B) {
	const n = 200_000
	txs := make([]*financev1.Transaction, n)
	for i := range txs {
		txs[i] = &financev1.Transaction{Id: fmt.Sprintf("tx-%08d", i), Ts: int64(i / 4)}
	}
	b.Run("baseline-map", func(b *testing.B) {
		for b.Loop() {
			seen := map[string]struct{}{}
			for _, tx := range txs {
				if _, dup := seen[tx.Id]; dup {
					b.Fatal("dup")
				}
				seen[tx.Id] = struct{}{}
			}
		}
	})
	b.Run("horizon-admit", func(b *testing.B) {
		for b.Loop() {
			g := NewHorizonGuard(1000)
			for _, tx := range txs {
				if err := g.Admit(tx, "tx"); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
