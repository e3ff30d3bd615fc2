package flownet

import (
	"math/rand/v2"
	"testing"
)

// conserves checks that the flows of one entry cover every debit line and
// source every credit line exactly (suspense lines included) and that the
// suspense lines balance each currency.
func conserves(t testing.TB, e Entry, flows []Flow, res Result) {
	t.Helper()
	want := map[int32]int64{}
	bal := map[string]int64{}
	for _, l := range append(append([]Line{}, e.Lines...), res.Suspense...) {
		want[l.No] += l.Debit - l.Credit
		bal[l.Currency] += l.Debit - l.Credit
	}
	for c, v := range bal {
		if v != 0 {
			t.Fatalf("currency %s unbalanced by %d after suspense", c, v)
		}
	}
	got := map[int32]int64{}
	for _, f := range flows {
		if f.Amount <= 0 {
			t.Fatalf("flow amount %d", f.Amount)
		}
		got[f.DebitLine] += f.Amount
		got[f.CreditLine] -= f.Amount
	}
	for no, w := range want {
		if got[no] != w {
			t.Fatalf("line %d: flows %d, line %d (entry %+v)", no, got[no], w, e)
		}
	}
}

func randomEntry(rng *rand.Rand, n int) Entry {
	e := Entry{ID: "e"}
	for i := range n {
		l := Line{No: int32(i*3 + 1), Account: string(rune('A' + rng.IntN(5))), Entity: string(rune('X' + rng.IntN(2))),
			Currency: []string{"EUR", "USD"}[rng.IntN(2)]}
		amt := 1 + rng.Int64N(50)
		if rng.IntN(2) == 0 {
			l.Debit = amt
		} else {
			l.Credit = amt
		}
		e.Lines = append(e.Lines, l)
	}
	rng.Shuffle(len(e.Lines), func(i, j int) { e.Lines[i], e.Lines[j] = e.Lines[j], e.Lines[i] })
	return e
}

// Random (mostly unbalanced) entries: flows sum back exactly to every line.
func TestConservationRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	g := New(Options{SuspenseAccount: "S", MaxSubsetLines: 12})
	var last uint64
	for range 3000 {
		e := randomEntry(rng, rng.IntN(14))
		flows, res := g.Solve(e)
		conserves(t, e, flows, res)
		for _, f := range flows {
			if f.ID != last+1 {
				t.Fatalf("flow id %d after %d", f.ID, last)
			}
			last = f.ID
		}
	}
}

// North-west corner yields at most n+m−1 flows on an entry no earlier step
// touches (amounts chosen so no pair or subset matches).
func TestNorthWestBound(t *testing.T) {
	e := Entry{ID: "nw", Lines: []Line{
		{No: 1, Account: "a", Debit: 1000}, {No: 2, Account: "b", Debit: 1001}, {No: 3, Account: "c", Debit: 7},
		{No: 4, Account: "x", Credit: 503}, {No: 5, Account: "y", Credit: 1500}, {No: 6, Account: "z", Credit: 5},
	}}
	flows, res := New(Options{SuspenseAccount: "S", MaxSubsetLines: 12}).Solve(e)
	conserves(t, e, flows, res)
	if len(flows) > 5 || len(res.Methods) != 1 || res.Methods[0] != "D" {
		t.Fatalf("flows %d (want ≤ 5), methods %v (want [D])", len(flows), res.Methods)
	}
}

// FuzzSolve: any entry, balanced or not, conserves exactly.
func FuzzSolve(f *testing.F) {
	f.Add(uint64(1), 3)
	f.Add(uint64(42), 12)
	f.Add(uint64(7), 0)
	f.Fuzz(func(t *testing.T, seed uint64, n int) {
		if n < 0 || n > 40 {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 1))
		e := randomEntry(rng, n)
		flows, res := New(Options{SuspenseAccount: "S", MaxSubsetLines: 1 + int(seed%20)}).Solve(e)
		conserves(t, e, flows, res)
	})
}
