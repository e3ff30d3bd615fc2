package txfold

import (
	"context"
	"errors"
	"testing"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// TestSplitAndChecks: Split gives the parameters alone, then one
// transaction per message in ts order (stable on ties) with no
// parameters; CheckData names the first parameter set in a data message;
// Configure refuses transactions and runs prepare.
func TestSplitAndChecks(t *testing.T) {
	txs := []*financev1.Transaction{{Id: "c", Ts: 5}, {Id: "a", Ts: 1}, {Id: "b", Ts: 5}}
	in := &compliancev1.ReciprocityFlowInput{MinAmount: 3, Transactions: txs}
	cfg, data := Split(in)
	if len(cfg.Transactions) != 0 || cfg.MinAmount != 3 || len(in.Transactions) != 3 {
		t.Fatalf("cfg %v, input %v", cfg, in)
	}
	for i, want := range []string{"a", "c", "b"} {
		d := data[i]
		if len(d.Transactions) != 1 || d.Transactions[0].Id != want || CheckData(d) != nil {
			t.Fatalf("data[%d] = %v, want transaction %s alone", i, d, want)
		}
	}
	var fe *kerr.FieldError
	if err := CheckData(&compliancev1.ReciprocityFlowInput{MinAmount: 1, Window: &financev1.TimeWindow{}}); !errors.As(err, &fe) || fe.Field != "window" {
		t.Fatalf("CheckData = %v, want a field error on window (declared first)", err)
	}
	prepared := 0
	conf := Configure(func(context.Context, *compliancev1.ReciprocityFlowInput) (int, error) { prepared++; return 7, nil },
		func(j int) *int { return &j })
	if _, err := conf(context.Background(), in); !errors.As(err, &fe) || fe.Field != "transactions" || prepared != 0 {
		t.Fatalf("Configure with transactions: %v (prepared %d)", err, prepared)
	}
	if s, err := conf(context.Background(), cfg); err != nil || *s != 7 || prepared != 1 {
		t.Fatalf("Configure: %v, %v", s, err)
	}
}
