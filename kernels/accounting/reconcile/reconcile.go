// Package reconcile matches ledger items (sources) against statement items
// (targets) per (account, currency) in the passes of domains.md §9
// accounting/gl-reconciliation: EXACT (reference, amount and date window),
// TOLERANCE (a min-cost maximum one-to-one matching), MANY_TO_ONE and
// ONE_TO_MANY (smallest subsets), plus a duplicate finder. Amounts are
// int64 minor units; every item is used by at most one match.
package reconcile

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Item is one open item; Day is its date as days since 1970-01-01.
type Item struct {
	ID, Account, Currency, Reference string
	Amount                           int64
	Day                              int64
}

// Params are the matching parameters (defaults applied by the caller).
type Params struct {
	AbsTol, Lambda, VarianceThreshold int64
	PctTol                            float64
	DateTol, DuplicateDays            int64
	MaxGroup                          int
	ManyToOne, OneToMany              bool
	// MaxPairs caps the feasible pass-2 pairs of one (account, currency)
	// group (0 = no cap): the pair list and its flow graph take ~100 bytes
	// a pair, and one day's worth of identical amounts is quadratic.
	MaxPairs int
	// MaxSubsets caps the subsets pass 3 examines over the whole request
	// (0 = no cap): one item with c candidates in its date window costs up
	// to Σ_k C(c, k) sums, so a busy account with max_group 5 could run
	// for hours. Beyond the cap Run returns a 400 naming max_group.
	MaxSubsets int
}

// Match types, in pass order.
const (
	Exact = iota
	Tolerance
	ManyToOne
	OneToMany
)

// TypeNames are the output names of the match types.
var TypeNames = [...]string{"EXACT", "TOLERANCE", "MANY_TO_ONE", "ONE_TO_MANY"}

// Match is one match; Sources and Targets are indexes into the inputs,
// ordered by id.
type Match struct {
	Type              int
	Sources, Targets  []int
	Variance          int64
	Account, Currency string
}

// Duplicate is a pair of items of one side (indexes, ordered by id).
type Duplicate struct {
	Source bool
	A, B   int
}

// Result is the reconciliation.
type Result struct {
	Matches                            []Match // sorted (type, first source id, first target id)
	UnmatchedSources, UnmatchedTargets []int   // sorted by id
	Duplicates                         []Duplicate
	Pass2Count                         int
	Pass2Cost                          int64
}

type groupKey struct{ account, currency string }

// Run reconciles sources against targets. Item ids must be unique per side.
func Run(ctx context.Context, src, tgt []Item, p Params) (Result, error) {
	groups := map[groupKey]*[2][]int{}
	var keys []groupKey
	for side, items := range [2][]Item{src, tgt} {
		for i, it := range items {
			k := groupKey{it.Account, it.Currency}
			g := groups[k]
			if g == nil {
				g = &[2][]int{}
				groups[k] = g
				keys = append(keys, k)
			}
			g[side] = append(g[side], i)
		}
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(strings.Compare(a.account, b.account), strings.Compare(a.currency, b.currency))
	})
	r := &run{ctx: ctx, src: src, tgt: tgt, p: p, usedS: make([]bool, len(src)), usedT: make([]bool, len(tgt))}
	var res Result
	for _, k := range keys {
		g := groups[k]
		if err := r.group(k, g[0], g[1], &res); err != nil {
			return Result{}, err
		}
	}
	slices.SortFunc(res.Matches, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), firstID(src, a.Sources, b.Sources), firstID(tgt, a.Targets, b.Targets))
	})
	for i := range src {
		if !r.usedS[i] {
			res.UnmatchedSources = append(res.UnmatchedSources, i)
		}
	}
	for i := range tgt {
		if !r.usedT[i] {
			res.UnmatchedTargets = append(res.UnmatchedTargets, i)
		}
	}
	byID := func(items []Item) func(a, b int) int {
		return func(a, b int) int { return strings.Compare(items[a].ID, items[b].ID) }
	}
	slices.SortFunc(res.UnmatchedSources, byID(src))
	slices.SortFunc(res.UnmatchedTargets, byID(tgt))
	var err error
	if res.Duplicates, err = duplicates(ctx, src, true, p.DuplicateDays); err != nil {
		return Result{}, err
	}
	dt, err := duplicates(ctx, tgt, false, p.DuplicateDays)
	res.Duplicates = append(res.Duplicates, dt...)
	return res, err
}

func firstID(items []Item, a, b []int) int {
	switch {
	case len(a) == 0 || len(b) == 0:
		return cmp.Compare(len(a), len(b))
	}
	return strings.Compare(items[a[0]].ID, items[b[0]].ID)
}

type run struct {
	ctx          context.Context
	src, tgt     []Item
	p            Params
	usedS, usedT []bool
	steps        int
	subsets      int // pass-3 subsets examined so far
}

