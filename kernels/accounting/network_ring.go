package accounting

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/flownet"
	"github.com/gokernels/gokernels/kernels/accounting/netring"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// NetworkGenerationRing is accounting/network-generation-ring: Batch is
// the fold over the entries in posting_date order; Ring runs the same fold
// one message at a time (NetworkRingSpec).
var NetworkGenerationRing = registry.Def[*accountingv1.NetworkGenerationRingInput, *accountingv1.NetworkGenerationRingOutput, NetworkJob]{
	Meta: registry.Meta{
		ID: "accounting/network-generation-ring", Domain: registry.DomainAccounting,
		Description: "Streaming twin of network-generation: entries folded in posting_date order into running " +
			"aggregated edges, per-account movements and counters (exact minor units); Snapshot = the network.",
		Modes: []registry.Mode{registry.Batch, registry.Ring},
	},
	Prepare: func(ctx context.Context, in *accountingv1.NetworkGenerationRingInput) (NetworkJob, error) {
		job, err := prepareNetwork(ctx, ringAsBatch(in))
		if err != nil {
			return NetworkJob{}, err
		}
		slices.SortStableFunc(job.Entries, func(a, b flownet.Entry) int { return strings.Compare(a.PostingDate, b.PostingDate) })
		var total int64
		for i, e := range job.Entries {
			v := netring.EntryVolume(e)
			if v > netring.MaxVolume-total {
				return NetworkJob{}, kerr.Invalid(fmt.Sprintf("entries[%d]", i), "the entries' Σ|amounts| exceeds %d minor units", netring.MaxVolume)
			}
			total += v
		}
		return job, nil
	},
	CPU: func(ctx context.Context, job NetworkJob) (*accountingv1.NetworkGenerationRingOutput, error) {
		s := netring.New(job.Opt)
		for i, e := range job.Entries {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			s.Apply(e)
		}
		return ringOutput(s), nil
	},
	Estimate: func(in *accountingv1.NetworkGenerationRingInput) registry.Cost {
		n := int64(lineCount(in.GetEntries()))
		return registry.Cost{WorkingBytes: 600 * n, OutputBytes: 200 * n, Work: float64(n)}
	},
	Ring: func() fold.Handler { return NetworkRingSpec.New() },
}

func ringAsBatch(in *accountingv1.NetworkGenerationRingInput) *accountingv1.NetworkGenerationInput {
	return &accountingv1.NetworkGenerationInput{Entries: in.GetEntries(), SuspenseAccount: in.SuspenseAccount, MaxSubsetLines: in.MaxSubsetLines}
}

