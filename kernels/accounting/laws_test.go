package accounting

import (
	"encoding/json"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
)

// num reads a JSON number decoded from a Struct.
func num(v any) int64 { return int64(v.(float64)) }

type lineKey struct {
	entry string
	no    int64
}

// checkNetworkLaws asserts, whatever the allocation: every debit line
// (suspense lines included) is fully covered and every credit line fully
// sourced, per entry, exactly; per (account, currency), inflow − outflow =
// Σ debits − Σ credits; the edges aggregate the flows; flow ids run 1..n.
func checkNetworkLaws(t *testing.T, c fixture.Case, out map[string]any) {
	t.Helper()
	var in struct {
		Entries []struct {
			ID    string `json:"id"`
			Lines []struct {
				LineNo   int64  `json:"line_no"`
				Account  string `json:"account"`
				Debit    int64  `json:"debit_minor"`
				Credit   int64  `json:"credit_minor"`
				Currency string `json:"currency"`
			} `json:"lines"`
		} `json:"entries"`
		Suspense string `json:"suspense_account"`
	}
	if err := json.Unmarshal(c.Input, &in); err != nil {
		t.Fatal(err)
	}
	debit, credit := map[lineKey]int64{}, map[lineKey]int64{}
	type acc struct{ account, currency string }
	movement := map[acc]int64{}
	for _, e := range in.Entries {
		for _, l := range e.Lines {
			debit[lineKey{e.ID, l.LineNo}] += l.Debit
			credit[lineKey{e.ID, l.LineNo}] += l.Credit
			movement[acc{l.Account, l.Currency}] += l.Debit - l.Credit
		}
	}
	for _, er := range out["entries"].([]any) {
		er := er.(map[string]any)
		for _, s := range er["suspense_lines"].([]any) {
			s := s.(map[string]any)
			k := lineKey{er["entry_id"].(string), num(s["line_no"])}
			if debit[k]+credit[k] != 0 {
				t.Fatalf("suspense line %v reuses an existing line number", k)
			}
			debit[k], credit[k] = num(s["debit_minor"]), num(s["credit_minor"])
			movement[acc{s["account"].(string), s["currency"].(string)}] += num(s["debit_minor"]) - num(s["credit_minor"])
		}
	}
	gotIn, gotOut := map[lineKey]int64{}, map[lineKey]int64{}
	flowMove := map[acc]int64{}
	type ek struct{ f, t, c string }
	edgeSum := map[ek]int64{}
	for i, f := range out["flows"].([]any) {
		f := f.(map[string]any)
		if num(f["flow_id"]) != int64(i+1) {
			t.Fatalf("flow %d has id %v", i, f["flow_id"])
		}
		amt := num(f["amount_minor"])
		if amt <= 0 {
			t.Fatalf("flow %v: amount %d ≤ 0", f["flow_id"], amt)
		}
		sl := f["source_lines"].([]any)
		e := f["entry_id"].(string)
		gotOut[lineKey{e, num(sl[0])}] += amt // sourced by the credit line
		gotIn[lineKey{e, num(sl[1])}] += amt  // covering the debit line
		cur := f["currency"].(string)
		flowMove[acc{f["to_account"].(string), cur}] += amt
		flowMove[acc{f["from_account"].(string), cur}] -= amt
		edgeSum[ek{f["from_account"].(string), f["to_account"].(string), cur}] += amt
	}
	for k, d := range debit {
		if gotIn[k] != d || gotOut[k] != credit[k] {
			t.Fatalf("line %v: debit %d covered %d, credit %d sourced %d", k, d, gotIn[k], credit[k], gotOut[k])
		}
	}
	for k, v := range gotIn {
		if debit[k] != v {
			t.Fatalf("flows name unknown debit line %v", k)
		}
	}
	for a, m := range movement {
		if flowMove[a] != m {
			t.Fatalf("account %v: flow movement %d, line movement %d", a, flowMove[a], m)
		}
	}
	for _, e := range out["edges"].([]any) {
		e := e.(map[string]any)
		k := ek{e["from"].(string), e["to"].(string), e["currency"].(string)}
		if edgeSum[k] != num(e["amount_minor"]) {
			t.Fatalf("edge %v: %v, flows sum to %d", k, e["amount_minor"], edgeSum[k])
		}
		delete(edgeSum, k)
	}
	if len(edgeSum) != 0 {
		t.Fatalf("flows without an edge: %v", edgeSum)
	}
}

