package accounting

import (
	"context"
	"errors"
	"testing"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
)

// coa-mapping's mappings feed journal-transform directly: a 1/3 split of
// 100 posts 34/33/33 (Hamilton, ties to the lower index) and the trial
// balance still balances.
func TestCoaFeedsJournal(t *testing.T) {
	ctx := context.Background()
	cj, err := CoaMapping.Prepare(ctx, &accountingv1.CoaMappingInput{
		Accounts: []*accountingv1.Account{{Code: "6000", Type: "EXPENSE"}, {Code: "1000", Type: "ASSET"}},
		Rules: []*accountingv1.MappingRule{{Id: "r", Pattern: "6*", Transformation: "SPLIT", Splits: []*accountingv1.TargetShare{
			{Code: "A", Ratio: 1.0 / 3}, {Code: "B", Ratio: 1.0 / 3}, {Code: "C", Ratio: 1.0 / 3}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	coa, err := CoaMapping.CPU(ctx, cj)
	if err != nil {
		t.Fatal(err)
	}
	in := &accountingv1.JournalTransformInput{Mapping: make([]*accountingv1.AccountMapping, len(coa.Mappings)),
		Entries: []*accountingv1.JournalEntry{{Id: "e", PostingDate: "2025-06-30", Lines: []*accountingv1.JournalLine{
			{LineNo: 1, Account: "6000", DebitMinor: 100, Currency: "EUR"},
			{LineNo: 2, Account: "1000", CreditMinor: 100, Currency: "EUR"}}}}}
	for i, m := range coa.Mappings {
		in.Mapping[i] = &accountingv1.AccountMapping{Account: m.Account, Targets: m.Targets}
	}
	jj, err := JournalTransform.Prepare(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := JournalTransform.CPU(ctx, jj)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	var d, c int64
	for _, l := range out.Entries[0].Lines {
		got = append(got, l.DebitMinor+l.CreditMinor)
	}
	for _, r := range out.TrialBalance {
		d += r.Debit
		c += r.Credit
	}
	if len(got) != 4 || got[0] != 34 || got[1] != 33 || got[2] != 33 || got[3] != 100 || d != c || d != 100 {
		t.Fatalf("lines %v, trial balance %d/%d", got, d, c)
	}
}

// A cancelled context stops the long loops.
func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	entries := []*accountingv1.JournalEntry{{Id: "e", PostingDate: "2025-01-01", Lines: []*accountingv1.JournalLine{
		{LineNo: 1, Account: "a", DebitMinor: 1, Currency: "EUR"}, {LineNo: 2, Account: "b", CreditMinor: 1, Currency: "EUR"}}}}
	nj, err := NetworkGeneration.Prepare(context.Background(), &accountingv1.NetworkGenerationInput{Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NetworkGeneration.CPU(ctx, nj); !errors.Is(err, context.Canceled) {
		t.Errorf("network-generation: %v, want context.Canceled", err)
	}
	tj, err := JournalTransform.Prepare(context.Background(), &accountingv1.JournalTransformInput{Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := JournalTransform.CPU(ctx, tj); !errors.Is(err, context.Canceled) {
		t.Errorf("journal-transform: %v, want context.Canceled", err)
	}
}
