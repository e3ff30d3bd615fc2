package accounting

import (
	"context"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/flownet"
	"github.com/gokernels/gokernels/kernels/accounting/gaap"
	"github.com/gokernels/gokernels/kernels/accounting/ledger"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// GaapJob is the validated entries, their flow-network form, the master
// and the thresholds.
type GaapJob struct {
	Entries []*accountingv1.JournalEntry
	Network NetworkJob
	Master  ledger.Master
	Opt     gaap.Options
}

// GaapViolation is accounting/gaap-violation.
var GaapViolation = registry.Def[*accountingv1.GaapViolationInput, *accountingv1.GaapViolationOutput, GaapJob]{
	Meta: registry.Meta{
		ID: "accounting/gaap-violation", Domain: registry.DomainAccounting,
		Description: "GAAP / IFRS rule catalog over journal entries, driven by the account master's types and " +
			"attributes: offset income/expense, expensed fixed assets, suspense postings and uncleared balances, " +
			"revenue round trips on the flow network, unbalanced entries, inactive or unknown accounts.",
	},
	Prepare: func(ctx context.Context, in *accountingv1.GaapViolationInput) (GaapJob, error) {
		nj, err := prepareNetwork(ctx, &accountingv1.NetworkGenerationInput{Entries: in.GetEntries(), SuspenseAccount: in.SuspenseAccount})
		if err != nil {
			return GaapJob{}, err
		}
		if err := limits.Check("accounts", len(in.GetAccounts()), limits.From(ctx).MaxSamples); err != nil {
			return GaapJob{}, err
		}
		m, err := ledger.NewMaster(in.GetAccounts())
		if err != nil {
			return GaapJob{}, err
		}
		return GaapJob{Entries: in.GetEntries(), Network: nj, Master: m, Opt: gaap.Options{
			Capitalization: registry.Or(in.CapitalizationThresholdMinor, 500_000),
			SuspenseLarge:  registry.Or(in.SuspenseThresholdMinor, 1_000_000),
			RoundTrip:      registry.Or(in.RoundTripThresholdMinor, 100_000),
			WindowDays:     int64(registry.Or(in.WindowDays, 30)),
			MaxItems:       limits.From(ctx).MaxOutputItems,
		}}, nil
	},
	CPU: func(ctx context.Context, job GaapJob) (*accountingv1.GaapViolationOutput, error) {
		g := flownet.New(job.Network.Opt)
		var flows []flownet.Flow
		for i, e := range job.Network.Entries {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			fs, _ := g.Solve(e)
			flows = append(flows, fs...)
		}
		return gaap.Check(ctx, job.Entries, job.Master, flows, job.Opt)
	},
	Estimate: func(in *accountingv1.GaapViolationInput) registry.Cost {
		n := int64(lineCount(in.GetEntries()) + len(in.GetAccounts()))
		return registry.Cost{WorkingBytes: 1000 * n, OutputBytes: 300 * n, Work: float64(n)}
	},
}
