package intercompany

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/structure/circuits"
)

var types = []string{"TRADE", "LOAN", "DIVIDEND", "MANAGEMENT_FEE", "ROYALTY", "OTHER"}

func randomTxns(rng *rand.Rand, n, entities int, maxAmount int64) []Txn {
	out := make([]Txn, n)
	for i := range out {
		out[i] = Txn{From: fmt.Sprintf("E%d", rng.IntN(entities)), To: fmt.Sprintf("E%d", rng.IntN(entities)),
			Currency: []string{"EUR", "USD"}[rng.IntN(2)], Type: types[rng.IntN(len(types))],
			Amount: rng.Int64N(maxAmount + 1), Confirmed: rng.IntN(3) > 0, Debtor: rng.IntN(3) == 0}
	}
	return out
}

// checkLaws asserts the definition's invariants on any result:
// Σ_e net_e = 0 per currency; net = receivable − payable; relationships sum
// the creditor rows; every bottleneck is the smallest edge of its cycle and
// every cycle is elementary, canonical, within the bound and listed once;
// eliminations are positive, at most both sides' confirmed totals, with the
// type's account pair; netting's volume and gross follow from the balances
// and relationships.
func checkLaws(t *testing.T, txns []Txn, p Params, r Result) {
	t.Helper()
	netSum := map[string]int64{}
	for _, b := range r.Balances {
		if b.Net != b.Receivable-b.Payable {
			t.Fatalf("balance %+v: net ≠ receivable − payable", b)
		}
		netSum[b.Currency] += b.Net
	}
	for c, s := range netSum {
		if s != 0 {
			t.Fatalf("Σ net in %s = %d, want 0", c, s)
		}
	}
	type pair struct{ from, to, cur string }
	edge := map[pair]int64{}
	var creditorTotal, relTotal int64
	confirmed := map[Key][2]int64{}
	for _, x := range txns {
		k := Key{x.From, x.To, x.Currency, x.Type}
		s := confirmed[k]
		if x.Confirmed {
			if x.Debtor {
				s[1] += x.Amount
			} else {
				s[0] += x.Amount
			}
		}
		confirmed[k] = s
		if !x.Debtor {
			creditorTotal += x.Amount
		}
	}
	gross := map[string]int64{}
	for _, x := range r.Relationships {
		edge[pair{x.From, x.To, x.Currency}] = x.Amount
		relTotal += x.Amount
		if x.From != x.To {
			gross[x.Currency] += x.Amount
		}
	}
	if relTotal != creditorTotal {
		t.Fatalf("relationships sum to %d, creditor rows to %d", relTotal, creditorTotal)
	}
	seen := map[string]bool{}
	for i, c := range r.Cycles {
		if len(c.Entities) < 2 || len(c.Entities) > p.MaxCycle {
			t.Fatalf("cycle %v: length outside 2..%d", c.Entities, p.MaxCycle)
		}
		if slices.Min(c.Entities) != c.Entities[0] {
			t.Fatalf("cycle %v does not start at its smallest entity", c.Entities)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(c.Entities)))) != len(c.Entities) {
			t.Fatalf("cycle %v repeats an entity", c.Entities)
		}
		key := c.Currency + fmt.Sprint(c.Entities)
		if seen[key] {
			t.Fatalf("cycle %s listed twice", key)
		}
		seen[key] = true
		least := int64(-1)
		for j, e := range c.Entities {
			a, ok := edge[pair{e, c.Entities[(j+1)%len(c.Entities)], c.Currency}]
			if !ok {
				t.Fatalf("cycle %v: no edge %s → next", c.Entities, e)
			}
			if c.Bottleneck > a {
				t.Fatalf("cycle %v: bottleneck %d > edge %d", c.Entities, c.Bottleneck, a)
			}
			if least < 0 || a < least {
				least = a
			}
		}
		if least != c.Bottleneck {
			t.Fatalf("cycle %v: bottleneck %d, smallest edge %d", c.Entities, c.Bottleneck, least)
		}
		if i > 0 {
			prev := r.Cycles[i-1]
			if prev.Currency > c.Currency || prev.Currency == c.Currency && (len(prev.Entities) > len(c.Entities) ||
				len(prev.Entities) == len(c.Entities) && slices.Compare(prev.Entities, c.Entities) >= 0) {
				t.Fatalf("cycles out of order: %v then %v", prev, c)
			}
		}
	}
	for _, e := range r.Eliminations {
		s := confirmed[e.Key]
		if e.Amount <= 0 || e.Amount != min(s[0], s[1]) {
			t.Fatalf("elimination %+v: amount ≠ min(creditor %d, debtor %d) > 0", e, s[0], s[1])
		}
		if acc := Accounts[e.Type]; e.Debit != acc[0] || e.Credit != acc[1] {
			t.Fatalf("elimination %+v: accounts ≠ %v", e, acc)
		}
	}
	for _, m := range r.Mismatches {
		if d := m.Receivable - m.Payable; d <= p.Tolerance && -d <= p.Tolerance {
			t.Fatalf("mismatch %+v within tolerance %d", m, p.Tolerance)
		}
	}
	for _, n := range r.Netting {
		var vol int64
		for _, b := range r.Balances {
			if b.Currency == n.Currency && b.Net > 0 {
				vol += b.Net
			}
		}
		if n.Volume != vol || n.Gross != gross[n.Currency] || n.Volume > n.Gross {
			t.Fatalf("netting %+v: volume %d, gross %d", n, vol, gross[n.Currency])
		}
	}
}

