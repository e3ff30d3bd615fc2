package compliance

import (
	"context"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/compliance/pep"
	"github.com/gokernels/gokernels/kernels/compliance/sanctions"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
	"github.com/gokernels/gokernels/ring/ringreplay"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// TestRingJournalReplay drives every compliance Ring id through the ring
// runtime with JOURNAL durability: up to three fixture inputs each, fed as
// Split messages; the Snapshot must equal the Batch output and the journal
// alone must rebuild byte-identical state (ringreplay.Run). For the
// screening rings the emitted per-query results must also be the Batch
// results in order, and a hit event must follow exactly each hit.
func TestRingJournalReplay(t *testing.T) {
	r := newRegistry(t)
	ctx := context.Background()
	files := fixture.DomainFiles(t, "compliance")
	for _, k := range r.List("", registry.Ring) {
		t.Run(k.ID, func(t *testing.T) {
			h, _ := k.RingHandler()
			ran := 0
			for _, c := range fixture.KernelFile(t, files, k.ID).Cases {
				if c.ErrorField != "" || ran == 3 {
					continue
				}
				in := k.NewInput()
				if err := jsoninput.Decode(c.Input, in); err != nil {
					t.Fatal(err)
				}
				if _, data := h.Split(in); len(data) < 2 {
					continue
				}
				want, err := k.RunCPU(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				ran++
				got, events := ringreplay.Run(t, r, k.ID, in)
				if !proto.Equal(got, want) {
					t.Fatalf("%s: ring snapshot differs from Batch:\nbatch %.400s\nring  %.400s", c.Name, prototext.Format(want), prototext.Format(got))
				}
				switch out := want.(type) {
				case *compliancev1.SanctionsScreeningOutput:
					checkScreenEvents(t, c.Name, events, sanctions.EventResult, sanctions.EventHit, len(out.Results), func(i int) (proto.Message, bool) {
						return out.Results[i], out.Results[i].IsHit
					})
				case *compliancev1.PepScreeningOutput:
					checkScreenEvents(t, c.Name, events, pep.EventResult, pep.EventHit, len(out.Results), func(i int) (proto.Message, bool) {
						return out.Results[i], out.Results[i].IsPep
					})
				}
			}
			if ran == 0 {
				t.Fatal("no fixture case has two data messages")
			}
		})
	}
}

// checkScreenEvents: the result events are the Batch results in order, and
// each hit result is followed by one hit event carrying it.
func checkScreenEvents(t *testing.T, name string, events []ring.Event, resultKind, hitKind string, n int, batch func(int) (proto.Message, bool)) {
	t.Helper()
	i := 0
	for e := 0; e < len(events); e++ {
		ev := events[e]
		if ev.Kind != resultKind {
			t.Fatalf("%s: event %d is %q, want %q", name, e, ev.Kind, resultKind)
		}
		want, hit := batch(i)
		if !proto.Equal(ev.Payload, want) {
			t.Fatalf("%s: result event %d differs from Batch result %d", name, e, i)
		}
		if hit {
			e++
			if e == len(events) || events[e].Kind != hitKind || !proto.Equal(events[e].Payload, want) {
				t.Fatalf("%s: query %d is a hit but no %s event follows its result", name, i, hitKind)
			}
		}
		i++
	}
	if i != n {
		t.Fatalf("%s: %d result events for %d queries", name, i, n)
	}
}
