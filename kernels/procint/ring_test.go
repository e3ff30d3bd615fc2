package procint

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/procint/conformance"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
	"github.com/gokernels/gokernels/ring/ringreplay"
	"github.com/gokernels/gokernels/server/jsoninput"
)

func conformanceInputs(t *testing.T) []*procintv1.ConformanceInput {
	t.Helper()
	var out []*procintv1.ConformanceInput
	files := fixture.DomainFiles(t, "procint")
	for _, c := range fixture.KernelFile(t, files, conformance.Kernel.ID).Cases {
		if c.ErrorField != "" {
			continue
		}
		in := &procintv1.ConformanceInput{}
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatal(err)
		}
		out = append(out, in)
	}
	return out
}

// TestConformanceRingReplayLaw: every fixture input fed as one event per
// message (ts order), with a state round trip half-way, then Snapshot,
// equals Batch; the deviations emitted when events arrive are exactly the
// Batch traces' deviations other than the end-of-trace ones, and a
// Snapshot (which closes the open cases on a copy) changes no state.
func TestConformanceRingReplayLaw(t *testing.T) {
	r := newRegistry(t)
	k, _ := r.Get(conformance.Kernel.ID)
	ctx := context.Background()
	total := 0
	for ci, in := range conformanceInputs(t) {
		want, err := k.RunCPU(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := k.RingHandler()
		cfg, data := h.Split(in)
		if err := h.Configure(ctx, cfg); err != nil {
			t.Fatalf("case %d: %v", ci, err)
		}
		got := map[string][]string{}
		for i, msg := range data {
			if i == len(data)/2 {
				st, err := h.MarshalState()
				if err != nil {
					t.Fatal(err)
				}
				h, _ = k.RingHandler()
				if err := h.UnmarshalState(st); err != nil {
					t.Fatal(err)
				}
				if again, _ := h.MarshalState(); !bytes.Equal(st, again) {
					t.Fatalf("case %d: state encoding is not stable across a round trip", ci)
				}
			}
			rc := foldtest.New(ctx, uint64(i+1))
			if err := h.Apply(rc, msg); err != nil {
				t.Fatalf("case %d: apply %d: %v", ci, i, err)
			}
			for _, e := range rc.Events() {
				d := e.Msg.(*procintv1.CaseDeviation)
				if e.Kind != conformance.EventDeviation || d.CaseId != msg.(*procintv1.ConformanceInput).Events[0].CaseId {
					t.Fatalf("case %d: event %s %v for an event of another case", ci, e.Kind, d)
				}
				got[d.CaseId] = append(got[d.CaseId], fmt.Sprint(d.Deviation.Index, d.Deviation.Activity, d.Deviation.Kind))
			}
		}
		before, _ := h.MarshalState()
		snap, err := h.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(snap, want) {
			t.Fatalf("case %d: ring snapshot differs from Batch", ci)
		}
		if after, _ := h.MarshalState(); !bytes.Equal(before, after) {
			t.Fatalf("case %d: Snapshot changed the state", ci)
		}
		for _, tr := range want.(*procintv1.ConformanceOutput).Traces {
			var w []string
			for _, d := range tr.Deviations {
				if d.Activity == eventlog.End || d.Kind == conformance.BadEnd {
					continue // found when the case is closed, not when an event arrives
				}
				w = append(w, fmt.Sprint(d.Index, d.Activity, d.Kind))
			}
			// Batch lists a trace's deviations sorted (index, kind); events
			// arrive in index order and each emits its own in kind order
			// except for one event's several kinds, so compare as sorted.
			if fmt.Sprint(sorted(w)) != fmt.Sprint(sorted(got[tr.CaseId])) {
				t.Fatalf("case %d, trace %s: emitted %v, Batch %v", ci, tr.CaseId, got[tr.CaseId], w)
			}
			total += len(w)
		}
	}
	if total == 0 {
		t.Fatal("no deviation in the fixtures: the emit check checked nothing")
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestConformanceJournalReplay: through the runtime with JOURNAL
// durability, a DFG and a Petri-net input: the snapshot equals Batch and
// the journal alone rebuilds byte-identical state.
func TestConformanceJournalReplay(t *testing.T) {
	r := newRegistry(t)
	k, _ := r.Get(conformance.Kernel.ID)
	seen := map[bool]bool{}
	for _, in := range conformanceInputs(t) {
		petri := in.GetPetriNet() != nil
		if seen[petri] || len(in.Events) == 0 {
			continue
		}
		seen[petri] = true
		want, err := k.RunCPU(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := ringreplay.Run(t, r, conformance.Kernel.ID, in)
		if !proto.Equal(got, want) {
			t.Fatalf("petri %v: journal ring snapshot differs from Batch", petri)
		}
	}
	if len(seen) != 2 {
		t.Fatalf("fixtures lack a DFG or a Petri-net case: %v", seen)
	}
}

// TestConformanceRingNeedsModel: events before a model are refused.
func TestConformanceRingNeedsModel(t *testing.T) {
	h := conformance.RingSpec.New()
	err := h.Apply(foldtest.New(context.Background(), 1), &procintv1.ConformanceInput{
		Events: []*procintv1.Event{{Id: "e", CaseId: "c", Activity: "a", Ts: 1}}})
	if fixture.ErrorField(err) != "model" {
		t.Fatalf("events without a model: %v", err)
	}
}