// NetworkRingSpec is the ring handler: Configure takes the parameters,
// each data message's entries are validated as network-generation's, then
// checked against the ring (posting_date not before the latest accepted,
// ids not seen) before any is applied, so a refused message changes
// nothing.
var NetworkRingSpec = fold.Spec[*accountingv1.NetworkGenerationRingInput, *accountingv1.NetworkGenerationRingOutput, netring.State]{
	Messages: fold.Messages{Events: []fold.EventType{
		{Kind: "entry", Message: &accountingv1.NetworkGenerationOutput{}, Doc: "After a data message with " +
			"entries: the flows they generated and each entry's result (method, confidence), as the Batch " +
			"network-generation output of those entries."},
	}},
	Configure: func(ctx context.Context, in *accountingv1.NetworkGenerationRingInput) (*netring.State, error) {
		if len(in.GetEntries()) > 0 {
			return nil, kerr.Invalid("entries", "Configure takes the parameters only; send entries as data messages")
		}
		job, err := prepareNetwork(ctx, ringAsBatch(in))
		if err != nil {
			return nil, err
		}
		return netring.New(job.Opt), nil
	},
	Apply: func(rc fold.Context, s *netring.State, in *accountingv1.NetworkGenerationRingInput) error {
		if in.SuspenseAccount != nil || in.MaxSubsetLines != nil {
			return kerr.Invalid("suspense_account", "parameters go in Configure; data messages carry entries only")
		}
		var ctx context.Context = context.Background()
		if rc != nil {
			ctx = rc
		}
		job, err := prepareNetwork(ctx, ringAsBatch(in))
		if err != nil {
			return err
		}
		last, volume := s.LastPostingDate, int64(0)
		for i, e := range job.Entries {
			if e.PostingDate < last {
				return kerr.Invalid(fmt.Sprintf("entries[%d].posting_date", i), "posting_date %s is before the latest accepted %s (out of order; state unchanged)", e.PostingDate, last)
			}
			last = e.PostingDate
			if s.EntryIDs[e.ID] {
				return kerr.Invalid(fmt.Sprintf("entries[%d].id", i), "entry id %q was already applied to this ring", e.ID)
			}
			v := netring.EntryVolume(e)
			if v > netring.MaxVolume-s.LineVolume-volume {
				return kerr.Invalid(fmt.Sprintf("entries[%d]", i), "the ring's Σ|amounts| would exceed %d minor units", netring.MaxVolume)
			}
			volume += v
		}
		ev := &accountingv1.NetworkGenerationOutput{}
		for _, e := range job.Entries {
			flows, res := s.Apply(e)
			ev.Flows = append(ev.Flows, flowMessages(flows)...)
			ev.Entries = append(ev.Entries, entryResult(res))
		}
		if rc != nil && len(job.Entries) > 0 {
			rc.Emit("entry", ev)
		}
		return nil
	},
	Snapshot: func(_ context.Context, s *netring.State) (*accountingv1.NetworkGenerationRingOutput, error) {
		return ringOutput(s), nil
	},
	Split: func(in *accountingv1.NetworkGenerationRingInput) (*accountingv1.NetworkGenerationRingInput, []*accountingv1.NetworkGenerationRingInput) {
		cfg := &accountingv1.NetworkGenerationRingInput{SuspenseAccount: in.SuspenseAccount, MaxSubsetLines: in.MaxSubsetLines}
		entries := slices.Clone(in.GetEntries())
		slices.SortStableFunc(entries, func(a, b *accountingv1.JournalEntry) int {
			return cmp.Compare(a.GetPostingDate(), b.GetPostingDate())
		})
		data := make([]*accountingv1.NetworkGenerationRingInput, len(entries))
		for i, e := range entries {
			data[i] = &accountingv1.NetworkGenerationRingInput{Entries: []*accountingv1.JournalEntry{e}}
		}
		return cfg, data
	},
}

func ringOutput(s *netring.State) *accountingv1.NetworkGenerationRingOutput {
	sorted := s.Sorted()
	out := &accountingv1.NetworkGenerationRingOutput{Nodes: sorted.Nodes, Entries: s.Entries, Flows: s.Flows,
		SuspenseLines: s.SuspenseLines, LastPostingDate: s.LastPostingDate}
	for _, e := range sorted.Edges {
		out.Edges = append(out.Edges, &accountingv1.NetworkEdge{From: e.From, To: e.To, Currency: e.Currency,
			AmountMinor: e.Amount, Flows: int32(min(e.Flows, 1<<31-1))})
	}
	for _, m := range sorted.Movements {
		out.Movements = append(out.Movements, &accountingv1.AccountMovement{Account: m.Account, Currency: m.Currency,
			DebitMinor: m.Debit, CreditMinor: m.Credit, InflowMinor: m.In, OutflowMinor: m.Out})
	}
	for _, m := range sorted.Methods {
		mc := s.Methods[m]
		out.Methods = append(out.Methods, &accountingv1.MethodCount{Method: m, Entries: mc.Entries, Flows: mc.Flows})
	}
	for _, c := range sorted.Volumes {
		v := s.Volumes[c]
		out.Volumes = append(out.Volumes, &accountingv1.CurrencyVolume{Currency: c, AmountMinor: v.Amount, Flows: v.Flows})
	}
	return out
}
