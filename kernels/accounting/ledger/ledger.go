// Package ledger holds what the accounting kernels share: structural
// validation of journal entries (400s naming the field), the account-master
// lookup and largest-remainder (Hamilton) splitting of minor-unit amounts.
// Findings such as unbalanced entries or unknown accounts are not errors
// here: each kernel reports them in its output (domains.md §1.7).
package ledger

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// AccountTypes are the valid Account.type values ("" = unspecified).
var AccountTypes = map[string]bool{"": true, "ASSET": true, "LIABILITY": true, "EQUITY": true, "REVENUE": true, "EXPENSE": true}

// Date checks a YYYY-MM-DD calendar date and returns it.
func Date(field, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, kerr.Invalid(field, "must be a calendar date YYYY-MM-DD, got %q", s)
	}
	return t, nil
}

// CheckEntries rejects structurally malformed entries: duplicate entry ids,
// a bad posting date, duplicate line numbers within an entry. It does not
// judge amounts or accounts.
func CheckEntries(entries []*accountingv1.JournalEntry) error {
	ids := make(map[string]bool, len(entries))
	for i, e := range entries {
		if ids[e.GetId()] {
			return kerr.Invalid(fmt.Sprintf("entries[%d].id", i), "duplicate entry id %q", e.GetId())
		}
		ids[e.GetId()] = true
		if _, err := Date(fmt.Sprintf("entries[%d].posting_date", i), e.GetPostingDate()); err != nil {
			return err
		}
		nos := make(map[int32]bool, len(e.GetLines()))
		for j, l := range e.GetLines() {
			if nos[l.GetLineNo()] {
				return kerr.Invalid(fmt.Sprintf("entries[%d].lines[%d].line_no", i, j), "duplicate line_no %d in entry %q", l.GetLineNo(), e.GetId())
			}
			nos[l.GetLineNo()] = true
		}
	}
	return nil
}

// SortedLines returns the entry's lines in line_no order (a copy of the
// slice; line numbers are unique after CheckEntries).
func SortedLines(e *accountingv1.JournalEntry) []*accountingv1.JournalLine {
	lines := slices.Clone(e.GetLines())
	slices.SortFunc(lines, func(a, b *accountingv1.JournalLine) int { return int(a.GetLineNo()) - int(b.GetLineNo()) })
	return lines
}

// Master is the account-master lookup by code.
type Master struct {
	byCode map[string]*accountingv1.Account
}

// NewMaster indexes the accounts, rejecting duplicate codes and unknown
// types with a 400 naming accounts[i].
func NewMaster(accounts []*accountingv1.Account) (Master, error) {
	return NewMasterAt("accounts", accounts)
}

// NewMasterAt is NewMaster for a list held in the input field named field.
func NewMasterAt(field string, accounts []*accountingv1.Account) (Master, error) {
	m := Master{byCode: make(map[string]*accountingv1.Account, len(accounts))}
	for i, a := range accounts {
		if _, dup := m.byCode[a.GetCode()]; dup {
			return Master{}, kerr.Invalid(fmt.Sprintf("%s[%d].code", field, i), "duplicate account code %q", a.GetCode())
		}
		if !AccountTypes[a.GetType()] {
			return Master{}, kerr.Invalid(fmt.Sprintf("%s[%d].type", field, i), "must be ASSET, LIABILITY, EQUITY, REVENUE or EXPENSE, got %q", a.GetType())
		}
		m.byCode[a.GetCode()] = a
	}
	return m, nil
}

// Len is the number of accounts.
func (m Master) Len() int { return len(m.byCode) }

// Get returns the account with the code.
func (m Master) Get(code string) (*accountingv1.Account, bool) {
	a, ok := m.byCode[code]
	return a, ok
}

// Active reports whether the account is active (default true).
func Active(a *accountingv1.Account) bool { return a.Active == nil || a.GetActive() }

// RatioTolerance is how far split ratios may sum from 1.
const RatioTolerance = 1e-9

// CheckShares validates one mapping's targets: at least one, each ratio
// finite and in (0, 1], summing to 1 ± RatioTolerance.
func CheckShares(field string, targets []*accountingv1.TargetShare) error {
	if len(targets) == 0 {
		return kerr.Invalid(field, "needs at least one target")
	}
	sum := 0.0
	for k, t := range targets {
		r := t.GetRatio()
		if math.IsNaN(r) || r <= 0 || r > 1 {
			return kerr.Invalid(fmt.Sprintf("%s[%d].ratio", field, k), "must be in (0, 1], got %v", r)
		}
		sum += r
	}
	if math.Abs(sum-1) > RatioTolerance {
		return kerr.Invalid(field, "ratios sum to %v, want 1 ± %g", sum, RatioTolerance)
	}
	return nil
}

// Split divides amount ≥ 0 over ratios by largest-remainder (Hamilton)
// rounding (domains.md §1.4): quota_i = amount·r_i/Σr computed exactly from
// the float64 ratios; every target gets ⌊quota_i⌋ and the units left go one
// each to the largest fractional parts, ties to the lower index. The parts
// sum exactly to amount.
func Split(amount int64, ratios []float64) []int64 {
	parts := make([]int64, len(ratios))
	if len(ratios) == 1 {
		parts[0] = amount
		return parts
	}
	sum := new(big.Rat)
	rs := make([]*big.Rat, len(ratios))
	for i, r := range ratios {
		rs[i] = new(big.Rat).SetFloat64(r)
		sum.Add(sum, rs[i])
	}
	a := new(big.Rat).SetInt64(amount)
	fracs := make([]*big.Rat, len(ratios))
	left := amount
	for i, r := range rs {
		q := new(big.Rat).Mul(a, r)
		q.Quo(q, sum)
		fl := new(big.Int).Quo(q.Num(), q.Denom()) // quota ≥ 0: truncation is the floor
		parts[i] = fl.Int64()
		left -= parts[i]
		fracs[i] = q.Sub(q, new(big.Rat).SetInt(fl))
	}
	order := make([]int, len(ratios))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return fracs[y].Cmp(fracs[x]) })
	for k := 0; left > 0; k++ {
		parts[order[k]]++
		left--
	}
	return parts
}
