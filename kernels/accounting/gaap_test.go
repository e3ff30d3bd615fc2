package accounting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/accounting/gaap"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// checkGaapLaws re-checks every violation from the entries it cites, and
// the ids, counts, amount at risk and score from the violations.
func checkGaapLaws(t *testing.T, c fixture.Case, out map[string]any) {
	t.Helper()
	in := &accountingv1.GaapViolationInput{}
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	entries := map[string]*accountingv1.JournalEntry{}
	for _, e := range in.GetEntries() {
		entries[e.GetId()] = e
	}
	types := map[string]string{}
	for _, a := range in.GetAccounts() {
		types[a.GetCode()] = a.GetType()
	}
	window := int64(30)
	if in.WindowDays != nil {
		window = int64(in.GetWindowDays())
	}
	counts := map[string]int64{}
	var risk, major int64
	for i, x := range out["violations"].([]any) {
		v := x.(map[string]any)
		rule, cur, amt := v["rule"].(string), v["currency"].(string), num(v["amount"])
		if v["id"] != fmt.Sprintf("V%05d", i+1) || amt < 0 {
			t.Fatalf("violation %d: id %v, amount %d", i, v["id"], amt)
		}
		counts[rule]++
		risk += amt
		if s := v["severity"]; s == "MAJOR" || s == "CRITICAL" {
			major++
		}
		var cited []*accountingv1.JournalEntry
		for _, id := range v["entry_ids"].([]any) {
			e, ok := entries[id.(string)]
			if !ok {
				t.Fatalf("%v cites unknown entry %v", v["id"], id)
			}
			cited = append(cited, e)
		}
		accs := []string{}
		for _, a := range v["accounts"].([]any) {
			accs = append(accs, a.(string))
		}
		// sums of the cited entries' lines in the currency, by account, by side
		deb, cred := map[string]int64{}, map[string]int64{}
		var diff int64
		for _, e := range cited {
			for _, l := range e.GetLines() {
				if l.GetCurrency() == cur {
					deb[l.GetAccount()] += l.GetDebitMinor()
					cred[l.GetAccount()] += l.GetCreditMinor()
					diff += l.GetDebitMinor() - l.GetCreditMinor()
				}
			}
		}
		var ok bool
		switch rule {
		case gaap.UnbalancedEntry:
			ok = len(cited) == 1 && amt != 0 && (diff == amt || diff == -amt)
		case gaap.OffsetIncomeExpense:
			var r, x int64
			for _, a := range accs {
				if types[a] == "REVENUE" {
					r += cred[a]
				}
				if types[a] == "EXPENSE" {
					x += deb[a]
				}
			}
			ok = r > 0 && x > 0 && amt == min(r, x)
		case gaap.AssetExpensed:
			ok = amt > registry.Or(in.CapitalizationThresholdMinor, 500_000)
		case gaap.SuspenseLarge, gaap.InactiveOrUnknown:
			ok = false
			for _, l := range cited[0].GetLines() {
				if int64(l.GetLineNo()) == num(v["line_no"]) {
					ok = l.GetAccount() == accs[0] && l.GetDebitMinor()+l.GetCreditMinor() == amt
				}
			}
		case gaap.SuspenseNotCleared:
			var bal int64
			for _, e := range cited {
				if e.GetPostingDate() > v["date"].(string) {
					t.Fatalf("%v cites %s dated after %v", v["id"], e.GetId(), v["date"])
				}
				for _, l := range e.GetLines() {
					if l.GetAccount() == accs[0] && l.GetCurrency() == cur {
						bal += l.GetDebitMinor() - l.GetCreditMinor()
					}
				}
			}
			ok = bal != 0 && (bal == amt || bal == -amt)
		case gaap.RevenueRoundTrip:
			a, b := accs[0], accs[1]
			ok = len(accs) == 2 && (types[a] == "REVENUE" || types[b] == "REVENUE") &&
				cred[a] > 0 && deb[b] > 0 && cred[b] > 0 && deb[a] > 0
			d0, _ := time.Parse(time.DateOnly, cited[0].GetPostingDate())
			d1, _ := time.Parse(time.DateOnly, cited[len(cited)-1].GetPostingDate())
			if gap := d1.Sub(d0).Hours() / 24; gap > float64(window) || -gap > float64(window) {
				ok = false
			}
		default:
			ok = false
		}
		if !ok {
			t.Fatalf("%v (%s) does not re-check from its entries: %v", v["id"], rule, v)
		}
	}
	for _, x := range out["counts"].([]any) {
		cnt := x.(map[string]any)
		if num(cnt["count"]) != counts[cnt["rule"].(string)] {
			t.Fatalf("count %v, violations give %d", cnt, counts[cnt["rule"].(string)])
		}
	}
	n := int64(len(out["violations"].([]any)))
	if num(out["amount_at_risk"]) != risk || num(out["compliance_score"]) != max(0, 100-2*n-10*major) {
		t.Fatalf("amount at risk %v / score %v, violations give %d / %d", out["amount_at_risk"], out["compliance_score"], risk, max(0, 100-2*n-10*major))
	}
}

