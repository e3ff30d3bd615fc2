package forensicquery

import (
	"context"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/simuser"
)

func run(t *testing.T, in *behavioralv1.ForensicQueryInput) *behavioralv1.ForensicQueryOutput {
	t.Helper()
	j, err := prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TIMELINE is sorted by (ts, id); every grouping's counts sum to
// matched_count; NE never matches a missing field (SQL NULL).
func TestInvariants(t *testing.T) {
	evs := simuser.Events(4, 5, 400, 10)
	ts := map[string]int64{}
	for _, e := range evs {
		ts[e.Id] = e.Ts
	}
	limit := int32(1000)
	ne := []*behavioralv1.Predicate{{Field: "device_id", Op: "NE", Value: structpb.NewStringValue("d1")}}
	out := run(t, &behavioralv1.ForensicQueryInput{Events: evs, Limit: &limit, Predicates: ne})
	for i := 1; i < len(out.Events); i++ {
		a, b := out.Events[i-1], out.Events[i]
		if ts[a] > ts[b] || (ts[a] == ts[b] && a > b) {
			t.Fatalf("timeline out of order at %d", i)
		}
	}
	var noDevice, d1 int64
	for _, e := range evs {
		switch e.DeviceId {
		case "":
			noDevice++
		case "d1":
			d1++
		}
	}
	if out.MatchedCount != int64(len(evs))-noDevice-d1 || int64(len(out.Events)) != out.MatchedCount {
		t.Fatalf("NE matched %d of %d (missing %d, d1 %d)", out.MatchedCount, len(evs), noDevice, d1)
	}
	for _, by := range []string{"type", "user", "hour", "weekday", "day", "device", "location"} {
		o := run(t, &behavioralv1.ForensicQueryInput{Events: evs, Operation: "SUMMARY", GroupBy: by})
		var sum int64
		for i, g := range o.Groups {
			sum += g.Count
			if i > 0 && (g.Key == nil || (o.Groups[i-1].Key != nil && *o.Groups[i-1].Key >= *g.Key)) {
				t.Fatalf("%s: groups out of order at %d", by, i)
			}
		}
		if sum != o.MatchedCount || o.MatchedCount != int64(len(evs)) {
			t.Fatalf("%s: Σ groups %d, matched %d", by, sum, o.MatchedCount)
		}
	}
}
