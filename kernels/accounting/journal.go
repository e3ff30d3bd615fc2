package accounting

import (
	"context"
	"fmt"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/journal"
	"github.com/gokernels/gokernels/kernels/accounting/ledger"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// TransformJob is the entries and the transform's options.
type TransformJob struct {
	Entries []*accountingv1.JournalEntry
	Opt     journal.Options
}

// JournalTransform is accounting/journal-transform.
var JournalTransform = registry.Def[*accountingv1.JournalTransformInput, *accountingv1.JournalTransformOutput, TransformJob]{
	Meta: registry.Meta{
		ID: "accounting/journal-transform", Domain: registry.DomainAccounting,
		Description: "Journal entries → general ledger: exact minor-unit validation (findings, not errors), " +
			"mapping by largest-remainder splits that sum back to each line, and a trial balance per " +
			"(entity, account, currency, calendar or fiscal period) that always balances.",
	},
	Prepare: prepareTransform,
	CPU: func(ctx context.Context, job TransformJob) (*accountingv1.JournalTransformOutput, error) {
		return journal.Transform(ctx, job.Entries, job.Opt)
	},
	Estimate: func(in *accountingv1.JournalTransformInput) registry.Cost {
		n := int64(lineCount(in.GetEntries()) + len(in.GetAccounts()) + len(in.GetMapping()))
		return registry.Cost{WorkingBytes: 900 * n, OutputBytes: 700 * n, Work: float64(n)}
	},
}

func prepareTransform(ctx context.Context, in *accountingv1.JournalTransformInput) (TransformJob, error) {
	lim := limits.From(ctx).MaxSamples
	if err := limits.Check("entries", lineCount(in.GetEntries()), lim); err != nil {
		return TransformJob{}, err
	}
	if err := limits.Check("accounts", len(in.GetAccounts())+len(in.GetMapping()), lim); err != nil {
		return TransformJob{}, err
	}
	if err := ledger.CheckEntries(in.GetEntries()); err != nil {
		return TransformJob{}, err
	}
	master, err := ledger.NewMaster(in.GetAccounts())
	if err != nil {
		return TransformJob{}, err
	}
	job := TransformJob{Entries: in.GetEntries(), Opt: journal.Options{
		Master: master, Mapping: make(map[string][]journal.Share, len(in.GetMapping())),
		PreserveUnmapped: registry.Or(in.PreserveUnmapped, true),
		FYStartMonth:     int(registry.Or(in.FiscalYearStartMonth, 1)),
	}}
	for i, m := range in.GetMapping() {
		if _, dup := job.Opt.Mapping[m.GetAccount()]; dup {
			return TransformJob{}, kerr.Invalid(fmt.Sprintf("mapping[%d].account", i), "duplicate source account %q", m.GetAccount())
		}
		if err := ledger.CheckShares(fmt.Sprintf("mapping[%d].targets", i), m.GetTargets()); err != nil {
			return TransformJob{}, err
		}
		shares := make([]journal.Share, len(m.GetTargets()))
		for k, t := range m.GetTargets() {
			shares[k] = journal.Share{Code: t.GetCode(), Ratio: t.GetRatio()}
		}
		job.Opt.Mapping[m.GetAccount()] = shares
	}
	return job, nil
}