// Every line on an unknown account is a finding, an unbalanced entry one
// finding per currency, and neither is an error.
func TestGaapFindingsNotErrors(t *testing.T) {
	in := &accountingv1.GaapViolationInput{Entries: []*accountingv1.JournalEntry{{Id: "e", PostingDate: "2025-01-01",
		Lines: []*accountingv1.JournalLine{{LineNo: 1, Account: "x", DebitMinor: 5, Currency: "EUR"},
			{LineNo: 2, Account: "y", CreditMinor: 3, Currency: "EUR"}, {LineNo: 3, Account: "y", CreditMinor: 3, Currency: "USD"}}}}}
	job, err := GaapViolation.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := GaapViolation.CPU(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, v := range out.Violations {
		rules = append(rules, v.Rule+"/"+v.Currency)
	}
	want := []string{"INACTIVE_OR_UNKNOWN_ACCOUNT/EUR", "INACTIVE_OR_UNKNOWN_ACCOUNT/EUR", "INACTIVE_OR_UNKNOWN_ACCOUNT/USD",
		"UNBALANCED_ENTRY/EUR", "UNBALANCED_ENTRY/USD"}
	if !slices.Equal(rules, want) || out.ComplianceScore != 100-2*5-10*2 || out.AmountAtRisk != 5+3+3+2+3 {
		t.Fatalf("rules %v, score %d, at risk %d", rules, out.ComplianceScore, out.AmountAtRisk)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := GaapViolation.CPU(ctx, job); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
}

// Round-trip pairs are output items: more than the server's cap is a 400
// naming entries, not an unbounded list.
func TestGaapRoundTripCap(t *testing.T) {
	line := func(no int32, acc string, d, c int64) *accountingv1.JournalLine {
		return &accountingv1.JournalLine{LineNo: no, Account: acc, DebitMinor: d, CreditMinor: c, Currency: "EUR"}
	}
	var entries []*accountingv1.JournalEntry
	for i := range 4 { // two a→b and two b→a flows: 4 pairs
		a, b := "4000", "1100"
		if i%2 == 1 {
			a, b = b, a
		}
		entries = append(entries, &accountingv1.JournalEntry{Id: fmt.Sprint("e", i), PostingDate: "2025-01-01",
			Lines: []*accountingv1.JournalLine{line(1, b, 200_000, 0), line(2, a, 0, 200_000)}})
	}
	in := &accountingv1.GaapViolationInput{Entries: entries, Accounts: []*accountingv1.Account{
		{Code: "4000", Type: "REVENUE"}, {Code: "1100", Type: "ASSET"}}}
	for _, tc := range []struct {
		cap   int
		pairs int
	}{{4, 4}, {3, -1}} {
		ctx := limits.With(context.Background(), limits.Limits{MaxOutputItems: tc.cap})
		job, err := GaapViolation.Prepare(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := GaapViolation.CPU(ctx, job)
		if tc.pairs < 0 {
			if fe, ok := kerr.AsField(err); !ok || fe.Field != "entries" {
				t.Fatalf("cap %d: %v, want a 400 naming entries", tc.cap, err)
			}
			continue
		}
		if err != nil || out.Counts[3].Rule != gaap.RevenueRoundTrip || int(out.Counts[3].Count) != tc.pairs {
			t.Fatalf("cap %d: %v %v, want %d round trips", tc.cap, err, out.GetCounts(), tc.pairs)
		}
	}
}

// A suspense balance left open from year 1 to year 9999 yields one
// violation per month end (119 988 of them), each citing the entries so
// far: the cited ids are output items, capped.
func TestGaapSuspenseMonthEndsCapped(t *testing.T) {
	line := func(no int32, acc string, d, c int64) *accountingv1.JournalLine {
		return &accountingv1.JournalLine{LineNo: no, Account: acc, DebitMinor: d, CreditMinor: c, Currency: "EUR"}
	}
	in := &accountingv1.GaapViolationInput{Entries: []*accountingv1.JournalEntry{
		{Id: "a", PostingDate: "0001-01-01", Lines: []*accountingv1.JournalLine{line(1, "S", 1_000_000_000_000, 0), line(2, "C", 0, 1_000_000_000_000)}},
		{Id: "b", PostingDate: "9999-12-31", Lines: []*accountingv1.JournalLine{line(1, "S", 1, 0), line(2, "C", 0, 1)}}},
		Accounts: []*accountingv1.Account{{Code: "S", Attributes: map[string]string{"suspense": "true"}}, {Code: "C"}}}
	for _, tc := range []struct{ cap, want int }{{1_000_000, 9999 * 12}, {100_000, -1}} {
		ctx := limits.With(context.Background(), limits.Limits{MaxOutputItems: tc.cap})
		job, err := GaapViolation.Prepare(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := GaapViolation.CPU(ctx, job)
		if tc.want < 0 {
			if fe, ok := kerr.AsField(err); !ok || fe.Field != "entries" {
				t.Fatalf("cap %d: %v, want a 400 naming entries", tc.cap, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for _, v := range out.Violations {
			if v.Rule == gaap.SuspenseNotCleared {
				n++
			}
		}
		if n != tc.want || out.ComplianceScore != 0 {
			t.Fatalf("%d uncleared month ends, want %d", n, tc.want)
		}
	}
}
