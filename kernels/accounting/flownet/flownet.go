// Package flownet is the flow-network generator shared by the accounting
// kernels (network-generation, its Ring twin, suspense-detection and
// gaap-violation's round-trip rule): it solves each journal entry's debit
// lines against its credit lines as an exact integer flow matrix
// (domains.md §9, accounting/network-generation). Every step allocates whole
// lines or runs the north-west-corner rule, so flows sum back exactly to
// every line, with no rounding at all.
package flownet

import (
	"cmp"
	"slices"
)

// Line is one journal line: exactly one of Debit and Credit is > 0.
type Line struct {
	No       int32
	Account  string
	Entity   string
	Currency string
	Debit    int64
	Credit   int64
	// Suspense marks a line added to balance a currency.
	Suspense bool
}

// Entry is one journal entry.
type Entry struct {
	ID          string
	PostingDate string
	Lines       []Line // any order; line numbers unique
}

// Flow moves Amount from the credited account to the debited account.
type Flow struct {
	ID                    uint64
	EntryID               string
	From, To              string
	FromEntity, ToEntity  string
	Amount                int64
	Currency, PostingDate string
	Method                string
	CreditLine, DebitLine int32
}

// Result is one entry's outcome.
type Result struct {
	EntryID  string
	Methods  []string
	Suspense []Line
}

// Options are the generator's parameters.
type Options struct {
	SuspenseAccount string
	MaxSubsetLines  int
}

// Generator numbers flows sequentially across the entries it solves.
type Generator struct {
	opt  Options
	next uint64
}

// New returns a generator whose first flow id is 1.
func New(opt Options) *Generator { return &Generator{opt: opt, next: 1} }

// NewAt returns a generator whose first flow id is next: a ring resumes
// its numbering from its saved state.
func NewAt(opt Options, next uint64) *Generator { return &Generator{opt: opt, next: next} }

// Next is the id the next flow will get.
func (g *Generator) Next() uint64 { return g.next }

// open is a line still to be allocated.
type open struct {
	line *Line
	left int64
}

// solver collects one entry's flows and methods.
type solver struct {
	g       *Generator
	e       *Entry
	cur     string
	flows   []Flow
	methods []string
}

func (s *solver) use(m string) {
	if !slices.Contains(s.methods, m) {
		s.methods = append(s.methods, m)
	}
}

func (s *solver) flow(c, d *open, amount int64, method string) {
	s.use(method)
	s.flows = append(s.flows, Flow{
		ID: s.g.next, EntryID: s.e.ID, From: c.line.Account, To: d.line.Account,
		FromEntity: c.line.Entity, ToEntity: d.line.Entity, Amount: amount, Currency: s.cur,
		PostingDate: s.e.PostingDate, Method: method, CreditLine: c.line.No, DebitLine: d.line.No,
	})
	s.g.next++
	c.left -= amount
	d.left -= amount
}

// Solve allocates one entry and returns its flows (in creation order) and
// result. Each currency is solved separately, in bytewise order; an
// unbalanced currency first gets a suspense line.
func (g *Generator) Solve(e Entry) ([]Flow, Result) {
	lines := slices.Clone(e.Lines)
	slices.SortFunc(lines, func(a, b Line) int { return cmp.Compare(a.No, b.No) })
	var maxNo int32
	byCur := map[string][]Line{}
	var curs []string
	for _, l := range lines {
		maxNo = max(maxNo, l.No)
		if _, ok := byCur[l.Currency]; !ok {
			curs = append(curs, l.Currency)
		}
		byCur[l.Currency] = append(byCur[l.Currency], l)
	}
	slices.Sort(curs)
	s := &solver{g: g, e: &e}
	res := Result{EntryID: e.ID}
	for _, cur := range curs {
		ls := byCur[cur]
		var diff int64
		for _, l := range ls {
			diff += l.Debit - l.Credit
		}
		if diff != 0 {
			maxNo++
			sl := Line{No: maxNo, Account: g.opt.SuspenseAccount, Entity: ls[0].Entity, Currency: cur, Suspense: true}
			if diff > 0 {
				sl.Credit = diff
			} else {
				sl.Debit = -diff
			}
			ls = append(ls, sl)
			res.Suspense = append(res.Suspense, sl)
		}
		var deb, cred []*open
		for i := range ls {
			if ls[i].Debit > 0 {
				deb = append(deb, &open{line: &ls[i], left: ls[i].Debit})
			} else if ls[i].Credit > 0 {
				cred = append(cred, &open{line: &ls[i], left: ls[i].Credit})
			}
		}
		s.cur = cur
		s.solve(deb, cred, true)
	}
	res.Methods = s.methods
	return s.flows, res
}