// tick polls the context every 4096 steps of work.
func (r *run) tick() error {
	r.steps++
	if r.steps&4095 == 0 {
		return r.ctx.Err()
	}
	return nil
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// tol is the amount tolerance around amount: min(abs_tol, pct_tol·|amount|),
// compared in float64 like the reference (amounts ≤ 1e12 are exact).
func (r *run) within(delta, amount int64) bool {
	if delta > r.p.AbsTol {
		return false
	}
	return float64(delta) <= r.p.PctTol*math.Abs(float64(amount))
}

func (r *run) group(k groupKey, si, ti []int, res *Result) error {
	src, tgt := r.src, r.tgt
	add := func(typ int, ss, ts []int) {
		var v int64
		for _, s := range ss {
			r.usedS[s] = true
			v += src[s].Amount
		}
		for _, t := range ts {
			r.usedT[t] = true
			v -= tgt[t].Amount
		}
		slices.SortFunc(ss, func(a, b int) int { return strings.Compare(src[a].ID, src[b].ID) })
		slices.SortFunc(ts, func(a, b int) int { return strings.Compare(tgt[a].ID, tgt[b].ID) })
		res.Matches = append(res.Matches, Match{Type: typ, Sources: ss, Targets: ts, Variance: v, Account: k.account, Currency: k.currency})
	}

	// Pass 1: EXACT.
	type ak struct {
		amount int64
		ref    string
	}
	byAmountRef := map[ak][]int{}
	for _, t := range ti {
		if tgt[t].Reference != "" {
			key := ak{tgt[t].Amount, tgt[t].Reference}
			byAmountRef[key] = append(byAmountRef[key], t)
		}
	}
	order := slices.Clone(si)
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(src[a].Day, src[b].Day), strings.Compare(src[a].ID, src[b].ID))
	})
	for _, s := range order {
		if src[s].Reference == "" {
			continue
		}
		best := -1
		for _, t := range byAmountRef[ak{src[s].Amount, src[s].Reference}] {
			if err := r.tick(); err != nil {
				return err
			}
			d := absDiff(src[s].Day, tgt[t].Day)
			if r.usedT[t] || d > r.p.DateTol {
				continue
			}
			if best < 0 || cmp.Or(cmp.Compare(d, absDiff(src[s].Day, tgt[best].Day)), strings.Compare(tgt[t].ID, tgt[best].ID)) < 0 {
				best = t
			}
		}
		if best >= 0 {
			add(Exact, []int{s}, []int{best})
		}
	}

	// Pass 2: TOLERANCE, per connected component of the feasible pairs.
	restS, restT := r.rest(si, r.usedS), r.rest(ti, r.usedT)
	slices.SortFunc(restT, func(a, b int) int {
		return cmp.Or(cmp.Compare(tgt[a].Day, tgt[b].Day), strings.Compare(tgt[a].ID, tgt[b].ID))
	})
	var pairs []Pair // L, R index restS / restT
	for li, s := range restS {
		lo, _ := slices.BinarySearchFunc(restT, src[s].Day-r.p.DateTol, func(t int, d int64) int { return cmp.Compare(tgt[t].Day, d) })
		for ri := lo; ri < len(restT) && tgt[restT[ri]].Day <= src[s].Day+r.p.DateTol; ri++ {
			if err := r.tick(); err != nil {
				return err
			}
			t := restT[ri]
			da := absDiff(src[s].Amount, tgt[t].Amount)
			if r.within(da, src[s].Amount) {
				if r.p.MaxPairs > 0 && len(pairs) >= r.p.MaxPairs {
					return kerr.Invalid("sources", "account %q currency %q has more than %d source×target pairs within "+
						"the tolerances; narrow abs_tol_minor, pct_tol or date_tol_days, or split the request", k.account, k.currency, r.p.MaxPairs)
				}
				pairs = append(pairs, Pair{L: li, R: ri, Cost: da + r.p.Lambda*absDiff(src[s].Day, tgt[t].Day)})
			}
		}
	}
	for _, comp := range components(len(restS), len(restT), pairs) {
		match, c, err := MinCostMaxMatching(r.ctx, len(comp.left), len(comp.right), comp.pairs)
		if err != nil {
			return err
		}
		res.Pass2Cost += c
		for l, m := range match {
			if m >= 0 {
				res.Pass2Count++
				add(Tolerance, []int{restS[comp.left[l]]}, []int{restT[comp.right[m]]})
			}
		}
	}

	// Pass 3: MANY_TO_ONE, then ONE_TO_MANY.
	if r.p.ManyToOne {
		if err := r.groups(r.rest(ti, r.usedT), tgt, r.rest(si, r.usedS), src, r.usedS, func(one int, many []int) {
			add(ManyToOne, many, []int{one})
		}); err != nil {
			return err
		}
	}
	if r.p.OneToMany {
		if err := r.groups(r.rest(si, r.usedS), src, r.rest(ti, r.usedT), tgt, r.usedT, func(one int, many []int) {
			add(OneToMany, []int{one}, many)
		}); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) rest(idx []int, used []bool) []int {
	out := make([]int, 0, len(idx))
	for _, i := range idx {
		if !used[i] {
			out = append(out, i)
		}
	}
	return out
}