// checkTransformLaws asserts: every transformed entry balances per
// currency; the mapped lines of each source line sum exactly to it; the
// trial balance has Σ debits = Σ credits per (currency, period) and equals
// the posted lines; no entry is both transformed and in error.
func checkTransformLaws(t *testing.T, c fixture.Case, out map[string]any) {
	t.Helper()
	var in struct {
		Entries []struct {
			ID    string `json:"id"`
			Lines []struct {
				LineNo int64 `json:"line_no"`
				Debit  int64 `json:"debit_minor"`
				Credit int64 `json:"credit_minor"`
			} `json:"lines"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(c.Input, &in); err != nil {
		t.Fatal(err)
	}
	src := map[lineKey][2]int64{}
	for _, e := range in.Entries {
		for _, l := range e.Lines {
			src[lineKey{e.ID, l.LineNo}] = [2]int64{l.Debit, l.Credit}
		}
	}
	failed := map[string]bool{}
	for _, e := range out["errors"].([]any) {
		failed[e.(map[string]any)["entry_id"].(string)] = true
	}
	type cp struct{ cur, period string }
	posted := map[cp][2]int64{}
	for _, te := range out["entries"].([]any) {
		te := te.(map[string]any)
		id := te["id"].(string)
		if failed[id] {
			t.Fatalf("entry %s both transformed and in error", id)
		}
		bal := map[string]int64{}
		sum := map[lineKey][2]int64{}
		for _, l := range te["lines"].([]any) {
			l := l.(map[string]any)
			d, cr := num(l["debit_minor"]), num(l["credit_minor"])
			bal[l["currency"].(string)] += d - cr
			k := lineKey{id, num(l["source_line_no"])}
			s := sum[k]
			sum[k] = [2]int64{s[0] + d, s[1] + cr}
			p := cp{l["currency"].(string), te["period"].(string)}
			q := posted[p]
			posted[p] = [2]int64{q[0] + d, q[1] + cr}
		}
		for cur, b := range bal {
			if b != 0 {
				t.Fatalf("entry %s unbalanced by %d in %s", id, b, cur)
			}
		}
		for k, s := range sum {
			if s != src[k] {
				t.Fatalf("line %v: mapped lines sum to %v, source %v", k, s, src[k])
			}
		}
	}
	tb := map[cp][2]int64{}
	for _, r := range out["trial_balance"].([]any) {
		r := r.(map[string]any)
		p := cp{r["currency"].(string), r["period"].(string)}
		q := tb[p]
		tb[p] = [2]int64{q[0] + num(r["debit"]), q[1] + num(r["credit"])}
		if num(r["net"]) != num(r["debit"])-num(r["credit"]) {
			t.Fatalf("trial balance row %v: net ≠ debit − credit", r)
		}
	}
	for p, v := range tb {
		if v[0] != v[1] || posted[p] != v {
			t.Fatalf("trial balance %v: debits %d, credits %d, posted %v", p, v[0], v[1], posted[p])
		}
	}
	if len(tb) != len(posted) {
		t.Fatalf("trial balance has %d (currency, period) groups, posted lines %d", len(tb), len(posted))
	}
}

// checkCoaLaws asserts: the shares of every mapped account sum to 1 (±1e-9),
// mappings are sorted by account, and the counts add up to the accounts.
func checkCoaLaws(t *testing.T, c fixture.Case, out map[string]any) {
	t.Helper()
	var in struct {
		Accounts []json.RawMessage `json:"accounts"`
	}
	if err := json.Unmarshal(c.Input, &in); err != nil {
		t.Fatal(err)
	}
	prev := ""
	for i, m := range out["mappings"].([]any) {
		m := m.(map[string]any)
		acc := m["account"].(string)
		if i > 0 && acc <= prev {
			t.Fatalf("mappings not sorted: %q after %q", acc, prev)
		}
		prev = acc
		sum := 0.0
		for _, s := range m["targets"].([]any) {
			sum += s.(map[string]any)["ratio"].(float64)
		}
		if sum < 1-1e-9 || sum > 1+1e-9 {
			t.Fatalf("account %s: shares sum to %v", acc, sum)
		}
	}
	st := out["stats"].(map[string]any)
	total := num(st["mapped"]) + num(st["default"]) + num(st["unmapped"]) + num(st["skipped_inactive"])
	if total != int64(len(in.Accounts)) || num(st["mapped"])+num(st["default"]) != int64(len(out["mappings"].([]any))) {
		t.Fatalf("stats %v do not add up to %d accounts / %d mappings", st, len(in.Accounts), len(out["mappings"].([]any)))
	}
}