func TestRandomGroupsKeepTheLaws(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for trial := range 200 {
		txns := randomTxns(rng, rng.IntN(80), 1+rng.IntN(8), []int64{0, 5, 1e6, 1e12}[rng.IntN(4)])
		p := Params{Tolerance: rng.Int64N(10), MaxCycle: rng.IntN(9)}
		r, err := Analyze(context.Background(), txns, p)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		checkLaws(t, txns, p, r)
	}
}

// 50,000 rows of 1e12 (the largest allowed amount) sum to 5e16 without
// overflow, and the balances still net to zero.
func TestLargestAmountsDoNotOverflow(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	txns := randomTxns(rng, 50_000, 20, 0)
	for i := range txns {
		txns[i].Amount = 1e12
	}
	p := Params{MaxCycle: 3}
	r, err := Analyze(context.Background(), txns, p)
	if err != nil {
		t.Fatal(err)
	}
	checkLaws(t, txns, p, r)
}

// The output-item and step bounds stop a dense group's cycle search.
func TestCycleSearchBounds(t *testing.T) {
	var txns []Txn
	for u := range 30 {
		for v := range 30 {
			if u != v {
				txns = append(txns, Txn{From: fmt.Sprint(u), To: fmt.Sprint(v), Currency: "EUR", Type: "TRADE", Amount: 1})
			}
		}
	}
	_, err := Analyze(context.Background(), txns, Params{MaxCycle: 5, MaxCycles: 1000})
	if !errors.Is(err, ErrTooManyCycles) {
		t.Fatalf("cycle cap: %v", err)
	}
	_, err = Analyze(context.Background(), txns, Params{MaxCycle: 8, MaxSteps: 1_000_000})
	if !errors.Is(err, circuits.ErrSteps) {
		t.Fatalf("step budget: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Analyze(ctx, txns, Params{MaxCycle: 8}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// Within the bounds the same group answers: 435 2-cycles + 8,120 3-cycles.
	r, err := Analyze(context.Background(), txns, Params{MaxCycle: 3, MaxCycles: 10_000, MaxSteps: 1_000_000})
	if err != nil || len(r.Cycles) != 435+8120 {
		t.Fatalf("%d cycles, %v; want 8555", len(r.Cycles), err)
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add(uint64(1), 10, 3, 5)
	f.Add(uint64(2), 60, 8, 8)
	f.Add(uint64(3), 0, 1, 0)
	f.Fuzz(func(t *testing.T, seed uint64, n, entities, maxCycle int) {
		if n < 0 || n > 200 || entities < 1 || entities > 12 || maxCycle < 0 || maxCycle > 8 {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 2))
		txns := randomTxns(rng, n, entities, 1e12)
		p := Params{MaxCycle: maxCycle, MaxCycles: 100_000, MaxSteps: 10_000_000}
		r, err := Analyze(context.Background(), txns, p)
		if errors.Is(err, ErrTooManyCycles) || errors.Is(err, circuits.ErrSteps) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		checkLaws(t, txns, p, r)
	})
}
