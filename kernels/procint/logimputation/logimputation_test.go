package logimputation

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/procint/simlog"
)

// Repaired traces are ts-sorted, no duplicate by the definition remains,
// each inserted event lies between its neighbours, and every kept event
// appears once.
func TestRepairInvariants(t *testing.T) {
	evs := simlog.Log(5, simlog.Options{Cases: 300, Noise: 0.6, EqualTS: 0.1})
	// Inject duplicates: repeat some events 10 s later.
	for i := 0; i < len(evs); i += 17 {
		d := proto.Clone(evs[i]).(*procintv1.Event)
		d.Id += "-dup"
		d.Ts += 10
		evs = append(evs, d)
	}
	j, err := Kernel.Prepare(context.Background(), &procintv1.LogImputationInput{Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	dups, imputed := 0, 0
	for _, tr := range out.Traces {
		for k, e := range tr.Events {
			if k > 0 {
				p := tr.Events[k-1]
				if p.Ts > e.Ts {
					t.Fatalf("%s not sorted at %d", tr.CaseId, k)
				}
				if !e.Imputed && !p.Imputed && p.Activity == e.Activity && p.Resource == e.Resource && e.Ts-p.Ts <= 60 {
					t.Fatalf("%s: duplicate left at %d", tr.CaseId, k)
				}
			}
			if e.Imputed {
				imputed++
				if e.OriginalId != nil || k == 0 || k == len(tr.Events)-1 {
					t.Fatalf("%s: imputed event %d badly placed", tr.CaseId, k)
				}
				continue
			}
			if seen[e.GetOriginalId()] {
				t.Fatalf("%s listed twice", e.GetOriginalId())
			}
			seen[e.GetOriginalId()] = true
		}
	}
	for _, is := range out.Issues {
		if is.Type == "DUPLICATE" {
			dups++
		}
	}
	if dups == 0 || len(seen)+dups != len(evs) {
		t.Fatalf("%d kept + %d duplicates != %d events", len(seen), dups, len(evs))
	}
	if out.Stats.QualityAfter < out.Stats.QualityBefore {
		t.Fatalf("quality fell: %v", out.Stats)
	}
	t.Logf("%d duplicates, %d imputed", dups, imputed)
}
