// Package intercompany is the engine of accounting/network-analysis: the
// intercompany positions, IC reconciliation, elimination entries, cycles and
// multilateral netting of a group's intragroup transactions (domains.md §9;
// IFRS 10 B86(c), ASC 810-10-45-1). Amounts are int64 minor units; every
// sum is exact (inputs are bounded so that no sum can overflow).
package intercompany

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/structure/circuits"
)

// Txn is one reported intercompany transaction.
type Txn struct {
	From, To, Currency, Type string
	Amount                   int64
	Confirmed                bool
	// Debtor marks a row reported by the debtor (to_entity); the other rows
	// are the creditor's.
	Debtor bool
}

// Params are the analysis options.
type Params struct {
	Tolerance int64
	MaxCycle  int
	// MaxCycles and MaxSteps bound the cycle search (≤ 0: no bound); beyond
	// them Analyze returns ErrTooManyCycles or circuits.ErrSteps.
	MaxCycles int
	MaxSteps  int64
}

// ErrTooManyCycles is returned when there are more than MaxCycles cycles.
var ErrTooManyCycles = errors.New("too many cycles")

// Balance is one entity's position in one currency.
type Balance struct {
	Entity, Currency         string
	Receivable, Payable, Net int64
}

// Relationship aggregates one directed pair in one currency.
type Relationship struct {
	From, To, Currency string
	Amount             int64
	Count              int
}

// Key identifies the rows reconciled and eliminated together.
type Key struct{ From, To, Currency, Type string }

func (k Key) compare(o Key) int {
	return cmp.Or(strings.Compare(k.From, o.From), strings.Compare(k.To, o.To),
		strings.Compare(k.Currency, o.Currency), strings.Compare(k.Type, o.Type))
}

// Mismatch is a key whose two sides differ by more than the tolerance.
type Mismatch struct {
	Key
	Receivable, Payable int64
}

// Elimination eliminates the confirmed amount both sides agree on.
type Elimination struct {
	Key
	Debit, Credit string
	Amount        int64
}

// Cycle is an elementary circuit of a currency's entity graph.
type Cycle struct {
	Currency   string
	Entities   []string
	Bottleneck int64
}

// Netting is one currency's multilateral netting.
type Netting struct {
	Currency      string
	Gross, Volume int64
	Efficiency    float64
}

// Result is the whole analysis, every list sorted by its key.
type Result struct {
	Balances      []Balance
	Relationships []Relationship
	Mismatches    []Mismatch
	Eliminations  []Elimination
	Cycles        []Cycle
	Netting       []Netting
}

// Accounts are the (debit, credit) elimination accounts per type
// (upstream's pairs).
var Accounts = map[string][2]string{
	"TRADE":          {"IC_PAYABLES", "IC_RECEIVABLES"},
	"LOAN":           {"IC_LOAN_PAYABLE", "IC_LOAN_RECEIVABLE"},
	"DIVIDEND":       {"DIVIDEND_INCOME", "DIVIDEND_EXPENSE"},
	"MANAGEMENT_FEE": {"MGMT_FEE_INCOME", "MGMT_FEE_EXPENSE"},
	"ROYALTY":        {"ROYALTY_INCOME", "ROYALTY_EXPENSE"},
	"OTHER":          {"IC_OTHER_PAYABLE", "IC_OTHER_RECEIVABLE"},
}

// side holds one key's totals as reported by one side.
type side struct {
	rows             int
	total, confirmed int64
}

// Analyze runs the analysis.
func Analyze(ctx context.Context, txns []Txn, p Params) (Result, error) {
	type ec struct{ entity, currency string }
	type pc struct{ from, to, currency string }
	bal := map[ec]*Balance{}
	rel := map[pc]*Relationship{}
	creditor, debtor := map[Key]*side{}, map[Key]*side{}
	for i, t := range txns {
		if i&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
		}
		k := Key{t.From, t.To, t.Currency, t.Type}
		sides := creditor
		if t.Debtor {
			sides = debtor
		}
		s := sides[k]
		if s == nil {
			s = &side{}
			sides[k] = s
		}
		s.rows++
		s.total += t.Amount
		if t.Confirmed {
			s.confirmed += t.Amount
		}
		if t.Debtor {
			continue
		}
		for _, e := range [2]string{t.From, t.To} {
			if bal[ec{e, t.Currency}] == nil {
				bal[ec{e, t.Currency}] = &Balance{Entity: e, Currency: t.Currency}
			}
		}
		bal[ec{t.From, t.Currency}].Receivable += t.Amount
		bal[ec{t.To, t.Currency}].Payable += t.Amount
		r := rel[pc{t.From, t.To, t.Currency}]
		if r == nil {
			r = &Relationship{From: t.From, To: t.To, Currency: t.Currency}
			rel[pc{t.From, t.To, t.Currency}] = r
		}
		r.Amount += t.Amount
		r.Count++
	}
	var res Result
	for _, b := range bal {
		b.Net = b.Receivable - b.Payable
		res.Balances = append(res.Balances, *b)
	}
	slices.SortFunc(res.Balances, func(a, b Balance) int {
		return cmp.Or(strings.Compare(a.Entity, b.Entity), strings.Compare(a.Currency, b.Currency))
	})
	for _, r := range rel {
		res.Relationships = append(res.Relationships, *r)
	}
	slices.SortFunc(res.Relationships, func(a, b Relationship) int {
		return Key{a.From, a.To, a.Currency, ""}.compare(Key{b.From, b.To, b.Currency, ""})
	})
	res.Mismatches, res.Eliminations = reconcile(creditor, debtor, p.Tolerance)
	res.Netting = netting(res.Balances, res.Relationships)
	var err error
	res.Cycles, err = cycles(ctx, res.Relationships, p)
	return res, err
}