// groups matches each "one" item, in (amount desc, id) order, with the
// smallest subset (2..MaxGroup) of unused "many" items within its date
// window whose sum is within tolerance of its amount; ties: smallest |Δ|,
// then the lexicographically smallest id list.
func (r *run) groups(ones []int, oneItems []Item, many []int, manyItems []Item, usedMany []bool, take func(one int, subset []int)) error {
	slices.SortFunc(ones, func(a, b int) int {
		return cmp.Or(cmp.Compare(oneItems[b].Amount, oneItems[a].Amount), strings.Compare(oneItems[a].ID, oneItems[b].ID))
	})
	slices.SortFunc(many, func(a, b int) int { return strings.Compare(manyItems[a].ID, manyItems[b].ID) })
	var cand []int
	idx := make([]int, r.p.MaxGroup)
	for _, o := range ones {
		one := oneItems[o]
		cand = cand[:0]
		for _, m := range many {
			if !usedMany[m] && absDiff(manyItems[m].Day, one.Day) <= r.p.DateTol {
				cand = append(cand, m)
			}
		}
		for k := 2; k <= r.p.MaxGroup && k <= len(cand); k++ {
			best, bestD := []int(nil), int64(0)
			// Combinations of k candidate positions in lexicographic order;
			// candidates are sorted by id, so the first subset reaching the
			// smallest |Δ| has the lexicographically smallest id list.
			for i := range k {
				idx[i] = i
			}
			for {
				if err := r.tick(); err != nil {
					return err
				}
				if r.subsets++; r.p.MaxSubsets > 0 && r.subsets > r.p.MaxSubsets {
					return kerr.Invalid("max_group", "pass 3 (MANY_TO_ONE / ONE_TO_MANY) would examine more than %d "+
						"subsets; lower max_group or date_tol_days, or turn many_to_one / one_to_many off", r.p.MaxSubsets)
				}
				var sum int64
				for _, i := range idx[:k] {
					sum += manyItems[cand[i]].Amount
				}
				d := absDiff(sum, one.Amount)
				if r.within(d, one.Amount) && (best == nil || d < bestD) {
					best, bestD = slices.Clone(idx[:k]), d
				}
				i := k - 1
				for i >= 0 && idx[i] == len(cand)-k+i {
					i--
				}
				if i < 0 {
					break
				}
				idx[i]++
				for j := i + 1; j < k; j++ {
					idx[j] = idx[j-1] + 1
				}
			}
			if best != nil {
				subset := make([]int, k)
				for j, i := range best {
					subset[j] = cand[i]
				}
				take(o, subset)
				break
			}
		}
	}
	return nil
}

type component struct {
	left, right []int // positions in restS / restT
	pairs       []Pair
}

// components splits the feasible pairs into connected components, in
// order of their smallest left position, with local indexes.
func components(nL, nR int, pairs []Pair) []component {
	parent := make([]int, nL+nR)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, p := range pairs {
		a, b := find(p.L), find(nL+p.R)
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	compOf := map[int]int{}
	var comps []component
	local := make([]int, nL+nR)
	get := func(x int) *component {
		root := find(x)
		c, ok := compOf[root]
		if !ok {
			c = len(comps)
			compOf[root] = c
			comps = append(comps, component{})
		}
		return &comps[c]
	}
	seen := make([]bool, nL+nR)
	for _, p := range pairs {
		c := get(p.L)
		if !seen[p.L] {
			seen[p.L] = true
			local[p.L] = len(c.left)
			c.left = append(c.left, p.L)
		}
		if !seen[nL+p.R] {
			seen[nL+p.R] = true
			local[nL+p.R] = len(c.right)
			c.right = append(c.right, p.R)
		}
		c.pairs = append(c.pairs, Pair{L: local[p.L], R: local[nL+p.R], Cost: p.Cost})
	}
	return comps
}

// duplicates lists pairs of items with the same account, currency, amount
// and non-empty reference dated at most days apart, sorted by their ids.
func duplicates(ctx context.Context, items []Item, source bool, days int64) ([]Duplicate, error) {
	type dk struct {
		account, currency, ref string
		amount                 int64
	}
	byKey := map[dk][]int{}
	for i, it := range items {
		if it.Reference != "" {
			k := dk{it.Account, it.Currency, it.Reference, it.Amount}
			byKey[k] = append(byKey[k], i)
		}
	}
	var out []Duplicate
	n := 0
	for _, idx := range byKey {
		if len(idx) < 2 {
			continue
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(items[a].Day, items[b].Day) })
		for x, a := range idx {
			for _, b := range idx[x+1:] {
				if items[b].Day-items[a].Day > days {
					break
				}
				if n++; n&4095 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
				lo, hi := a, b
				if items[lo].ID > items[hi].ID {
					lo, hi = hi, lo
				}
				out = append(out, Duplicate{Source: source, A: lo, B: hi})
			}
		}
	}
	slices.SortFunc(out, func(x, y Duplicate) int {
		return cmp.Or(strings.Compare(items[x.A].ID, items[y.A].ID), strings.Compare(items[x.B].ID, items[y.B].ID))
	})
	return out, nil
}
