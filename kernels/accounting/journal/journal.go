// Package journal validates journal entries exactly in minor units, maps
// their lines to a target chart with Hamilton splits and posts a trial
// balance (domains.md §9, accounting/journal-transform). Only entries
// without findings are transformed and posted, so the trial balance
// always balances per currency and period.
package journal

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/ledger"
)

// Share is one mapping target.
type Share struct {
	Code  string
	Ratio float64
}

// Options are the transform's parameters; entries and mapping are already
// structurally valid (ledger.CheckEntries, ledger.CheckShares).
type Options struct {
	Master           ledger.Master // Len() == 0: no master, no UNKNOWN_ACCOUNT
	Mapping          map[string][]Share
	PreserveUnmapped bool
	FYStartMonth     int // 1..12
}

// Period is the posting period of a YYYY-MM-DD date: "YYYY-MM" for a
// calendar fiscal year, else "FY<year the fiscal year starts>-P<nn>".
func Period(date string, fyStart int) string {
	var y, m, d int
	// Dates were checked as YYYY-MM-DD when the entries were read.
	_, _ = fmt.Sscanf(date, "%d-%d-%d", &y, &m, &d)
	if fyStart == 1 {
		return fmt.Sprintf("%04d-%02d", y, m)
	}
	fy := y
	if m < fyStart {
		fy--
	}
	return fmt.Sprintf("FY%04d-P%02d", fy, (m-fyStart+12)%12+1)
}

func lineErr(entry string, no int32, code string) *accountingv1.EntryError {
	return &accountingv1.EntryError{EntryId: entry, LineNo: &no, Code: code}
}

// Validate returns an entry's findings: line codes in line order (amount,
// account, mapping), then at most one entry-level code.
func Validate(e *accountingv1.JournalEntry, opt *Options) []*accountingv1.EntryError {
	var errs []*accountingv1.EntryError
	bal := map[string]int64{}
	var total int64
	for _, l := range ledger.SortedLines(e) {
		d, c := l.GetDebitMinor(), l.GetCreditMinor()
		bal[l.GetCurrency()] += d - c
		total += d - c
		switch {
		case d < 0 || c < 0:
			errs = append(errs, lineErr(e.GetId(), l.GetLineNo(), "NEGATIVE_AMOUNT"))
		case d > 0 && c > 0:
			errs = append(errs, lineErr(e.GetId(), l.GetLineNo(), "DUAL_SIDED"))
		case d == 0 && c == 0:
			errs = append(errs, lineErr(e.GetId(), l.GetLineNo(), "ZERO_AMOUNT"))
		}
		acc := l.GetAccount()
		if acc == "" {
			errs = append(errs, lineErr(e.GetId(), l.GetLineNo(), "EMPTY_ACCOUNT"))
			continue
		}
		if _, known := opt.Master.Get(acc); opt.Master.Len() > 0 && !known {
			errs = append(errs, lineErr(e.GetId(), l.GetLineNo(), "UNKNOWN_ACCOUNT"))
		}
		if _, mapped := opt.Mapping[acc]; !opt.PreserveUnmapped && !mapped {
			errs = append(errs, lineErr(e.GetId(), l.GetLineNo(), "UNMAPPED_ACCOUNT"))
		}
	}
	unbalanced := false
	for _, v := range bal {
		unbalanced = unbalanced || v != 0
	}
	switch {
	case unbalanced && total == 0:
		errs = append(errs, &accountingv1.EntryError{EntryId: e.GetId(), Code: "CURRENCY_IMBALANCE"})
	case unbalanced:
		errs = append(errs, &accountingv1.EntryError{EntryId: e.GetId(), Code: "UNBALANCED"})
	}
	return errs
}

// Map transforms a valid entry: each mapped line is split over its targets
// by Hamilton rounding (zero parts dropped), unmapped lines are kept; lines
// are renumbered 1..n.
func Map(e *accountingv1.JournalEntry, opt *Options) *accountingv1.TransformedEntry {
	te := &accountingv1.TransformedEntry{Id: e.GetId(), PostingDate: e.GetPostingDate(),
		Period: Period(e.GetPostingDate(), opt.FYStartMonth), Status: e.GetStatus(), Source: e.GetSource()}
	add := func(l *accountingv1.JournalLine, account string, d, c int64) {
		te.Lines = append(te.Lines, &accountingv1.TransformedLine{LineNo: int32(len(te.Lines) + 1),
			SourceLineNo: l.GetLineNo(), Account: account, DebitMinor: d, CreditMinor: c, Currency: l.GetCurrency(),
			EntityId: l.GetEntityId(), CostCenter: l.GetCostCenter(), Description: l.GetDescription()})
	}
	for _, l := range ledger.SortedLines(e) {
		targets, mapped := opt.Mapping[l.GetAccount()]
		if !mapped {
			add(l, l.GetAccount(), l.GetDebitMinor(), l.GetCreditMinor())
			continue
		}
		ratios := make([]float64, len(targets))
		for k, t := range targets {
			ratios[k] = t.Ratio
		}
		debit := l.GetDebitMinor() > 0
		amount := max(l.GetDebitMinor(), l.GetCreditMinor())
		for k, part := range ledger.Split(amount, ratios) {
			switch {
			case part == 0:
			case debit:
				add(l, targets[k].Code, part, 0)
			default:
				add(l, targets[k].Code, 0, part)
			}
		}
	}
	return te
}

// Transform validates, maps and posts the entries.
func Transform(ctx context.Context, entries []*accountingv1.JournalEntry, opt Options) (*accountingv1.JournalTransformOutput, error) {
	out := &accountingv1.JournalTransformOutput{Stats: &accountingv1.TransformStats{EntriesIn: int32(len(entries))}}
	type key struct{ entity, account, currency, period string }
	tb := map[key]*accountingv1.TrialBalanceRow{}
	for i, e := range entries {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if errs := Validate(e, &opt); len(errs) > 0 {
			out.Errors = append(out.Errors, errs...)
			continue
		}
		te := Map(e, &opt)
		out.Entries = append(out.Entries, te)
		for _, l := range te.Lines {
			k := key{l.EntityId, l.Account, l.Currency, te.Period}
			row := tb[k]
			if row == nil {
				row = &accountingv1.TrialBalanceRow{Entity: k.entity, Account: k.account, Currency: k.currency, Period: k.period}
				tb[k] = row
			}
			row.Debit += l.DebitMinor
			row.Credit += l.CreditMinor
			row.Net += l.DebitMinor - l.CreditMinor
		}
	}
	for _, row := range tb {
		out.TrialBalance = append(out.TrialBalance, row)
	}
	slices.SortFunc(out.TrialBalance, func(a, b *accountingv1.TrialBalanceRow) int {
		return cmp.Or(cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.Account, b.Account),
			cmp.Compare(a.Currency, b.Currency), cmp.Compare(a.Period, b.Period))
	})
	out.Stats.EntriesOut = int32(len(out.Entries))
	out.Stats.Errors = int32(len(out.Errors))
	return out, nil
}
