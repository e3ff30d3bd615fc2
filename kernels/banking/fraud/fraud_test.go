package fraud

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	bankingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/banking/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/server/jsoninput"
)

func inputs(t *testing.T) map[string]*bankingv1.FraudPatternMatchInput {
	t.Helper()
	f := fixture.KernelFile(t, fixture.DomainFiles(t, "banking"), Def.ID)
	out := map[string]*bankingv1.FraudPatternMatchInput{}
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		in := &bankingv1.FraudPatternMatchInput{}
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatal(err)
		}
		out[c.Name] = in
	}
	return out
}

func runIn(t *testing.T, in *bankingv1.FraudPatternMatchInput) *bankingv1.FraudPatternMatchOutput {
	t.Helper()
	j, err := prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReplayLaw: each transaction is scored against what precedes it, so
// the Batch result of every prefix agrees with the full result on that
// prefix (what a ring replay in ts order reports message by message).
func TestReplayLaw(t *testing.T) {
	for name, in := range inputs(t) {
		full := runIn(t, in)
		j, err := prepare(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < len(j.txs); k += 9 {
			pre := proto.Clone(in).(*bankingv1.FraudPatternMatchInput)
			pre.Transactions = j.txs[:k+1]
			got := runIn(t, pre)
			for i := range got.Results {
				if !proto.Equal(got.Results[i], full.Results[i]) {
					t.Fatalf("%s: prefix %d disagrees at transaction %d", name, k+1, i)
				}
			}
		}
	}
}

// TestNonMatchingPatternChangesNothing: adding a pattern that matches no
// transaction leaves every score unchanged (upstream's average over the
// configured patterns broke this).
func TestNonMatchingPatternChangesNothing(t *testing.T) {
	for name, in := range inputs(t) {
		base := runIn(t, in)
		more := proto.Clone(in).(*bankingv1.FraudPatternMatchInput)
		tiny := 1e-300
		more.Patterns = append(more.Patterns, &bankingv1.FraudPattern{Id: "zz-never", Type: "RAPID_SPLIT", Weight: 100, AmountThreshold: &tiny})
		got := runIn(t, more)
		for i := range base.Results {
			if got.Results[i].Score != base.Results[i].Score || got.Results[i].Level != base.Results[i].Level {
				t.Fatalf("%s: tx %d score %v -> %v", name, i, base.Results[i].Score, got.Results[i].Score)
			}
		}
	}
}
