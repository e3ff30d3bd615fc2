package temporal

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	temporalv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/temporal/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/ring/ringreplay"
)

// The replay law on the scipy fixtures (z-score, IQR, ESD) through a
// JOURNAL ring: bit-identical to Batch.
func TestAnomalyRingReplayLaw(t *testing.T) {
	cases := ringreplay.Fixtures(t, temporalRegistry(t), AnomalyDetection.ID)
	if len(cases) < 9 {
		t.Fatalf("%d cases replayed, want the 10 valid fixture cases", len(cases))
	}
	for _, c := range cases {
		if !proto.Equal(c.Batch, c.Ring) {
			t.Errorf("%s: ring differs from Batch:\n%.300s\n%.300s", c.Name, prototext.Format(c.Batch), prototext.Format(c.Ring))
		}
	}
	in := &temporalv1.AnomalyDetectionInput{}
	fixture.Decode(t, fixture.Valid(t, "temporal", "anomaly-detection")[4].Input, in)
	ringreplay.RoundTrip(t, AnomalyRing.New(), AnomalyRing.New, in)
}

func TestAnomalyRingRejects(t *testing.T) {
	ctx := context.Background()
	h := AnomalyRing.New()
	if err := h.Configure(ctx, &temporalv1.AnomalyDetectionInput{Values: []float64{1}}); fixture.ErrorField(err) != "values" {
		t.Fatalf("values in Configure: %v", err)
	}
	if _, err := h.Snapshot(ctx); fixture.ErrorField(err) != "values" {
		t.Fatalf("empty: %v", err)
	}
	if err := h.Apply(ringreplay.NewContext(1, 0), &temporalv1.AnomalyDetectionInput{Values: []float64{1, 2}, Timestamps: []float64{1, 2}}); err != nil {
		t.Fatal(err)
	}
	before, _ := h.MarshalState()
	th := 2.0
	for want, m := range map[string]*temporalv1.AnomalyDetectionInput{
		"values[1]":     {Values: []float64{1, math.NaN()}},
		"timestamps[0]": {Values: []float64{3}, Timestamps: []float64{2}},
		"timestamps":    {Values: []float64{3, 4}, Timestamps: []float64{3}},
		"threshold":     {Values: []float64{3}, Threshold: &th},
	} {
		if err := h.Apply(ringreplay.NewContext(2, 0), m); fixture.ErrorField(err) != want {
			t.Errorf("%s: %v", want, err)
		}
		after, _ := h.MarshalState()
		if !bytes.Equal(before, after) {
			t.Fatalf("%s: a refused message changed the state", want)
		}
	}
}

// BenchmarkAnomalyRingApply: one value per message after 10k and 100k
// prior ones (an append).
func BenchmarkAnomalyRingApply(b *testing.B) {
	msg := func(i int) proto.Message {
		return &temporalv1.AnomalyDetectionInput{Values: []float64{math.Sin(float64(i) * 0.3)}}
	}
	for _, prior := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("prior=%d", prior), func(b *testing.B) {
			ringreplay.BenchApply(b, AnomalyRing.New(), &temporalv1.AnomalyDetectionInput{}, prior, msg)
		})
	}
}
