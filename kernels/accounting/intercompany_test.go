package accounting

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// checkIntercompanyLaws asserts on every fixture output: Σ_e net_e = 0 per
// currency; each bottleneck is ≤ every edge of its cycle (the relationships'
// amounts) and equals the smallest; each elimination is a positive amount
// with its type's account pair (debit = credit, so it nets to zero); the
// netting volume is Σ max(net, 0) ≤ gross.
func checkIntercompanyLaws(t *testing.T, c fixture.Case, out map[string]any) {
	t.Helper()
	list := func(k string) []map[string]any {
		var r []map[string]any
		for _, x := range out[k].([]any) {
			r = append(r, x.(map[string]any))
		}
		return r
	}
	net, vol := map[string]int64{}, map[string]int64{}
	for _, b := range list("entity_balances") {
		n := num(b["net"])
		if n != num(b["receivable"])-num(b["payable"]) {
			t.Fatalf("balance %v: net ≠ receivable − payable", b)
		}
		net[b["currency"].(string)] += n
		vol[b["currency"].(string)] += max(n, 0)
	}
	for cur, s := range net {
		if s != 0 {
			t.Fatalf("Σ net in %s = %d", cur, s)
		}
	}
	edge := map[string]int64{}
	for _, r := range list("relationships") {
		edge[fmt.Sprint(r["currency"], "|", r["from_entity"], "|", r["to_entity"])] = num(r["amount"])
	}
	for _, cy := range list("cycles") {
		es := cy["entities"].([]any)
		least := int64(-1)
		for i := range es {
			a, ok := edge[fmt.Sprint(cy["currency"], "|", es[i], "|", es[(i+1)%len(es)])]
			if !ok {
				t.Fatalf("cycle %v has no edge %v → %v", es, es[i], es[(i+1)%len(es)])
			}
			if least < 0 || a < least {
				least = a
			}
		}
		if num(cy["bottleneck"]) != least {
			t.Fatalf("cycle %v: bottleneck %v, smallest edge %d", es, cy["bottleneck"], least)
		}
	}
	pairs := map[string][2]string{"TRADE": {"IC_PAYABLES", "IC_RECEIVABLES"}, "LOAN": {"IC_LOAN_PAYABLE", "IC_LOAN_RECEIVABLE"},
		"DIVIDEND": {"DIVIDEND_INCOME", "DIVIDEND_EXPENSE"}, "MANAGEMENT_FEE": {"MGMT_FEE_INCOME", "MGMT_FEE_EXPENSE"},
		"ROYALTY": {"ROYALTY_INCOME", "ROYALTY_EXPENSE"}, "OTHER": {"IC_OTHER_PAYABLE", "IC_OTHER_RECEIVABLE"}}
	for _, e := range list("eliminations") {
		p := pairs[e["type"].(string)]
		if num(e["amount"]) <= 0 || e["debit_account"] != p[0] || e["credit_account"] != p[1] {
			t.Fatalf("elimination %v", e)
		}
	}
	for _, n := range list("netting") {
		cur := n["currency"].(string)
		if num(n["settlement_volume"]) != vol[cur] || vol[cur] > num(n["gross"]) {
			t.Fatalf("netting %v: Σ max(net, 0) = %d", n, vol[cur])
		}
	}
}

func runIntercompany(ctx context.Context, in *accountingv1.NetworkAnalysisInput) (*accountingv1.NetworkAnalysisOutput, error) {
	job, err := NetworkAnalysis.Prepare(ctx, in)
	if err != nil {
		return nil, err
	}
	return NetworkAnalysis.CPU(ctx, job)
}

// denseGroup is every ordered pair of n entities, one TRADE each.
func denseGroup(n int) *accountingv1.NetworkAnalysisInput {
	in := &accountingv1.NetworkAnalysisInput{}
	for u := range n {
		for v := range n {
			if u != v {
				in.Transactions = append(in.Transactions, &accountingv1.IntercompanyTransaction{
					Id: fmt.Sprintf("%d-%d", u, v), FromEntity: fmt.Sprintf("entity-%03d", u), ToEntity: fmt.Sprintf("entity-%03d", v),
					AmountMinor: int64(1 + u*n + v), Currency: "EUR", Date: "2025-03-31", Type: "TRADE", Status: "CONFIRMED"})
			}
		}
	}
	return in
}

// A dense group whose cycles exceed the server's limits is a 400 naming
// max_cycle_length, never a long run or a huge answer; a shorter bound
// answers.
func TestIntercompanyCycleLimitsNameTheField(t *testing.T) {
	in := denseGroup(25)
	small := limits.With(context.Background(), limits.Limits{MaxOutputItems: 5000, MaxIterations: 1_000_000})
	if _, err := runIntercompany(small, in); !isField(err, "max_cycle_length") {
		t.Fatalf("output-item cap: %v", err)
	}
	steps := limits.With(context.Background(), limits.Limits{MaxIterations: 1000})
	if _, err := runIntercompany(steps, in); !isField(err, "max_cycle_length") {
		t.Fatalf("step budget: %v", err)
	}
	two := int32(2)
	in.MaxCycleLength = &two
	out, err := runIntercompany(small, in)
	if err != nil || len(out.Cycles) != 25*24/2 {
		t.Fatalf("2-cycles: %d, %v; want 300", len(out.GetCycles()), err)
	}
}

func isField(err error, field string) bool {
	fe, ok := kerr.AsField(err)
	return ok && fe.Field == field
}

// Estimate's OutputBytes bounds the encoded output of every fixture case
// and of dense groups, whose cycles dominate.
func TestIntercompanyEstimateBoundsOutput(t *testing.T) {
	f := fixture.Kernel(t, "accounting", "network-analysis")
	var ins []*accountingv1.NetworkAnalysisInput
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		in := &accountingv1.NetworkAnalysisInput{}
		if err := protojson.Unmarshal(c.Input, in); err != nil {
			t.Fatal(c.Name, err)
		}
		ins = append(ins, in)
	}
	for _, n := range []int{2, 5, 9} {
		ins = append(ins, denseGroup(n))
	}
	for i, in := range ins {
		out, err := runIntercompany(context.Background(), in)
		if err != nil {
			t.Fatal(i, err)
		}
		got, est := proto.Size(out), NetworkAnalysis.Estimate(in).OutputBytes
		if int64(got) > est {
			t.Fatalf("input %d: output %d bytes > estimate %d", i, got, est)
		}
		if jb, _ := protojson.Marshal(out); int64(len(jb)) > 2*est {
			t.Fatalf("input %d: JSON output %d bytes > 2 × estimate %d", i, len(jb), est)
		}
	}
	// A 200-entity group at the default length is bounded by the default
	// output-item limit (1M cycles of 5 ten-byte ids, ~92 MB, plus 39,800
	// rows), not by C(39800, 5) cycles.
	if est := NetworkAnalysis.Estimate(denseGroup(200)).OutputBytes; est > 150_000_000 || est < 92_000_000 {
		t.Fatalf("estimate %d bytes, want about 1M cycles × 92 bytes + the rows", est)
	}
}
