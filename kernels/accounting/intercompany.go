package accounting

import (
	"context"
	"errors"
	"fmt"
	"math"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/intercompany"
	"github.com/gokernels/gokernels/kernels/accounting/ledger"
	"github.com/gokernels/gokernels/kernels/graph/structure/circuits"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// IntercompanyJob is the converted transactions and the options.
type IntercompanyJob struct {
	Txns   []intercompany.Txn
	Params intercompany.Params
}

// NetworkAnalysis is accounting/network-analysis.
var NetworkAnalysis = registry.Def[*accountingv1.NetworkAnalysisInput, *accountingv1.NetworkAnalysisOutput, IntercompanyJob]{
	Meta: registry.Meta{
		ID: "accounting/network-analysis", Domain: registry.DomainAccounting,
		Description: "Intercompany network for consolidation in integer minor units: entity balances and " +
			"relationships from creditor-reported rows, IC reconciliation of both sides, elimination entries, " +
			"elementary cycles up to max_cycle_length with bottlenecks, multilateral netting per currency.",
	},
	Prepare: prepareIntercompany,
	CPU: func(ctx context.Context, job IntercompanyJob) (*accountingv1.NetworkAnalysisOutput, error) {
		res, err := intercompany.Analyze(ctx, job.Txns, job.Params)
		switch {
		case errors.Is(err, intercompany.ErrTooManyCycles):
			return nil, kerr.Invalid("max_cycle_length", "more than %d cycles (the server's output-item limit); lower max_cycle_length", job.Params.MaxCycles)
		case errors.Is(err, circuits.ErrSteps):
			return nil, kerr.Invalid("max_cycle_length", "the cycle search exceeds %d steps; lower max_cycle_length", job.Params.MaxSteps)
		case err != nil:
			return nil, err
		}
		return intercompanyOutput(res), nil
	},
	Estimate: estimateIntercompany,
}

func prepareIntercompany(ctx context.Context, in *accountingv1.NetworkAnalysisInput) (IntercompanyJob, error) {
	lim := limits.From(ctx)
	if err := limits.Check("transactions", len(in.GetTransactions()), lim.MaxSamples); err != nil {
		return IntercompanyJob{}, err
	}
	job := IntercompanyJob{
		Txns: make([]intercompany.Txn, len(in.GetTransactions())),
		Params: intercompany.Params{
			Tolerance: registry.Or(in.ToleranceMinor, 0),
			MaxCycle:  int(registry.Or(in.MaxCycleLength, 5)),
			MaxCycles: lim.MaxOutputItems,
			MaxSteps:  16 * int64(lim.MaxIterations),
		},
	}
	seen := make(map[string]bool, len(in.GetTransactions()))
	for i, t := range in.GetTransactions() {
		f := func(name string) string { return fmt.Sprintf("transactions[%d].%s", i, name) }
		// protovalidate checks each field on the server; these checks keep
		// the engine safe when the Def is called directly.
		switch {
		case t.GetId() == "":
			return IntercompanyJob{}, kerr.Invalid(f("id"), "must not be empty")
		case seen[t.GetId()]:
			return IntercompanyJob{}, kerr.Invalid(f("id"), "duplicate id %q", t.GetId())
		case t.GetFromEntity() == "":
			return IntercompanyJob{}, kerr.Invalid(f("from_entity"), "must not be empty")
		case t.GetToEntity() == "":
			return IntercompanyJob{}, kerr.Invalid(f("to_entity"), "must not be empty")
		case t.GetCurrency() == "":
			return IntercompanyJob{}, kerr.Invalid(f("currency"), "must not be empty")
		case t.GetAmountMinor() < 0 || t.GetAmountMinor() > 1e12:
			return IntercompanyJob{}, kerr.Invalid(f("amount_minor"), "must be in 0..1e12, got %d", t.GetAmountMinor())
		}
		seen[t.GetId()] = true
		if _, ok := intercompany.Accounts[t.GetType()]; !ok {
			return IntercompanyJob{}, kerr.Invalid(f("type"), "must be TRADE, LOAN, DIVIDEND, MANAGEMENT_FEE, ROYALTY or OTHER, got %q", t.GetType())
		}
		if _, err := ledger.Date(f("date"), t.GetDate()); err != nil {
			return IntercompanyJob{}, err
		}
		rb := t.GetReportedBy()
		if rb != "" && rb != t.GetFromEntity() && rb != t.GetToEntity() {
			return IntercompanyJob{}, kerr.Invalid(f("reported_by"), "%q is neither from_entity %q nor to_entity %q", rb, t.GetFromEntity(), t.GetToEntity())
		}
		job.Txns[i] = intercompany.Txn{From: t.GetFromEntity(), To: t.GetToEntity(), Currency: t.GetCurrency(),
			Type: t.GetType(), Amount: t.GetAmountMinor(), Confirmed: t.GetStatus() == "CONFIRMED",
			Debtor: rb != "" && rb != t.GetFromEntity()}
	}
	return job, nil
}

// estimateIntercompany bounds the output: per creditor row at most two
// balance rows, one relationship, one mismatch and one elimination, and the
// cycles, whose number is at most Σ_k min(C(rows, k), P(entities, k)/k)
// (a cycle is k distinct arcs and k distinct entities) and at most the
// default output-item limit.
func estimateIntercompany(in *accountingv1.NetworkAnalysisInput) registry.Cost {
	txns := in.GetTransactions()
	var strBytes, maxEntity int64
	entities := make(map[string]struct{})
	for _, t := range txns {
		strBytes += int64(len(t.GetFromEntity()) + len(t.GetToEntity()) + len(t.GetCurrency()) + len(t.GetType()))
		maxEntity = max(maxEntity, int64(len(t.GetFromEntity())), int64(len(t.GetToEntity())))
		entities[t.GetFromEntity()] = struct{}{}
		entities[t.GetToEntity()] = struct{}{}
	}
	n := int64(len(txns))
	out := 64 + 5*strBytes + 300*n
	L := int(registry.Or(in.MaxCycleLength, 5))
	cycles := 0.0
	for k := 2; k <= L; k++ {
		cycles += min(binomial(float64(n), k), perm(float64(len(entities)), k)/float64(k))
	}
	cycles = min(cycles, float64(limits.Default().MaxOutputItems))
	maxCur := int64(0)
	for _, t := range txns {
		maxCur = max(maxCur, int64(len(t.GetCurrency())))
	}
	out += int64(cycles) * (int64(L)*(maxEntity+3) + maxCur + 24)
	return registry.Cost{WorkingBytes: 400*n + 2*out, OutputBytes: out, Work: float64(n)}
}

func binomial(n float64, k int) float64 {
	r := 1.0
	for i := range k {
		r = r * (n - float64(i)) / float64(i+1)
	}
	return math.Max(r, 0)
}

func perm(n float64, k int) float64 {
	r := 1.0
	for i := range k {
		r *= n - float64(i)
	}
	return math.Max(r, 0)
}

func intercompanyOutput(r intercompany.Result) *accountingv1.NetworkAnalysisOutput {
	out := &accountingv1.NetworkAnalysisOutput{}
	for _, b := range r.Balances {
		out.EntityBalances = append(out.EntityBalances, &accountingv1.IcEntityBalance{Entity: b.Entity,
			Currency: b.Currency, Receivable: b.Receivable, Payable: b.Payable, Net: b.Net})
	}
	for _, x := range r.Relationships {
		out.Relationships = append(out.Relationships, &accountingv1.IcRelationship{FromEntity: x.From,
			ToEntity: x.To, Currency: x.Currency, Amount: x.Amount, Count: int32(x.Count)})
	}
	for _, m := range r.Mismatches {
		out.Mismatches = append(out.Mismatches, &accountingv1.IcMismatch{FromEntity: m.From, ToEntity: m.To,
			Currency: m.Currency, Type: m.Type, Receivable: m.Receivable, Payable: m.Payable,
			Difference: m.Receivable - m.Payable})
	}
	for _, e := range r.Eliminations {
		out.Eliminations = append(out.Eliminations, &accountingv1.IcElimination{FromEntity: e.From, ToEntity: e.To,
			Currency: e.Currency, Type: e.Type, DebitAccount: e.Debit, CreditAccount: e.Credit, Amount: e.Amount})
	}
	for _, c := range r.Cycles {
		out.Cycles = append(out.Cycles, &accountingv1.IcCycle{Currency: c.Currency, Entities: c.Entities,
			Bottleneck: c.Bottleneck})
	}
	for _, n := range r.Netting {
		out.Netting = append(out.Netting, &accountingv1.IcNetting{Currency: n.Currency, Gross: n.Gross,
			SettlementVolume: n.Volume, Efficiency: n.Efficiency})
	}
	return out
}
