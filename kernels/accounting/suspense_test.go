package accounting

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/accounting/suspense"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// checkSuspenseLaws re-derives every candidate's indicators, score and
// level from its reported measures and the input's thresholds, and checks
// the orderings and the high-risk list.
func checkSuspenseLaws(t *testing.T, c fixture.Case, out map[string]any) {
	t.Helper()
	var in struct {
		Thresholds struct {
			Centrality     *float64 `json:"centrality"`
			Turnover       *float64 `json:"turnover"`
			HoldingDays    *float64 `json:"holding_days"`
			BalanceRatio   *float64 `json:"balance_ratio"`
			Counterparties *float64 `json:"counterparties"`
			Zero           *float64 `json:"zero_balance_minor"`
		} `json:"thresholds"`
	}
	if err := json.Unmarshal(c.Input, &in); err != nil {
		t.Fatal(err)
	}
	or := func(p *float64, d float64) float64 {
		if p == nil {
			return d
		}
		return *p
	}
	th := in.Thresholds
	var high []string
	prev := math.Inf(1)
	prevAcc := ""
	for _, x := range out["candidates"].([]any) {
		cd := x.(map[string]any)
		acc := cd["account"].(string)
		bc, br := cd["centrality"].(float64), cd["balance_ratio"].(float64)
		end := num(cd["end_balance"])
		fired := []bool{
			bc >= or(th.Centrality, .1),
			cd["turnover"].(float64) >= or(th.Turnover, 10),
			cd["holding_days"].(float64) <= or(th.HoldingDays, 7),
			br >= or(th.BalanceRatio, .9),
			cd["counterparties"].(float64) >= or(th.Counterparties, 5),
			math.Abs(float64(end)) < or(th.Zero, 10000),
		}
		var want []string
		score := 0.0
		for k, f := range fired {
			if f {
				want = append(want, suspense.Indicators[k])
				score += suspense.Weights[k]
			}
		}
		got := []string{}
		for _, s := range cd["indicators"].([]any) {
			got = append(got, s.(string))
		}
		naming := slices.Contains(got, "SUSPENSE_NAMING")
		if naming {
			want = append(want, "SUSPENSE_NAMING")
			score += 10
		}
		if !slices.Equal(got, want) || len(got) == 0 {
			t.Fatalf("%s: indicators %v, measures give %v", acc, got, want)
		}
		if fired[0] && len(want) >= 3 {
			score += 10 * bc
		}
		score = min(score, 100)
		if s := cd["score"].(float64); math.Abs(s-score) > 1e-12 || s < 0 || s > 100 {
			t.Fatalf("%s: score %v, want %v", acc, s, score)
		}
		if br < 0 || br > 1 || bc < 0 || bc > 1 {
			t.Fatalf("%s: balance ratio %v, centrality %v outside [0,1]", acc, br, bc)
		}
		lvl := "LOW"
		switch {
		case score >= 80 || fired[0] && fired[3] && fired[5]:
			lvl = "CRITICAL"
		case score >= 60:
			lvl = "HIGH"
		case score >= 40:
			lvl = "MEDIUM"
		}
		if cd["level"] != lvl {
			t.Fatalf("%s: level %v, want %s", acc, cd["level"], lvl)
		}
		if lvl == "HIGH" || lvl == "CRITICAL" {
			high = append(high, acc)
		}
		if score > prev || score == prev && acc <= prevAcc {
			t.Fatalf("candidates out of order at %s", acc)
		}
		prev, prevAcc = score, acc
	}
	slices.Sort(high)
	gotHigh := []string{}
	for _, s := range out["high_risk"].([]any) {
		gotHigh = append(gotHigh, s.(string))
	}
	if !slices.Equal(gotHigh, high) && !(len(high) == 0 && len(gotHigh) == 0) {
		t.Fatalf("high_risk %v, candidates give %v", gotHigh, high)
	}
}

// The ledger with network-generation's suspense lines balances, so the end
// balances of all analysed accounts sum to zero exactly; with a zero-balance
// threshold above every balance every account is a candidate.
func TestSuspenseEndBalancesSumToZero(t *testing.T) {
	files := fixture.DomainFiles(t, "accounting")
	f := fixture.KernelFile(t, files, "accounting/suspense-detection")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		in := &accountingv1.SuspenseDetectionInput{}
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatal(err)
		}
		if in.Thresholds == nil {
			in.Thresholds = &accountingv1.SuspenseThresholds{}
		}
		big := int64(math.MaxInt64)
		in.Thresholds.ZeroBalanceMinor = &big
		job, err := SuspenseDetection.Prepare(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := SuspenseDetection.CPU(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		if int(out.AccountsAnalyzed) != len(out.Candidates) {
			t.Fatalf("%s: %d accounts, %d candidates", c.Name, out.AccountsAnalyzed, len(out.Candidates))
		}
		var sum int64
		for _, cd := range out.Candidates {
			sum += cd.EndBalance
		}
		if sum != 0 {
			t.Fatalf("%s: end balances sum to %d", c.Name, sum)
		}
		if c.Name != "empty" && len(out.Candidates) == 0 {
			t.Fatalf("%s: no accounts", c.Name)
		}
	}
}

// FIFO holding period on a hand example: debit 100 on day 0, credit 30 on
// day 2 and credit 100 on day 5 (clears 70, opens a credit lot of 30), as of
// day 10: (30·2 + 70·5 + 30·5) / (100 + 30) = 560 / 130.
func TestSuspenseHoldingFIFO(t *testing.T) {
	ps := []suspense.Posting{{Account: "x", Day: 0, Debit: 100}, {Account: "x", Day: 2, Credit: 30},
		{Account: "x", Day: 5, Credit: 100}, {Account: "y", Day: 0, Credit: 30}}
	r, err := suspense.Detect(context.Background(), ps, nil, suspense.Options{AsOf: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Accounts[0].HoldingDays; math.Abs(got-560.0/130) > 1e-12 {
		t.Fatalf("holding %v, want %v", got, 560.0/130)
	}
	if got := r.Accounts[1].HoldingDays; got != 10 {
		t.Fatalf("open lot aged to as_of: %v, want 10", got)
	}
}

func TestSuspenseCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := &accountingv1.SuspenseDetectionInput{Entries: []*accountingv1.JournalEntry{{Id: "e", PostingDate: "2025-01-01",
		Lines: []*accountingv1.JournalLine{{LineNo: 1, Account: "a", DebitMinor: 1, Currency: "EUR"},
			{LineNo: 2, Account: "b", CreditMinor: 1, Currency: "EUR"}}}}}
	job, err := SuspenseDetection.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SuspenseDetection.CPU(ctx, job); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
}
