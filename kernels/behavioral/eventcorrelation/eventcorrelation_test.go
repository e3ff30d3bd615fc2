package eventcorrelation

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/simuser"
)

// Replay law; clusters partition the clustered events; correlation lists
// are symmetric when none is truncated.
func TestReplayLawAndInvariants(t *testing.T) {
	in := &behavioralv1.EventCorrelationInput{Events: simuser.Events(8, 3, 300, 1)}
	big := int32(10000)
	in.MaxCorrelations = &big
	j, err := Kernel.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	s := NewState(j.P)
	for i, e := range j.Events {
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
		if i == 150 {
			a, _ := s.Snapshot(context.Background())
			b, _ := s.Snapshot(context.Background())
			if !proto.Equal(a, b) {
				t.Fatal("Snapshot changed the state")
			}
		}
	}
	got, _ := s.Snapshot(context.Background())
	if !proto.Equal(got, want) {
		t.Fatal("ring snapshot differs from Batch")
	}
	type key struct{ a, b string }
	scores := map[key]float64{}
	for _, ec := range want.Events {
		for _, c := range ec.Correlations {
			scores[key{ec.EventId, c.OtherId}] = c.Score
		}
	}
	for k, v := range scores {
		if scores[key{k.b, k.a}] != v {
			t.Fatalf("pair %v listed one way only", k)
		}
	}
	seen := map[string]bool{}
	for _, c := range want.Clusters {
		if int(c.Size) != len(c.EventIds) || c.Size < 2 || c.Id != c.EventIds[0] || c.Coherence < j.P.ClusterThreshold {
			t.Fatalf("cluster %v", c)
		}
		for _, id := range c.EventIds {
			if seen[id] {
				t.Fatalf("%s in two clusters", id)
			}
			seen[id] = true
		}
	}
	if len(want.Clusters) == 0 {
		t.Fatal("no clusters on a dense day")
	}
}
