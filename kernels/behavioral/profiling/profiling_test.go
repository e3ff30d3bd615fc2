package profiling

import (
	"context"
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/simuser"
)

func batch(t testing.TB, in *behavioralv1.ProfilingInput) *behavioralv1.ProfilingOutput {
	t.Helper()
	j, err := Kernel.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Replay law: events applied one at a time in ts order, with snapshots in
// between, end in the Batch output; a mid-stream snapshot equals the Batch
// output of that prefix; an older event is refused with the state kept.
func TestReplayLaw(t *testing.T) {
	evs := simuser.Events(5, 7, 600, 30)
	want := batch(t, &behavioralv1.ProfilingInput{Events: evs, TzOffsetSeconds: 3600})
	j, _ := Kernel.Prepare(context.Background(), &behavioralv1.ProfilingInput{Events: evs, TzOffsetSeconds: 3600})
	s := NewState(3600, DefaultStabilityWindow)
	for i, e := range j.Events {
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
		if i == 300 {
			mid, _ := s.Snapshot(context.Background())
			prefix := batch(t, &behavioralv1.ProfilingInput{Events: j.Events[:301], TzOffsetSeconds: 3600})
			if !proto.Equal(mid, prefix) {
				t.Fatal("mid-stream snapshot differs from the Batch output of the prefix")
			}
			if err := s.Apply(&behavioralv1.UserEvent{Id: "old", UserId: "u1", EventType: "x", Ts: e.Ts - 1}); err != ErrOutOfOrder {
				t.Fatalf("older event: %v", err)
			}
		}
	}
	got, _ := s.Snapshot(context.Background())
	if !proto.Equal(got, want) {
		t.Fatal("ring snapshot differs from Batch")
	}
}

// Ratios lie in [0,1], the hour entropy is at most ln 24, the stability and
// confidence in [0,1].
func TestInvariants(t *testing.T) {
	out := batch(t, &behavioralv1.ProfilingInput{Events: simuser.Events(6, 5, 800, 60), TzOffsetSeconds: -7200})
	if len(out.Profiles) != 5 {
		t.Fatalf("%d profiles", len(out.Profiles))
	}
	for _, p := range out.Profiles {
		f := map[string]float64{}
		for _, x := range p.Features {
			f[x.Name] = x.Value
		}
		for _, k := range []string{"business_hours_ratio", "night_activity_ratio", "weekend_ratio", "dominant_event_ratio",
			"event_type_diversity", "device_switch_rate", "location_switch_rate"} {
			if f[k] < 0 || f[k] > 1 {
				t.Errorf("%s %s = %g", p.UserId, k, f[k])
			}
		}
		if f["hour_entropy"] < 0 || f["hour_entropy"] > math.Log(24)+1e-12 {
			t.Errorf("%s entropy %g", p.UserId, f["hour_entropy"])
		}
		if p.Stability < 0 || p.Stability > 1 || p.Confidence < 0 || p.Confidence > 1 {
			t.Errorf("%s stability %g confidence %g", p.UserId, p.Stability, p.Confidence)
		}
	}
}
