// Package gaap checks journal entries against a rule catalog driven by the
// account master's types and attributes (domains.md §9,
// accounting/gaap-violation). Every amount is an exact int64 in minor units.
package gaap

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/flownet"
	"github.com/gokernels/gokernels/kernels/accounting/ledger"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// Rule names.
const (
	OffsetIncomeExpense = "OFFSET_INCOME_EXPENSE"
	AssetExpensed       = "ASSET_EXPENSED"
	SuspenseLarge       = "SUSPENSE_LARGE_POSTING"
	SuspenseNotCleared  = "SUSPENSE_NOT_CLEARED"
	RevenueRoundTrip    = "REVENUE_ROUND_TRIP"
	UnbalancedEntry     = "UNBALANCED_ENTRY"
	InactiveOrUnknown   = "INACTIVE_OR_UNKNOWN_ACCOUNT"
)

// Rules lists every rule with its severity and remediation text, sorted by
// name.
var Rules = []struct{ Name, Severity, Remediation string }{
	{AssetExpensed, "MODERATE", "Capitalise the item as property, plant and equipment (IAS 16 / ASC 360) or document why it is expensed."},
	{InactiveOrUnknown, "MINOR", "Post to an active account of the chart of accounts, or add / reactivate the account."},
	{OffsetIncomeExpense, "MAJOR", "Present income and expenses gross (IAS 1.32): book them in separate entries."},
	{RevenueRoundTrip, "CRITICAL", "Review both flows for round-tripping that inflates revenue; reverse them if they lack substance."},
	{SuspenseLarge, "MINOR", "Reclassify the posting from suspense to its proper account."},
	{SuspenseNotCleared, "MODERATE", "Clear the suspense balance by the month end, reclassifying it to its proper accounts."},
	{UnbalancedEntry, "MAJOR", "Correct the entry so its debits equal its credits in every currency."},
}

// Options are the thresholds.
type Options struct {
	Capitalization, SuspenseLarge, RoundTrip int64
	WindowDays                               int64
	// MaxItems caps the output items: the round-trip flow pairs, and the
	// entry ids cited by SUSPENSE_NOT_CLEARED (one list per month end, which
	// grows with the months a balance stays open). Beyond it: a 400 naming
	// entries.
	MaxItems int
}

// account flags read from the master.
type flags struct {
	known, active, revenue, expense, fixedAsset, suspense, exempt bool
}

func flagsOf(m ledger.Master, code string) flags {
	a, ok := m.Get(code)
	if !ok {
		return flags{}
	}
	attr := a.GetAttributes()
	isTrue := func(k string) bool { return strings.EqualFold(strings.TrimSpace(attr[k]), "true") }
	f := flags{known: true, active: ledger.Active(a), revenue: a.GetType() == "REVENUE", expense: a.GetType() == "EXPENSE",
		fixedAsset: isTrue("fixed_asset"), suspense: isTrue("suspense")}
	for _, t := range strings.Split(attr["tags"], ",") {
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "depreciation", "impairment", "disposal":
			f.exempt = true
		}
	}
	return f
}

type violation struct {
	rule     string
	entries  []string
	accounts []string
	amount   int64
	currency string
	date     string
	lineNo   int32
	flowIDs  []uint64
}

// sideSum collects one side's accounts and total.
type sideSum struct {
	accounts []string
	sum      int64
}

