package accounting

import (
	"cmp"
	"context"
	"slices"
	"strings"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/flownet"
	"github.com/gokernels/gokernels/kernels/accounting/ledger"
	"github.com/gokernels/gokernels/kernels/accounting/suspense"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// SuspenseJob is the entries in flow-network form, their posting days and
// the detector's options.
type SuspenseJob struct {
	Network NetworkJob
	Days    []int64 // per entry, days since the epoch
	Opt     suspense.Options
}

// SuspenseDetection is accounting/suspense-detection.
var SuspenseDetection = registry.Def[*accountingv1.SuspenseDetectionInput, *accountingv1.SuspenseDetectionOutput, SuspenseJob]{
	Meta: registry.Meta{
		ID: "accounting/suspense-detection", Domain: registry.DomainAccounting,
		Description: "Suspense / clearing account detection: Brandes betweenness on the flow network, turnover, " +
			"FIFO holding period, balance ratio, counterparties and naming, scored with upstream's weights.",
	},
	Prepare: prepareSuspense,
	CPU: func(ctx context.Context, job SuspenseJob) (*accountingv1.SuspenseDetectionOutput, error) {
		g := flownet.New(job.Network.Opt)
		var flows []flownet.Flow
		var postings []suspense.Posting
		for i, e := range job.Network.Entries {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			fs, res := g.Solve(e)
			flows = append(flows, fs...)
			lines := append(slices.Clone(e.Lines), res.Suspense...)
			slices.SortFunc(lines, func(a, b flownet.Line) int { return cmp.Compare(a.No, b.No) })
			for _, l := range lines {
				postings = append(postings, suspense.Posting{Account: l.Account, Day: job.Days[i], Debit: l.Debit, Credit: l.Credit})
			}
		}
		// FIFO order: (posting date, entry input order, line_no); the
		// entries' lines are already in that order within each entry.
		slices.SortStableFunc(postings, func(a, b suspense.Posting) int { return cmp.Compare(a.Day, b.Day) })
		_, edges := flownet.Network(flows)
		r, err := suspense.Detect(ctx, postings, edges, job.Opt)
		if err != nil {
			return nil, err
		}
		out := &accountingv1.SuspenseDetectionOutput{HighRisk: r.HighRisk, AccountsAnalyzed: int32(len(r.Accounts))}
		for _, a := range r.Candidates {
			out.Candidates = append(out.Candidates, &accountingv1.SuspenseCandidate{Account: a.Code, Name: a.Name,
				Score: a.Score, Level: a.Level, Indicators: a.Indicators, Centrality: a.Centrality, Turnover: a.Turnover,
				HoldingDays: a.HoldingDays, Counterparties: int32(a.Counterparties), BalanceRatio: a.BalanceRatio,
				EndBalance: a.EndBalance})
		}
		return out, nil
	},
	Estimate: func(in *accountingv1.SuspenseDetectionInput) registry.Cost {
		n := int64(lineCount(in.GetEntries()) + len(in.GetAccounts()))
		// Betweenness is O(V·E) on the account graph; V is bounded by the lines.
		return registry.Cost{WorkingBytes: 1000 * n, OutputBytes: 200 * n, Work: float64(n)}
	},
}

// defaultKeywords are the SUSPENSE_NAMING keywords (domains.md §9).
var defaultKeywords = []string{"suspense", "clearing", "transit", "holding", "temporary", "wash"}

func prepareSuspense(ctx context.Context, in *accountingv1.SuspenseDetectionInput) (SuspenseJob, error) {
	nj, err := prepareNetwork(ctx, &accountingv1.NetworkGenerationInput{Entries: in.GetEntries(), SuspenseAccount: in.SuspenseAccount})
	if err != nil {
		return SuspenseJob{}, err
	}
	if _, err := ledger.NewMaster(in.GetAccounts()); err != nil { // unique codes, valid types
		return SuspenseJob{}, err
	}
	job := SuspenseJob{Network: nj, Days: make([]int64, len(in.GetEntries()))}
	latest := int64(-1 << 62)
	for i, e := range in.GetEntries() {
		t, _ := ledger.Date("", e.GetPostingDate()) // checked by prepareNetwork
		job.Days[i] = t.Unix() / 86400
		latest = max(latest, job.Days[i])
	}
	asOf := latest
	if in.GetAsOf() != "" {
		t, err := ledger.Date("as_of", in.GetAsOf())
		if err != nil {
			return SuspenseJob{}, err
		}
		asOf = t.Unix() / 86400
		if len(job.Days) > 0 && asOf < latest {
			return SuspenseJob{}, kerr.Invalid("as_of", "%s is before the latest posting date", in.GetAsOf())
		}
	}
	names := make(map[string]string, len(in.GetAccounts()))
	for _, a := range in.GetAccounts() {
		names[a.GetCode()] = a.GetName()
	}
	kw := in.GetKeywords()
	if len(kw) == 0 {
		kw = defaultKeywords
	}
	lower := make([]string, len(kw))
	for i, k := range kw {
		lower[i] = strings.ToLower(k)
	}
	t := in.GetThresholds()
	if t == nil {
		t = &accountingv1.SuspenseThresholds{}
	}
	job.Opt = suspense.Options{Names: names, Keywords: lower, AsOf: asOf, T: suspense.Thresholds{
		Centrality:     registry.Or(t.Centrality, 0.1),
		Turnover:       registry.Or(t.Turnover, 10),
		HoldingDays:    registry.Or(t.HoldingDays, 7),
		BalanceRatio:   registry.Or(t.BalanceRatio, 0.9),
		Counterparties: int(registry.Or(t.Counterparties, 5)),
		ZeroBalance:    registry.Or(t.ZeroBalanceMinor, 10000),
	}}
	return job, nil
}
