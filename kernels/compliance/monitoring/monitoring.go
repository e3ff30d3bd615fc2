// Package monitoring is compliance/transaction-monitoring: threshold rules
// (single amount, aggregate, count, velocity, geographic risk) evaluated
// per entity over look-back windows (now - W, now].
package monitoring

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Def declares compliance/transaction-monitoring.
var Def = registry.Def[*compliancev1.TransactionMonitoringInput, *compliancev1.TransactionMonitoringOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/transaction-monitoring",
		Domain:      registry.DomainCompliance,
		Description: "Rule-based transaction monitoring: single-amount, aggregate, count, velocity and geographic-risk rules per entity over look-back windows (now-W, now].",
		Modes:       []registry.Mode{registry.Batch, registry.Ring},
	},
	Prepare: prepare,
	CPU: func(ctx context.Context, j *job) (*compliancev1.TransactionMonitoringOutput, error) {
		st := New(j.params)
		for i, tx := range j.txs {
			if i%txn.CheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if err := st.Apply(tx); err != nil {
				return nil, err
			}
		}
		return st.Snapshot(ctx)
	},
}

// Rule is a validated rule with defaults applied.
type Rule struct {
	ID        uint32
	Type      string
	Threshold float64
	Window    int64
	Severity  string
	Direction string
	Cooldown  int64 // ring only: seconds between two alerts of one (rule, entity)
}

// DefaultRules are upstream's four rules.
var DefaultRules = []Rule{
	{1, "SINGLE_AMOUNT", 10_000, 86_400, "HIGH", "BOTH", 86_400},
	{2, "AGGREGATE_AMOUNT", 10_000, 86_400, "HIGH", "BOTH", 86_400},
	{3, "TRANSACTION_COUNT", 50, 86_400, "MEDIUM", "BOTH", 86_400},
	{4, "VELOCITY", 5_000, 3_600, "HIGH", "BOTH", 3_600},
}

// Params are the kernel's options.
type Params struct {
	Rules    []Rule
	HighRisk map[string]bool // upper-cased
	Now      *int64          // nil: the last applied ts
}

type job struct {
	params Params
	txs    []*financev1.Transaction
}

func prepare(ctx context.Context, in *compliancev1.TransactionMonitoringInput) (*job, error) {
	order, err := txn.Check(ctx, "transactions", in.GetTransactions())
	if err != nil {
		return nil, err
	}
	p, err := ParamsOf(ctx, in)
	if err != nil {
		return nil, err
	}
	return &job{params: p, txs: txn.Sorted(in.GetTransactions(), order)}, nil
}

// ParamsOf validates the rules and applies the defaults.
func ParamsOf(ctx context.Context, in *compliancev1.TransactionMonitoringInput) (Params, error) {
	p := Params{HighRisk: map[string]bool{}, Now: in.CurrentTime}
	if err := limits.Check("rules", len(in.GetRules()), 1024); err != nil {
		return p, err
	}
	if len(in.GetRules()) == 0 {
		p.Rules = slices.Clone(DefaultRules)
	}
	seen := map[uint32]bool{}
	for i, r := range in.GetRules() {
		field := fmt.Sprintf("rules[%d]", i)
		if seen[r.GetRuleId()] {
			return p, kerr.Invalid(field+".rule_id", "duplicate rule id %d", r.GetRuleId())
		}
		seen[r.GetRuleId()] = true
		rule := Rule{ID: r.GetRuleId(), Type: r.GetType(), Window: 86_400, Severity: "MEDIUM", Direction: "BOTH"}
		switch {
		case r.Threshold != nil:
			rule.Threshold = r.GetThreshold()
		case rule.Type == "GEOGRAPHIC_RISK":
			rule.Threshold = 1
		default:
			return p, kerr.Invalid(field+".threshold", "is required for %s rules", rule.Type)
		}
		if r.WindowSeconds != nil {
			rule.Window = r.GetWindowSeconds()
		}
		if r.GetSeverity() != "" {
			rule.Severity = r.GetSeverity()
		}
		if r.GetDirection() != "" {
			rule.Direction = r.GetDirection()
		}
		rule.Cooldown = registry.Or(r.CooldownSeconds, rule.Window)
		p.Rules = append(p.Rules, rule)
	}
	for _, c := range in.GetHighRiskCountries() {
		p.HighRisk[strings.ToUpper(c)] = true
	}
	return p, nil
}

// SeverityRank orders severities; the ring's risk_score maps them to 10,
// 25, 50, 75, 100.
var SeverityRank = map[string]int{"INFO": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}

// State is the fold: transactions applied in ts order, Snapshot = Batch.
type State struct {
	p     Params
	guard txn.Guard
	txs   []*financev1.Transaction
}

// New returns an empty state.
func New(p Params) *State { return &State{p: p} }

// Apply adds one transaction.
func (s *State) Apply(tx *financev1.Transaction) error {
	if err := s.guard.Admit(tx); err != nil {
		return err
	}
	s.txs = append(s.txs, tx)
	return nil
}

type alert struct {
	a      *compliancev1.MonitoringAlert
	rank   int
	firstT int64
}