// solve runs steps A, E (when allowed), B, C and D on balanced lines.
func (s *solver) solve(deb, cred []*open, entitySplit bool) {
	if len(deb) == 1 && len(cred) == 1 {
		s.flow(cred[0], deb[0], deb[0].left, "A")
		return
	}
	if entitySplit && s.entityBalanced(deb, cred) {
		s.use("E")
		ents := map[string]bool{}
		for _, o := range append(slices.Clone(deb), cred...) {
			ents[o.line.Entity] = true
		}
		keys := make([]string, 0, len(ents))
		for k := range ents {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, ent := range keys {
			of := func(xs []*open) []*open {
				var out []*open
				for _, o := range xs {
					if o.line.Entity == ent {
						out = append(out, o)
					}
				}
				return out
			}
			s.solve(of(deb), of(cred), false)
		}
		return
	}
	// (B) equal-amount pairs.
	// Credits waiting per amount, in line order: each debit takes the
	// first, in O(n+m) rather than scanning every credit.
	byAmount := map[int64][]*open{}
	for _, c := range cred {
		byAmount[c.left] = append(byAmount[c.left], c)
	}
	for _, d := range deb {
		a := d.left
		if q := byAmount[a]; len(q) > 0 {
			byAmount[a] = q[1:]
			s.flow(q[0], d, a, "B")
		}
	}
	// (C) subset sums, debits against credits, then credits against debits.
	for _, d := range deb {
		if d.left > 0 {
			if sub := s.subset(d.left, cred); sub != nil {
				for _, c := range sub {
					s.flow(c, d, c.left, "C")
				}
			}
		}
	}
	for _, c := range cred {
		if c.left > 0 {
			if sub := s.subset(c.left, deb); sub != nil {
				for _, d := range sub {
					s.flow(c, d, d.left, "C")
				}
			}
		}
	}
	// (D) north-west corner over what is left.
	i, j := 0, 0
	for {
		for i < len(deb) && deb[i].left == 0 {
			i++
		}
		for j < len(cred) && cred[j].left == 0 {
			j++
		}
		if i == len(deb) || j == len(cred) {
			return
		}
		s.flow(cred[j], deb[i], min(deb[i].left, cred[j].left), "D")
	}
}

// entityBalanced reports whether the lines span several entities and each
// entity's lines balance.
func (s *solver) entityBalanced(deb, cred []*open) bool {
	bal := map[string]int64{}
	for _, d := range deb {
		bal[d.line.Entity] += d.left
	}
	for _, c := range cred {
		bal[c.line.Entity] -= c.left
	}
	if len(bal) < 2 {
		return false
	}
	for _, v := range bal {
		if v != 0 {
			return false
		}
	}
	return true
}

// subset returns the smallest subset (2 to 4 lines) of the first
// MaxSubsetLines open lines of side whose amounts sum to target, the first
// in lexicographic position order, or nil.
func (s *solver) subset(target int64, side []*open) []*open {
	var cand []*open
	for _, o := range side {
		if o.left > 0 && len(cand) < s.g.opt.MaxSubsetLines {
			cand = append(cand, o)
		}
	}
	n := len(cand)
	idx := make([]int, 0, 4)
	var found []*open
	var rec func(start, k int, sum int64) bool
	rec = func(start, k int, sum int64) bool {
		if len(idx) == k {
			if sum == target {
				found = make([]*open, k)
				for t, p := range idx {
					found[t] = cand[p]
				}
				return true
			}
			return false
		}
		for p := start; p <= n-(k-len(idx)); p++ {
			idx = append(idx, p)
			if rec(p+1, k, sum+cand[p].left) {
				return true
			}
			idx = idx[:len(idx)-1]
		}
		return false
	}
	for k := 2; k <= 4 && k <= n; k++ {
		if rec(0, k, 0) {
			return found
		}
	}
	return nil
}

// Edge aggregates flows by (From, To, Currency).
type Edge struct {
	From, To, Currency string
	Amount             int64
	Flows              int
}

// Network aggregates flows into sorted nodes and edges.
func Network(flows []Flow) (nodes []string, edges []Edge) {
	type key struct{ f, t, c string }
	agg := map[key]*Edge{}
	seen := map[string]bool{}
	for _, f := range flows {
		k := key{f.From, f.To, f.Currency}
		e := agg[k]
		if e == nil {
			e = &Edge{From: f.From, To: f.To, Currency: f.Currency}
			agg[k] = e
		}
		e.Amount += f.Amount
		e.Flows++
		for _, a := range []string{f.From, f.To} {
			if !seen[a] {
				seen[a] = true
				nodes = append(nodes, a)
			}
		}
	}
	slices.Sort(nodes)
	for _, e := range agg {
		edges = append(edges, *e)
	}
	slices.SortFunc(edges, func(a, b Edge) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), cmp.Compare(a.Currency, b.Currency))
	})
	return nodes, edges
}