func (s *sideSum) add(acc string, v int64) {
	if !slices.Contains(s.accounts, acc) {
		s.accounts = append(s.accounts, acc)
	}
	s.sum += v
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// Check runs every rule. entries are validated (ledger.CheckEntries and
// one-sided lines); flows are network-generation's flows over them.
func Check(ctx context.Context, entries []*accountingv1.JournalEntry, m ledger.Master, flows []flownet.Flow, opt Options) (*accountingv1.GaapViolationOutput, error) {
	var vs []violation
	type susKey struct{ account, currency string }
	type susPost struct {
		day   int64
		entry string
		net   int64
	}
	sus := map[susKey][]susPost{}
	fl := map[string]flags{}
	get := func(code string) flags {
		f, ok := fl[code]
		if !ok {
			f = flagsOf(m, code)
			fl[code] = f
		}
		return f
	}
	for i, e := range entries {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		day := epochDay(e.GetPostingDate())
		byCur := map[string][]*accountingv1.JournalLine{}
		var curs []string
		for _, l := range ledger.SortedLines(e) {
			if _, ok := byCur[l.GetCurrency()]; !ok {
				curs = append(curs, l.GetCurrency())
			}
			byCur[l.GetCurrency()] = append(byCur[l.GetCurrency()], l)
		}
		slices.Sort(curs)
		base := violation{entries: []string{e.GetId()}, date: e.GetPostingDate()}
		for _, cur := range curs {
			var rev, exp, fix, expOK sideSum
			var diff int64
			var all []string
			for _, l := range byCur[cur] {
				acc, d, c := l.GetAccount(), l.GetDebitMinor(), l.GetCreditMinor()
				f := get(acc)
				diff += d - c
				all = append(all, acc)
				if c > 0 && f.revenue {
					rev.add(acc, c)
				}
				if c > 0 && f.fixedAsset {
					fix.add(acc, c)
				}
				if d > 0 && f.expense {
					exp.add(acc, d)
					if !f.exempt {
						expOK.add(acc, d)
					}
				}
				v := base
				v.currency, v.accounts, v.lineNo, v.amount = cur, []string{acc}, l.GetLineNo(), d+c
				if f.suspense && d+c > opt.SuspenseLarge {
					v.rule = SuspenseLarge
					vs = append(vs, v)
				}
				if !f.known || !f.active {
					v.rule = InactiveOrUnknown
					vs = append(vs, v)
				}
				if f.suspense {
					k := susKey{acc, cur}
					sus[k] = append(sus[k], susPost{day, e.GetId(), d - c})
				}
			}
			v := base
			v.currency = cur
			if rev.sum > 0 && exp.sum > 0 {
				v.rule, v.accounts, v.amount = OffsetIncomeExpense, union(rev.accounts, exp.accounts), min(rev.sum, exp.sum)
				vs = append(vs, v)
			}
			if fix.sum > 0 && expOK.sum > 0 && min(fix.sum, expOK.sum) > opt.Capitalization {
				v.rule, v.accounts, v.amount = AssetExpensed, union(fix.accounts, expOK.accounts), min(fix.sum, expOK.sum)
				vs = append(vs, v)
			}
			if diff != 0 {
				v.rule, v.accounts, v.amount = UnbalancedEntry, union(all, nil), max(diff, -diff)
				vs = append(vs, v)
			}
		}
	}
	// SUSPENSE_NOT_CLEARED: month ends from the first to the last posting month.
	cited := 0
	for k, ps := range sus {
		slices.SortStableFunc(ps, func(a, b susPost) int { return cmp.Compare(a.day, b.day) })
		first, last := civil(ps[0].day), civil(ps[len(ps)-1].day)
		var bal int64
		j := 0
		seen := map[string]bool{}
		var ids []string
		for y, mo := first.Year(), first.Month(); y < last.Year() || y == last.Year() && mo <= last.Month(); {
			end := time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC)
			endDay := end.Unix() / 86400
			for ; j < len(ps) && ps[j].day <= endDay; j++ {
				bal += ps[j].net
				if !seen[ps[j].entry] {
					seen[ps[j].entry] = true
					ids = append(ids, ps[j].entry)
				}
			}
			if bal != 0 {
				if cited += len(ids); cited > opt.MaxItems {
					return nil, kerr.Invalid("entries", "uncleared suspense balances cite more than %d entry ids", opt.MaxItems)
				}
				s := slices.Clone(ids)
				slices.Sort(s)
				vs = append(vs, violation{rule: SuspenseNotCleared, entries: s, accounts: []string{k.account},
					amount: max(bal, -bal), currency: k.currency, date: end.Format(time.DateOnly)})
			}
			if mo == 12 {
				y, mo = y+1, 1
			} else {
				mo++
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	rt, err := roundTrips(ctx, flows, get, opt)
	if err != nil {
		return nil, err
	}
	vs = append(vs, rt...)
	return render(vs), nil
}

// roundTrips pairs each flow a→b (a < b bytewise) with every flow b→a in
// the same currency within the window, when a or b is REVENUE and both
// amounts reach the threshold.
func roundTrips(ctx context.Context, flows []flownet.Flow, get func(string) flags, opt Options) ([]violation, error) {
	type key struct{ a, b, cur string }
	fwd, rev := map[key][]flownet.Flow{}, map[key][]flownet.Flow{}
	var keys []key
	for _, f := range flows {
		if f.From == f.To || f.Amount < opt.RoundTrip || !get(f.From).revenue && !get(f.To).revenue {
			continue
		}
		if f.From < f.To {
			k := key{f.From, f.To, f.Currency}
			if len(fwd[k]) == 0 {
				keys = append(keys, k)
			}
			fwd[k] = append(fwd[k], f)
		} else {
			k := key{f.To, f.From, f.Currency}
			rev[k] = append(rev[k], f)
		}
	}
	var vs []violation
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, f := range fwd[k] {
			df := epochDay(f.PostingDate)
			for _, g := range rev[k] {
				dg := epochDay(g.PostingDate)
				if max(df-dg, dg-df) > opt.WindowDays {
					continue
				}
				if len(vs) >= opt.MaxItems {
					return nil, kerr.Invalid("entries", "more than %d revenue round-trip flow pairs", opt.MaxItems)
				}
				date := f.PostingDate
				if dg < df {
					date = g.PostingDate
				}
				ids := []uint64{f.ID, g.ID}
				slices.Sort(ids)
				vs = append(vs, violation{rule: RevenueRoundTrip, entries: union([]string{f.EntryID}, []string{g.EntryID}),
					accounts: []string{k.a, k.b}, amount: min(f.Amount, g.Amount), currency: k.cur, date: date, flowIDs: ids})
				if len(vs)%4096 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return vs, nil
}

func render(vs []violation) *accountingv1.GaapViolationOutput {
	slices.SortFunc(vs, func(x, y violation) int {
		return cmp.Or(cmp.Compare(x.rule, y.rule), cmp.Compare(x.entries[0], y.entries[0]),
			slices.Compare(x.accounts, y.accounts), cmp.Compare(x.amount, y.amount), cmp.Compare(x.currency, y.currency),
			cmp.Compare(x.date, y.date), slices.Compare(x.entries, y.entries), cmp.Compare(x.lineNo, y.lineNo),
			slices.Compare(x.flowIDs, y.flowIDs))
	})
	out := &accountingv1.GaapViolationOutput{}
	count := map[string]int32{}
	var risk int64
	major := 0
	for i, v := range vs {
		var sev, rem string
		for _, r := range Rules {
			if r.Name == v.rule {
				sev, rem = r.Severity, r.Remediation
			}
		}
		if sev == "MAJOR" || sev == "CRITICAL" {
			major++
		}
		count[v.rule]++
		if risk > math.MaxInt64-v.amount {
			risk = math.MaxInt64
		} else {
			risk += v.amount
		}
		out.Violations = append(out.Violations, &accountingv1.GaapViolation{Id: fmt.Sprintf("V%05d", i+1), Rule: v.rule,
			EntryIds: v.entries, Accounts: v.accounts, Amount: v.amount, Severity: sev, Remediation: rem,
			Currency: v.currency, Date: v.date, LineNo: v.lineNo, FlowIds: v.flowIDs})
	}
	for _, r := range Rules {
		out.Counts = append(out.Counts, &accountingv1.GaapRuleCount{Rule: r.Name, Count: count[r.Name]})
	}
	out.AmountAtRisk = risk
	out.ComplianceScore = int32(max(0, 100-2*len(vs)-10*major))
	return out
}

// epochDay is a validated YYYY-MM-DD date in days since 1970-01-01.
func epochDay(s string) int64 {
	t, _ := time.Parse(time.DateOnly, s)
	return t.Unix() / 86400
}

func civil(day int64) time.Time { return time.Unix(day*86400, 0).UTC() }