func (s *State) risky(tx *financev1.Transaction) bool {
	return (tx.CountryFrom != nil && s.p.HighRisk[strings.ToUpper(tx.GetCountryFrom())]) ||
		(tx.CountryTo != nil && s.p.HighRisk[strings.ToUpper(tx.GetCountryTo())])
}

// entitiesOf returns the entities of tx under a direction.
func entitiesOf(tx *financev1.Transaction, dir string) []string {
	switch {
	case dir == "OUT":
		return []string{tx.GetSourceId()}
	case dir == "IN":
		return []string{tx.GetDestId()}
	case tx.GetSourceId() == tx.GetDestId():
		return []string{tx.GetSourceId()}
	}
	return []string{tx.GetSourceId(), tx.GetDestId()}
}

// Snapshot evaluates every rule at current_time (or the last applied ts).
func (s *State) Snapshot(ctx context.Context) (*compliancev1.TransactionMonitoringOutput, error) {
	last, any := s.guard.Last()
	return evaluate(ctx, s.p, s.txs, last, any)
}

// evaluate is the Batch evaluation over txs (in (ts, input) order) at
// current_time, or at last when it is unset (any: a transaction was
// applied). txs need only hold what the evaluation reads: the transactions
// of the longest window before now and every SINGLE_AMOUNT hit.
func evaluate(ctx context.Context, p Params, txs []*financev1.Transaction, last int64, any bool) (*compliancev1.TransactionMonitoringOutput, error) {
	s := &State{p: p, txs: txs}
	out := &compliancev1.TransactionMonitoringOutput{}
	now := last
	if s.p.Now != nil {
		now, any = *s.p.Now, true
	}
	out.CurrentTime = now
	if !any {
		return out, nil
	}
	// Transactions up to now, in (ts, input) order.
	end, _ := slices.BinarySearchFunc(s.txs, now+1, func(tx *financev1.Transaction, t int64) int {
		return cmp.Compare(tx.GetTs(), t)
	})
	if now == math.MaxInt64 {
		end = len(s.txs)
	}
	upTo := s.txs[:end]
	var alerts []alert
	for _, r := range s.p.Rules {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rank := SeverityRank[r.Severity]
		if r.Type == "SINGLE_AMOUNT" {
			for _, tx := range upTo {
				if tx.GetAmount() >= r.Threshold {
					for _, e := range entitiesOf(tx, r.Direction) {
						alerts = append(alerts, alert{&compliancev1.MonitoringAlert{
							RuleId: r.ID, RuleType: r.Type, EntityId: e, Severity: r.Severity,
							Value: tx.GetAmount(), TxIds: []string{tx.GetId()},
						}, rank, tx.GetTs()})
					}
				}
			}
			continue
		}
		// Window (now - W, now]; W may exceed the history.
		lo := 0
		if now >= math.MinInt64+r.Window { // else the window reaches the start of time
			lo, _ = slices.BinarySearchFunc(upTo, now-r.Window+1, func(tx *financev1.Transaction, t int64) int {
				return cmp.Compare(tx.GetTs(), t)
			})
		}
		byEntity := map[string][]*financev1.Transaction{}
		var order []string
		for _, tx := range upTo[lo:] {
			for _, e := range entitiesOf(tx, r.Direction) {
				if _, ok := byEntity[e]; !ok {
					order = append(order, e)
				}
				byEntity[e] = append(byEntity[e], tx)
			}
		}
		for _, e := range order {
			txs := byEntity[e]
			var value float64
			switch r.Type {
			case "AGGREGATE_AMOUNT", "VELOCITY":
				for _, tx := range txs {
					value += tx.GetAmount()
				}
				if r.Type == "VELOCITY" {
					value /= float64(r.Window) / 3600
				}
			case "TRANSACTION_COUNT":
				value = float64(len(txs))
			case "GEOGRAPHIC_RISK":
				var risky []*financev1.Transaction
				for _, tx := range txs {
					if s.risky(tx) {
						risky = append(risky, tx)
					}
				}
				txs, value = risky, float64(len(risky))
			}
			if value >= r.Threshold && len(txs) > 0 {
				a := &compliancev1.MonitoringAlert{RuleId: r.ID, RuleType: r.Type, EntityId: e,
					Severity: r.Severity, Value: value}
				for _, tx := range txs {
					a.TxIds = append(a.TxIds, tx.GetId())
				}
				alerts = append(alerts, alert{a, rank, txs[0].GetTs()})
			}
		}
	}
	slices.SortStableFunc(alerts, func(x, y alert) int {
		if c := cmp.Compare(y.rank, x.rank); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a.RuleId, y.a.RuleId); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a.EntityId, y.a.EntityId); c != 0 {
			return c
		}
		if c := cmp.Compare(x.firstT, y.firstT); c != 0 {
			return c
		}
		return cmp.Compare(x.a.TxIds[0], y.a.TxIds[0])
	})
	for i, a := range alerts {
		a.a.AlertId = uint32(i + 1)
		out.Alerts = append(out.Alerts, a.a)
	}
	return out, nil
}
