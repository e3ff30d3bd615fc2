package accounting

import (
	"context"
	"fmt"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/flownet"
	"github.com/gokernels/gokernels/kernels/accounting/ledger"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// NetworkJob is the converted entries and the generator's options.
type NetworkJob struct {
	Entries []flownet.Entry
	Opt     flownet.Options
}

// NetworkGeneration is accounting/network-generation.
var NetworkGeneration = registry.Def[*accountingv1.NetworkGenerationInput, *accountingv1.NetworkGenerationOutput, NetworkJob]{
	Meta: registry.Meta{
		ID: "accounting/network-generation", Domain: registry.DomainAccounting,
		Description: "Journal entries → account flow network: per entry and currency an exact integer flow matrix " +
			"(credited → debited account; steps A, E, B, C, D = north-west corner), unbalanced currencies routed " +
			"through a suspense line; flows sum back exactly to every line.",
	},
	Prepare: prepareNetwork,
	CPU: func(ctx context.Context, job NetworkJob) (*accountingv1.NetworkGenerationOutput, error) {
		g := flownet.New(job.Opt)
		lines := 0
		for _, e := range job.Entries {
			lines += len(e.Lines)
		}
		// Flows ≤ lines + suspense lines (one per unbalanced currency):
		// sized once, the 500k-flow append no longer copies itself ~20 times.
		out := &accountingv1.NetworkGenerationOutput{Entries: make([]*accountingv1.EntryResult, 0, len(job.Entries))}
		all := make([]flownet.Flow, 0, lines+len(job.Entries))
		for i, e := range job.Entries {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			flows, res := g.Solve(e)
			all = append(all, flows...)
			er := entryResult(res)
			out.Entries = append(out.Entries, er)
		}
		out.Flows = flowMessages(all)
		nodes, edges := flownet.Network(all)
		out.Nodes = nodes
		for _, e := range edges {
			out.Edges = append(out.Edges, &accountingv1.NetworkEdge{From: e.From, To: e.To, Currency: e.Currency,
				AmountMinor: e.Amount, Flows: int32(e.Flows)})
		}
		return out, nil
	},
	Estimate: func(in *accountingv1.NetworkGenerationInput) registry.Cost {
		n := int64(lineCount(in.GetEntries()))
		return registry.Cost{WorkingBytes: 800 * n, OutputBytes: 600 * n, Work: float64(n)}
	},
}

func lineCount(entries []*accountingv1.JournalEntry) int {
	n := len(entries)
	for _, e := range entries {
		n += len(e.GetLines())
	}
	return n
}

func prepareNetwork(ctx context.Context, in *accountingv1.NetworkGenerationInput) (NetworkJob, error) {
	if err := limits.Check("entries", lineCount(in.GetEntries()), limits.From(ctx).MaxSamples); err != nil {
		return NetworkJob{}, err
	}
	if err := ledger.CheckEntries(in.GetEntries()); err != nil {
		return NetworkJob{}, err
	}
	job := NetworkJob{Opt: flownet.Options{
		SuspenseAccount: registry.Or(in.SuspenseAccount, "SUSPENSE"),
		MaxSubsetLines:  int(registry.Or(in.MaxSubsetLines, 12)),
	}}
	job.Entries = make([]flownet.Entry, len(in.GetEntries()))
	for i, e := range in.GetEntries() {
		fe := flownet.Entry{ID: e.GetId(), PostingDate: e.GetPostingDate(), Lines: make([]flownet.Line, len(e.GetLines()))}
		for j, l := range e.GetLines() {
			f := func(name string) string { return fmt.Sprintf("entries[%d].lines[%d].%s", i, j, name) }
			d, c := l.GetDebitMinor(), l.GetCreditMinor()
			switch {
			case d < 0:
				return NetworkJob{}, kerr.Invalid(f("debit_minor"), "must be ≥ 0, got %d", d)
			case c < 0:
				return NetworkJob{}, kerr.Invalid(f("credit_minor"), "must be ≥ 0, got %d", c)
			case (d > 0) == (c > 0):
				return NetworkJob{}, kerr.Invalid(f("debit_minor"), "exactly one of debit_minor (%d) and credit_minor (%d) must be > 0", d, c)
			case l.GetAccount() == "":
				return NetworkJob{}, kerr.Invalid(f("account"), "must not be empty")
			case l.GetCurrency() == "":
				return NetworkJob{}, kerr.Invalid(f("currency"), "must not be empty")
			}
			fe.Lines[j] = flownet.Line{No: l.GetLineNo(), Account: l.GetAccount(), Entity: l.GetEntityId(),
				Currency: l.GetCurrency(), Debit: d, Credit: c}
		}
		job.Entries[i] = fe
	}
	return job, nil
}

func entryResult(res flownet.Result) *accountingv1.EntryResult {
	er := &accountingv1.EntryResult{EntryId: res.EntryID, Methods: res.Methods}
	for _, l := range res.Suspense {
		er.SuspenseLines = append(er.SuspenseLines, &accountingv1.SuspenseLine{LineNo: l.No, Account: l.Account,
			DebitMinor: l.Debit, CreditMinor: l.Credit, Currency: l.Currency, EntityId: l.Entity})
	}
	return er
}

func flowMessages(flows []flownet.Flow) []*accountingv1.Flow {
	out := make([]*accountingv1.Flow, len(flows))
	for i, f := range flows {
		out[i] = &accountingv1.Flow{FlowId: f.ID, EntryId: f.EntryID, FromAccount: f.From, ToAccount: f.To,
			AmountMinor: f.Amount, Currency: f.Currency, PostingDate: f.PostingDate, Method: f.Method,
			FromEntity: f.FromEntity, ToEntity: f.ToEntity, Intercompany: f.FromEntity != f.ToEntity,
			SourceLines: []int32{f.CreditLine, f.DebitLine}}
	}
	return out
}
