package accounting

import (
	"context"
	"fmt"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/ledger"
	"github.com/gokernels/gokernels/kernels/accounting/reconcile"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// ReconcileJob is the converted items and the matching parameters.
type ReconcileJob struct {
	Sources, Targets []reconcile.Item
	Params           reconcile.Params
}

// GlReconciliation is accounting/gl-reconciliation.
var GlReconciliation = registry.Def[*accountingv1.GlReconciliationInput, *accountingv1.GlReconciliationOutput, ReconcileJob]{
	Meta: registry.Meta{
		ID: "accounting/gl-reconciliation", Domain: registry.DomainAccounting,
		Description: "Ledger vs statement reconciliation per (account, currency) in integer minor units: EXACT " +
			"(reference), TOLERANCE (min-cost maximum one-to-one matching), MANY_TO_ONE / ONE_TO_MANY (smallest " +
			"subsets), duplicates and exceptions; no item is used twice.",
	},
	Prepare: prepareReconcile,
	CPU: func(ctx context.Context, job ReconcileJob) (*accountingv1.GlReconciliationOutput, error) {
		res, err := reconcile.Run(ctx, job.Sources, job.Targets, job.Params)
		if err != nil {
			return nil, err
		}
		return reconcileOutput(job, res), nil
	},
	Estimate: func(in *accountingv1.GlReconciliationInput) registry.Cost {
		n := int64(len(in.GetSources()) + len(in.GetTargets()))
		return registry.Cost{WorkingBytes: 400 * n, OutputBytes: 200 * n, Work: float64(n)}
	},
}

func prepareReconcile(ctx context.Context, in *accountingv1.GlReconciliationInput) (ReconcileJob, error) {
	if err := limits.Check("sources", len(in.GetSources())+len(in.GetTargets()), limits.From(ctx).MaxSamples); err != nil {
		return ReconcileJob{}, err
	}
	job := ReconcileJob{Params: reconcile.Params{
		AbsTol:            registry.Or(in.AbsTolMinor, 100),
		PctTol:            registry.Or(in.PctTol, 0.001),
		DateTol:           int64(registry.Or(in.DateTolDays, 3)),
		Lambda:            registry.Or(in.LambdaPerDayMinor, 1),
		MaxGroup:          int(registry.Or(in.MaxGroup, 3)),
		VarianceThreshold: registry.Or(in.VarianceThresholdMinor, 0),
		ManyToOne:         registry.Or(in.ManyToOne, true),
		OneToMany:         registry.Or(in.OneToMany, true),
		DuplicateDays:     int64(registry.Or(in.DuplicateDays, 7)),
		MaxPairs:          limits.From(ctx).MaxEdges / 4,
		MaxSubsets:        16 * limits.From(ctx).MaxIterations,
	}}
	var err error
	if job.Sources, err = reconcileItems("sources", in.GetSources()); err != nil {
		return ReconcileJob{}, err
	}
	job.Targets, err = reconcileItems("targets", in.GetTargets())
	return job, err
}

func reconcileItems(field string, items []*accountingv1.ReconciliationItem) ([]reconcile.Item, error) {
	out := make([]reconcile.Item, len(items))
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		f := func(name string) string { return fmt.Sprintf("%s[%d].%s", field, i, name) }
		if seen[it.GetId()] {
			return nil, kerr.Invalid(f("id"), "duplicate id %q", it.GetId())
		}
		seen[it.GetId()] = true
		d, err := ledger.Date(f("date"), it.GetDate())
		if err != nil {
			return nil, err
		}
		out[i] = reconcile.Item{ID: it.GetId(), Account: it.GetAccount(), Currency: it.GetCurrency(),
			Reference: it.GetReference(), Amount: it.GetAmountMinor(), Day: d.Unix() / 86400}
	}
	return out, nil
}

func reconcileOutput(job ReconcileJob, res reconcile.Result) *accountingv1.GlReconciliationOutput {
	ids := func(items []reconcile.Item, idx []int) []string {
		out := make([]string, len(idx))
		for i, x := range idx {
			out[i] = items[x].ID
		}
		return out
	}
	out := &accountingv1.GlReconciliationOutput{
		UnmatchedSources: ids(job.Sources, res.UnmatchedSources),
		UnmatchedTargets: ids(job.Targets, res.UnmatchedTargets),
		Stats: &accountingv1.ReconciliationStats{
			MatchedSources: int32(len(job.Sources) - len(res.UnmatchedSources)),
			MatchedTargets: int32(len(job.Targets) - len(res.UnmatchedTargets)),
			Pass2Count:     int32(res.Pass2Count), Pass2Cost: res.Pass2Cost,
		},
	}
	for _, m := range res.Matches {
		sIDs, tIDs := ids(job.Sources, m.Sources), ids(job.Targets, m.Targets)
		out.Matches = append(out.Matches, &accountingv1.ReconciliationMatch{Type: reconcile.TypeNames[m.Type],
			SourceIds: sIDs, TargetIds: tIDs, Variance: m.Variance, Account: m.Account, Currency: m.Currency})
		if m.Variance > job.Params.VarianceThreshold || -m.Variance > job.Params.VarianceThreshold {
			out.Exceptions = append(out.Exceptions, &accountingv1.ReconciliationException{Type: "AMOUNT_VARIANCE",
				Ids: append(sIDs, tIDs...), Amount: m.Variance})
		}
	}
	for side, items := range [2][]reconcile.Item{job.Sources, job.Targets} {
		name, unmatched := "source", res.UnmatchedSources
		if side == 1 {
			name, unmatched = "target", res.UnmatchedTargets
		}
		for _, i := range unmatched {
			out.Exceptions = append(out.Exceptions, &accountingv1.ReconciliationException{Type: "MISSING_COUNTERPART",
				Ids: []string{items[i].ID}, Side: name, Amount: items[i].Amount})
		}
	}
	for _, d := range res.Duplicates {
		items, name := job.Targets, "target"
		if d.Source {
			items, name = job.Sources, "source"
		}
		out.Exceptions = append(out.Exceptions, &accountingv1.ReconciliationException{Type: "DUPLICATE",
			Ids: []string{items[d.A].ID, items[d.B].ID}, Side: name, Amount: items[d.A].Amount})
	}
	return out
}
