package accounting

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/limits"
)

type reconItem struct {
	ID        string `json:"id"`
	Account   string `json:"account"`
	Currency  string `json:"currency"`
	Amount    int64  `json:"amount_minor"`
	Date      string `json:"date"`
	Reference string `json:"reference"`
}

// checkReconcileLaws asserts, whatever optimum pass 2 chose: no item is
// used twice; every match is within its pass's rule (same account and
// currency, tolerance, date window, group size); the unmatched lists are
// the complement; Σ source − Σ target = Σ unmatched source − Σ unmatched
// target + Σ variances; the stats count what the matches say.
func checkReconcileLaws(t *testing.T, c fixture.Case, out map[string]any) {
	t.Helper()
	var in struct {
		Sources   []reconItem `json:"sources"`
		Targets   []reconItem `json:"targets"`
		AbsTol    *int64      `json:"abs_tol_minor"`
		PctTol    *float64    `json:"pct_tol"`
		DateTol   *int64      `json:"date_tol_days"`
		Lambda    *int64      `json:"lambda_per_day_minor"`
		MaxGroup  *int        `json:"max_group"`
		ManyToOne *bool       `json:"many_to_one"`
		OneToMany *bool       `json:"one_to_many"`
	}
	if err := json.Unmarshal(c.Input, &in); err != nil {
		t.Fatal(err)
	}
	or := func(p *int64, d int64) int64 {
		if p != nil {
			return *p
		}
		return d
	}
	absTol, dateTol, lambda := or(in.AbsTol, 100), or(in.DateTol, 3), or(in.Lambda, 1)
	pct, maxGroup := 0.001, 3
	if in.PctTol != nil {
		pct = *in.PctTol
	}
	if in.MaxGroup != nil {
		maxGroup = *in.MaxGroup
	}
	within := func(d, amount int64) bool {
		return d <= absTol && float64(d) <= pct*math.Abs(float64(amount))
	}
	day := func(s string) int64 {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Unix() / 86400
	}
	src, tgt := map[string]reconItem{}, map[string]reconItem{}
	var total int64
	for _, s := range in.Sources {
		src[s.ID] = s
		total += s.Amount
	}
	for _, x := range in.Targets {
		tgt[x.ID] = x
		total -= x.Amount
	}
	usedS, usedT := map[string]bool{}, map[string]bool{}
	var variances, pass2Cost int64
	pass2 := 0
	strs := func(v any) []string {
		var out []string
		for _, x := range v.([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	for _, m := range out["matches"].([]any) {
		m := m.(map[string]any)
		typ, ss, ts := m["type"].(string), strs(m["source_ids"]), strs(m["target_ids"])
		var sum int64
		var items []reconItem
		for _, id := range ss {
			if usedS[id] {
				t.Fatalf("source %s used twice", id)
			}
			usedS[id] = true
			sum += src[id].Amount
			items = append(items, src[id])
		}
		for _, id := range ts {
			if usedT[id] {
				t.Fatalf("target %s used twice", id)
			}
			usedT[id] = true
			sum -= tgt[id].Amount
			items = append(items, tgt[id])
		}
		if sum != num(m["variance"]) {
			t.Fatalf("match %v: variance %v, Σ source − Σ target = %d", m, m["variance"], sum)
		}
		variances += sum
		for _, it := range items {
			if it.Account != items[0].Account || it.Currency != items[0].Currency {
				t.Fatalf("match %v mixes accounts or currencies", m)
			}
		}
		ad := func(a, b int64) int64 { return max(a-b, b-a) }
		switch typ {
		case "EXACT", "TOLERANCE":
			s, x := src[ss[0]], tgt[ts[0]]
			if len(ss) != 1 || len(ts) != 1 || ad(day(s.Date), day(x.Date)) > dateTol {
				t.Fatalf("match %v breaks the one-to-one date window", m)
			}
			if typ == "EXACT" && (s.Amount != x.Amount || s.Reference == "" || s.Reference != x.Reference) {
				t.Fatalf("EXACT match %v: amounts or references differ", m)
			}
			if typ == "TOLERANCE" {
				if !within(ad(s.Amount, x.Amount), s.Amount) {
					t.Fatalf("TOLERANCE match %v outside the amount tolerance", m)
				}
				pass2++
				pass2Cost += ad(s.Amount, x.Amount) + lambda*ad(day(s.Date), day(x.Date))
			}
		case "MANY_TO_ONE", "ONE_TO_MANY":
			one, many := tgt[ts[0]], []reconItem{}
			for _, id := range ss {
				many = append(many, src[id])
			}
			if typ == "ONE_TO_MANY" {
				one, many = src[ss[0]], nil
				for _, id := range ts {
					many = append(many, tgt[id])
				}
				if len(ss) != 1 || (in.OneToMany != nil && !*in.OneToMany) {
					t.Fatalf("ONE_TO_MANY match %v not allowed here", m)
				}
			} else if len(ts) != 1 || (in.ManyToOne != nil && !*in.ManyToOne) {
				t.Fatalf("MANY_TO_ONE match %v not allowed here", m)
			}
			if len(many) < 2 || len(many) > maxGroup {
				t.Fatalf("match %v: group size %d outside 2..%d", m, len(many), maxGroup)
			}
			var s int64
			for _, it := range many {
				s += it.Amount
				if ad(day(it.Date), day(one.Date)) > dateTol {
					t.Fatalf("match %v: %s outside the date window", m, it.ID)
				}
			}
			if !within(ad(s, one.Amount), one.Amount) {
				t.Fatalf("match %v outside the amount tolerance", m)
			}
		default:
			t.Fatalf("unknown match type %q", typ)
		}
	}
	var unmatched int64
	for side, ids := range [2][]string{strs(orEmpty(out["unmatched_sources"])), strs(orEmpty(out["unmatched_targets"]))} {
		if !slices.IsSorted(ids) {
			t.Fatalf("unmatched list %d not sorted", side)
		}
		used, items, sign := usedS, src, int64(1)
		if side == 1 {
			used, items, sign = usedT, tgt, -1
		}
		for _, id := range ids {
			if used[id] {
				t.Fatalf("%s both matched and unmatched", id)
			}
			used[id] = true
			unmatched += sign * items[id].Amount
		}
		if len(used) != len(items) {
			t.Fatalf("side %d: %d items accounted for, %d given", side, len(used), len(items))
		}
	}
	if total != unmatched+variances {
		t.Fatalf("Σ source − Σ target = %d, unmatched %d + variances %d", total, unmatched, variances)
	}
	st := out["stats"].(map[string]any)
	if num(orZero(st["pass2_count"])) != int64(pass2) || num(orZero(st["pass2_cost"])) != pass2Cost {
		t.Fatalf("stats %v, matches say pass2 %d cost %d", st, pass2, pass2Cost)
	}
}

func orEmpty(v any) any {
	if v == nil {
		return []any{}
	}
	return v
}

func orZero(v any) any {
	if v == nil {
		return float64(0)
	}
	return v
}

// Pass 3 on a busy day — one statement line against 200 unmatched ledger
// items of 1 minor unit (Σ C(200, k) ≈ 1.3M subsets for max_group 3) — is
// a 400 naming max_group under a small iteration limit instead of an
// unbounded search; with max_group 2 (19,900 subsets) it answers, leaving
// everything unmatched.
func TestReconcilePass3Budget(t *testing.T) {
	in := &accountingv1.GlReconciliationInput{Targets: []*accountingv1.ReconciliationItem{
		{Id: "t", Account: "1000", Currency: "EUR", AmountMinor: 1000, Date: "2025-01-10"}}}
	for i := range 200 {
		in.Sources = append(in.Sources, &accountingv1.ReconciliationItem{Id: fmt.Sprintf("s%03d", i), Account: "1000",
			Currency: "EUR", AmountMinor: 1, Date: "2025-01-10"})
	}
	ctx := limits.With(context.Background(), limits.Limits{MaxIterations: 2000}) // 32,000 subsets
	job, err := GlReconciliation.Prepare(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GlReconciliation.CPU(ctx, job); !isField(err, "max_group") {
		t.Fatalf("%v, want a 400 naming max_group", err)
	}
	two := int32(2)
	in.MaxGroup = &two
	if job, err = GlReconciliation.Prepare(ctx, in); err != nil {
		t.Fatal(err)
	}
	out, err := GlReconciliation.CPU(ctx, job)
	if err != nil || len(out.UnmatchedSources) != 200 || len(out.UnmatchedTargets) != 1 {
		t.Fatalf("max_group 2: %v, %d/%d unmatched", err, len(out.GetUnmatchedSources()), len(out.GetUnmatchedTargets()))
	}
}