// reconcile compares the keys reported by both sides and builds their
// eliminations.
func reconcile(creditor, debtor map[Key]*side, tol int64) ([]Mismatch, []Elimination) {
	var mis []Mismatch
	var elim []Elimination
	for k, c := range creditor {
		d := debtor[k]
		if d == nil {
			continue
		}
		if diff := c.total - d.total; diff > tol || -diff > tol {
			mis = append(mis, Mismatch{Key: k, Receivable: c.total, Payable: d.total})
		}
		if amt := min(c.confirmed, d.confirmed); amt > 0 {
			acc := Accounts[k.Type]
			elim = append(elim, Elimination{Key: k, Debit: acc[0], Credit: acc[1], Amount: amt})
		}
	}
	slices.SortFunc(mis, func(a, b Mismatch) int { return a.compare(b.Key) })
	slices.SortFunc(elim, func(a, b Elimination) int { return a.compare(b.Key) })
	return mis, elim
}

// netting nets every currency's balances multilaterally.
func netting(bals []Balance, rels []Relationship) []Netting {
	by := map[string]*Netting{}
	for _, r := range rels {
		n := by[r.Currency]
		if n == nil {
			n = &Netting{Currency: r.Currency}
			by[r.Currency] = n
		}
		if r.From != r.To {
			n.Gross += r.Amount
		}
	}
	for _, b := range bals {
		if b.Net > 0 {
			by[b.Currency].Volume += b.Net
		}
	}
	out := make([]Netting, 0, len(by))
	for _, n := range by {
		if n.Gross > 0 {
			n.Efficiency = 1 - float64(n.Volume)/float64(n.Gross)
		}
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b Netting) int { return strings.Compare(a.Currency, b.Currency) })
	return out
}

// cycles lists each currency's circuits on the graph domain's CSR graph.
// rels is sorted by (from, to, currency).
func cycles(ctx context.Context, rels []Relationship, p Params) ([]Cycle, error) {
	if p.MaxCycle < 2 {
		return nil, nil
	}
	byCur := map[string][]Relationship{}
	for _, r := range rels {
		if r.From != r.To {
			byCur[r.Currency] = append(byCur[r.Currency], r)
		}
	}
	var out []Cycle
	steps := p.MaxSteps
	for _, cur := range slices.Sorted(maps.Keys(byCur)) {
		rs := byCur[cur]
		// Entities interned in bytewise order, so the smallest node of a
		// circuit is its smallest entity and the walk's rotation is the
		// canonical one.
		names := make([]string, 0, 2*len(rs))
		for _, r := range rs {
			names = append(names, r.From, r.To)
		}
		slices.Sort(names)
		names = slices.Compact(names)
		id := make(map[string]int32, len(names))
		for i, n := range names {
			id[n] = int32(i)
		}
		src, dst := make([]int32, len(rs)), make([]int32, len(rs))
		for i, r := range rs {
			src[i], dst[i] = id[r.From], id[r.To]
		}
		g, err := csr.Build(len(names), src, dst, nil, true)
		if err != nil {
			return nil, err // ids are dense by construction
		}
		// Arc amounts aligned with g.Idx: rs is sorted by (from, to), as
		// the CSR rows are, and each (from, to) occurs once.
		amt := make([]int64, len(rs))
		for i, r := range rs {
			amt[i] = r.Amount
		}
		start := len(out)
		if p.MaxSteps > 0 {
			steps = max(steps, 1) // the budget is shared by the currencies
		}
		used, err := circuits.Bounded(ctx, g, p.MaxCycle, steps, func(path []int32) error {
			if p.MaxCycles > 0 && len(out) >= p.MaxCycles {
				return ErrTooManyCycles
			}
			c := Cycle{Currency: cur, Entities: make([]string, len(path)), Bottleneck: -1}
			for i, u := range path {
				c.Entities[i] = names[u]
				v := path[(i+1)%len(path)]
				pos, _ := slices.BinarySearch(g.Idx[g.Ptr[u]:g.Ptr[u+1]], v)
				if a := amt[int(g.Ptr[u])+pos]; c.Bottleneck < 0 || a < c.Bottleneck {
					c.Bottleneck = a
				}
			}
			out = append(out, c)
			return nil
		})
		if err != nil {
			return nil, err
		}
		steps -= used
		slices.SortFunc(out[start:], func(a, b Cycle) int {
			return cmp.Or(cmp.Compare(len(a.Entities), len(b.Entities)), slices.Compare(a.Entities, b.Entities))
		})
	}
	return out, nil
}
