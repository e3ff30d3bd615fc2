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
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring/ringreplay"
)

func temporalRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// The replay law on the pandas / scipy fixtures through a JOURNAL ring:
// the EWMA recursion run per value, and the GARCH fit at Snapshot, equal
// Batch bit for bit.
func TestVolatilityRingReplayLaw(t *testing.T) {
	cases := ringreplay.Fixtures(t, temporalRegistry(t), VolatilityAnalysis.ID)
	if len(cases) != 8 {
		t.Fatalf("%d cases replayed, want the 8 valid fixture cases", len(cases))
	}
	for _, c := range cases {
		if !proto.Equal(c.Batch, c.Ring) {
			t.Errorf("%s: ring differs from Batch:\n%.300s\n%.300s", c.Name, prototext.Format(c.Batch), prototext.Format(c.Ring))
		}
	}
}

// Values in chunks, with timestamps and a state round trip midway, give
// the one-per-message result.
func TestVolatilityRingChunksAndRoundTrip(t *testing.T) {
	for _, c := range fixture.Valid(t, "temporal", "volatility-analysis")[:3] {
		in := &temporalv1.VolatilityAnalysisInput{}
		fixture.Decode(t, c.Input, in)
		one := ringreplay.RoundTrip(t, VolatilityRing.New(), VolatilityRing.New, in)
		cfg, _ := VolatilityRing.Split(in)
		h := VolatilityRing.New()
		if err := h.Configure(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		v := in.GetValues()
		for lo := 0; lo < len(v); lo += 23 {
			hi := min(lo+23, len(v))
			ts := make([]float64, hi-lo)
			for i := range ts {
				ts[i] = float64(lo + i)
			}
			if err := h.Apply(ringreplay.NewContext(uint64(lo+1), int64(lo)), &temporalv1.VolatilityAnalysisInput{Values: v[lo:hi], Timestamps: ts}); err != nil {
				t.Fatal(err)
			}
			if lo == 46 {
				st, _ := h.MarshalState()
				h = VolatilityRing.New()
				if err := h.UnmarshalState(st); err != nil {
					t.Fatal(err)
				}
			}
		}
		got, err := h.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(one, got) {
			t.Fatalf("%s: chunks of 23 differ from one value per message", c.Name)
		}
	}
}

func TestVolatilityRingRejects(t *testing.T) {
	ctx := context.Background()
	h := VolatilityRing.New()
	if err := h.Configure(ctx, &temporalv1.VolatilityAnalysisInput{Values: []float64{1}}); fixture.ErrorField(err) != "values" {
		t.Fatalf("values in Configure: %v", err)
	}
	if err := h.Configure(ctx, &temporalv1.VolatilityAnalysisInput{ValuesArePrices: true}); err != nil {
		t.Fatal(err)
	}
	if err := h.Apply(ringreplay.NewContext(1, 0), &temporalv1.VolatilityAnalysisInput{Values: []float64{100}, Timestamps: []float64{5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Snapshot(ctx); fixture.ErrorField(err) != "values" {
		t.Fatalf("one price: %v", err)
	}
	before, _ := h.MarshalState()
	lambda := 0.9
	for want, m := range map[string]*temporalv1.VolatilityAnalysisInput{
		"values[1]":     {Values: []float64{101, 0}},
		"values[0]":     {Values: []float64{math.NaN()}},
		"timestamps[0]": {Values: []float64{101}, Timestamps: []float64{5}},
		"timestamps":    {Values: []float64{101, 102}, Timestamps: []float64{6}},
		"lambda":        {Values: []float64{101}, Lambda: &lambda},
		"method":        {Values: []float64{101}, Method: "garch"},
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

// BenchmarkVolatilityRingApply: one EWMA return per message after 10k
// and 100k prior ones (O(1) amortised: an append and the recursion).
func BenchmarkVolatilityRingApply(b *testing.B) {
	msg := func(i int) proto.Message {
		return &temporalv1.VolatilityAnalysisInput{Values: []float64{0.01 * math.Sin(float64(i)*0.7)}}
	}
	for _, prior := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("ewma/prior=%d", prior), func(b *testing.B) {
			ringreplay.BenchApply(b, VolatilityRing.New(), &temporalv1.VolatilityAnalysisInput{}, prior, msg)
		})
	}
}
