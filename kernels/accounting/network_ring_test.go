package accounting

import (
	"bytes"
	"context"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/ring/ringreplay"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// ringCases decodes the valid inputs of the network-generation fixtures
// (the ring's Batch input has the same fields).
func ringCases(t *testing.T) []*accountingv1.NetworkGenerationRingInput {
	t.Helper()
	files := fixture.DomainFiles(t, "accounting")
	var out []*accountingv1.NetworkGenerationRingInput
	for _, id := range []string{"accounting/network-generation", "accounting/network-generation-ring"} {
		for _, c := range fixture.KernelFile(t, files, id).Cases {
			if c.ErrorField != "" {
				continue
			}
			in := &accountingv1.NetworkGenerationRingInput{}
			if err := jsoninput.Decode(c.Input, in); err != nil {
				t.Fatal(err)
			}
			out = append(out, in)
		}
	}
	return out
}

// The ring's Batch output has network-generation's nodes and edges on the
// same entries, and its movements obey inflow − outflow = debit − credit.
func TestRingBatchEqualsNetworkGeneration(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	ng, _ := r.Get("accounting/network-generation")
	ngr, _ := r.Get("accounting/network-generation-ring")
	for i, in := range ringCases(t) {
		want, err := ng.Run(ctx, ringAsBatch(in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ngr.Run(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		w, g := want.(*accountingv1.NetworkGenerationOutput), got.(*accountingv1.NetworkGenerationRingOutput)
		if !proto.Equal(&accountingv1.NetworkGenerationOutput{Nodes: w.Nodes, Edges: w.Edges},
			&accountingv1.NetworkGenerationOutput{Nodes: g.Nodes, Edges: g.Edges}) {
			t.Fatalf("case %d: ring network differs from network-generation's", i)
		}
		if g.Flows != int64(len(w.Flows)) || g.Entries != int64(len(w.Entries)) {
			t.Fatalf("case %d: %d flows %d entries, network-generation %d / %d", i, g.Flows, g.Entries, len(w.Flows), len(w.Entries))
		}
		for _, m := range g.Movements {
			if m.InflowMinor-m.OutflowMinor != m.DebitMinor-m.CreditMinor {
				t.Fatalf("case %d: movement %v breaks inflow − outflow = debit − credit", i, m)
			}
		}
	}
}

// TestRingReplayLaw feeds each Batch input to a JOURNAL ring as one-entry
// data messages in posting_date order, then Snapshot, and compares with
// the Batch output; then it rebuilds the ring from its journal alone (as
// after a crash) and compares the encoded states byte for byte. The
// emitted events carry every flow once, with ids 1..n.
func TestRingReplayLaw(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	const id = "accounting/network-generation-ring"
	k, _ := reg.Get(id)
	h, ok := k.RingHandler()
	if !ok {
		t.Fatal("no ring handler")
	}
	checked := 0
	for ci, in := range ringCases(t) {
		want, err := k.Run(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, msgs := h.Split(in); len(msgs) < 2 {
			continue
		}
		checked++
		// Through a JOURNAL ring; the journal alone must rebuild
		// byte-identical state (ringreplay.Run checks it).
		got, events := ringreplay.Run(t, reg, id, in)
		var flows uint64
		for _, ev := range events {
			out, ok := ev.Payload.(*accountingv1.NetworkGenerationOutput)
			if !ok {
				t.Fatalf("event payload %T", ev.Payload)
			}
			for _, f := range out.Flows {
				if flows++; f.FlowId != flows {
					t.Fatalf("case %d: flow id %d, want %d", ci, f.FlowId, flows)
				}
			}
		}
		if int64(flows) != want.(*accountingv1.NetworkGenerationRingOutput).Flows {
			t.Fatalf("case %d: %d flows emitted, Batch made %d", ci, flows, want.(*accountingv1.NetworkGenerationRingOutput).Flows)
		}
		if !proto.Equal(want, got) {
			t.Fatalf("case %d: ring snapshot differs from Batch:\nbatch %.600s\nring  %.600s", ci, prototext.Format(want), prototext.Format(got))
		}
	}
	if checked < 3 {
		t.Fatalf("only %d fixture cases replayed", checked)
	}
}

// Out-of-order dates, replayed ids, parameters in data messages and
// entries in Configure are refused naming the field, and a refused message
// leaves the state unchanged.
func TestRingRefusesAndKeepsState(t *testing.T) {
	reg := newRegistry(t)
	k, _ := reg.Get("accounting/network-generation-ring")
	h, _ := k.RingHandler()
	entry := func(id, date string) *accountingv1.JournalEntry {
		return &accountingv1.JournalEntry{Id: id, PostingDate: date, Lines: []*accountingv1.JournalLine{
			{LineNo: 1, Account: "1000", DebitMinor: 500, Currency: "EUR"},
			{LineNo: 2, Account: "4000", CreditMinor: 400, Currency: "EUR"}}}
	}
	msg := func(es ...*accountingv1.JournalEntry) *accountingv1.NetworkGenerationRingInput {
		return &accountingv1.NetworkGenerationRingInput{Entries: es}
	}
	if err := h.Configure(context.Background(), msg(entry("a", "2025-01-01"))); fieldOf(err) != "entries" {
		t.Fatalf("entries in Configure: %v", err)
	}
	if err := h.Apply(nil, msg(entry("a", "2025-02-01"))); err != nil {
		t.Fatal(err)
	}
	before, _ := h.MarshalState()
	for _, c := range []struct {
		in    *accountingv1.NetworkGenerationRingInput
		field string
	}{
		{msg(entry("b", "2025-02-02"), entry("c", "2025-01-31")), "entries[1].posting_date"},
		{msg(entry("b", "2025-02-02"), entry("a", "2025-02-03")), "entries[1].id"},
		{&accountingv1.NetworkGenerationRingInput{Entries: []*accountingv1.JournalEntry{entry("d", "2025-03-01")}, MaxSubsetLines: proto.Int32(3)}, "suspense_account"},
		{msg(entry("b", "2025-02-30")), "entries[0].posting_date"},
	} {
		if err := h.Apply(nil, c.in); fieldOf(err) != c.field {
			t.Fatalf("want a 400 naming %s, got %v", c.field, err)
		}
		if after, _ := h.MarshalState(); !bytes.Equal(before, after) {
			t.Fatalf("refused message (%s) changed the state", c.field)
		}
	}
	out, err := h.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	o := out.(*accountingv1.NetworkGenerationRingOutput)
	if o.Entries != 1 || o.SuspenseLines != 1 || o.LastPostingDate != "2025-02-01" {
		t.Fatalf("snapshot after one entry: %v", o)
	}
}

func fieldOf(err error) string {
	if fe, ok := kerr.AsField(err); ok {
		return fe.Field
	}
	return ""
}

// checkRingLaws: per (account, currency) inflow − outflow = debit − credit;
// Σ edge amounts = Σ volumes; the method flow counts sum to flows.
func checkRingLaws(t *testing.T, _ fixture.Case, out map[string]any) {
	t.Helper()
	for _, m := range orEmpty(out["movements"]).([]any) {
		m := m.(map[string]any)
		if num(orZero(m["inflow_minor"]))-num(orZero(m["outflow_minor"])) != num(orZero(m["debit_minor"]))-num(orZero(m["credit_minor"])) {
			t.Fatalf("movement %v: inflow − outflow ≠ debit − credit", m)
		}
	}
	var edges, vols, flows, methodFlows int64
	for _, e := range orEmpty(out["edges"]).([]any) {
		edges += num(e.(map[string]any)["amount_minor"])
		flows += num(e.(map[string]any)["flows"])
	}
	for _, v := range orEmpty(out["volumes"]).([]any) {
		vols += num(v.(map[string]any)["amount_minor"])
	}
	for _, m := range orEmpty(out["methods"]).([]any) {
		methodFlows += num(orZero(m.(map[string]any)["flows"]))
	}
	if edges != vols || flows != num(orZero(out["flows"])) || methodFlows != flows {
		t.Fatalf("edges %d vs volumes %d; edge flows %d, flows %v, method flows %d", edges, vols, flows, out["flows"], methodFlows)
	}
}
