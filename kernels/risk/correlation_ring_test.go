package risk

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	riskv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/risk/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/ring/ringreplay"
)

// The replay law on numpy's fixtures (rtol 1e-12): Welford co-moments fed
// one observation per message, a JOURNAL ring, journal rebuild.
func TestCorrelationRingReplayLaw(t *testing.T) {
	cases := ringreplay.Fixtures(t, newRegistry(t), RealtimeCorrelation.ID)
	if len(cases) < 7 { // 4 whole-series cases, 3 windows
		t.Fatalf("%d fixture cases replayed, want the streams of at least 2 observations", len(cases))
	}
	for _, c := range cases {
		b, r := c.Batch.(*riskv1.RealtimeCorrelationOutput), c.Ring.(*riskv1.RealtimeCorrelationOutput)
		if b.GetNObservations() != r.GetNObservations() || fmt.Sprint(b.GetConstantSeries()) != fmt.Sprint(r.GetConstantSeries()) {
			t.Errorf("%s: n %d/%d constant %v/%v", c.Name, b.GetNObservations(), r.GetNObservations(), b.GetConstantSeries(), r.GetConstantSeries())
		}
	}
}

// Several observations per message, and a state saved and restored
// midway, give the same result as one per message.
func TestCorrelationRingBatchesAndRoundTrip(t *testing.T) {
	c := fixture.Valid(t, "risk", "realtime-correlation")[3] // 25 assets × 400 days
	in := decodeCorrelation(t, c)
	one := ringreplay.RoundTrip(t, CorrelationRing.New(), CorrelationRing.New, in)

	h := CorrelationRing.New()
	if err := h.Configure(context.Background(), &riskv1.RealtimeCorrelationInput{}); err != nil {
		t.Fatal(err)
	}
	t0 := len(in.GetSeries()[0].GetValues())
	for lo := 0; lo < t0; lo += 37 {
		m := &riskv1.RealtimeCorrelationInput{}
		for _, r := range in.GetSeries() {
			m.Series = append(m.Series, &riskv1.Row{Values: r.GetValues()[lo:min(lo+37, t0)]})
		}
		if err := h.Apply(ringreplay.NewContext(uint64(lo+1), int64(lo)), m); err != nil {
			t.Fatal(err)
		}
		if lo == 185 { // restore mid-stream
			st, _ := h.MarshalState()
			h = CorrelationRing.New()
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
		t.Fatal("37 observations per message give a different result from one per message")
	}
}

func decodeCorrelation(t *testing.T, c fixture.Case) *riskv1.RealtimeCorrelationInput {
	t.Helper()
	var raw struct{ Series [][]float64 }
	fixture.Decode(t, c.Input, &raw)
	in := &riskv1.RealtimeCorrelationInput{}
	for _, s := range raw.Series {
		in.Series = append(in.Series, &riskv1.Row{Values: s})
	}
	return in
}

// Bad messages name the field and leave the state unchanged; Snapshot
// before two observations says why.
func TestCorrelationRingRejects(t *testing.T) {
	h := CorrelationRing.New()
	ctx := context.Background()
	rc := ringreplay.NewContext(1, 0)
	if _, err := h.Snapshot(ctx); err == nil || !strings.Contains(err.Error(), "series") {
		t.Fatalf("empty snapshot: %v", err)
	}
	if err := h.Configure(ctx, &riskv1.RealtimeCorrelationInput{Series: []*riskv1.Row{{Values: []float64{1}}}}); err == nil {
		t.Fatal("Configure accepted data")
	}
	row := func(v ...float64) *riskv1.Row { return &riskv1.Row{Values: v} }
	if err := h.Apply(rc, &riskv1.RealtimeCorrelationInput{Series: []*riskv1.Row{row(1), row(2)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Snapshot(ctx); err == nil || !strings.Contains(err.Error(), "2 observations") {
		t.Fatalf("one observation: %v", err)
	}
	before, _ := h.MarshalState()
	for name, m := range map[string]*riskv1.RealtimeCorrelationInput{
		"series":              {Series: []*riskv1.Row{row(1), row(2), row(3)}},
		"series[1]":           {Series: []*riskv1.Row{row(1, 2), row(2)}},
		"series[0].values[0]": {Series: []*riskv1.Row{row(math.NaN()), row(2)}},
		"series[1].values[0]": {Series: []*riskv1.Row{row(1), row(math.Inf(-1))}},
	} {
		err := h.Apply(rc, m)
		if err == nil || fixture.ErrorField(err) != name {
			t.Errorf("%s: %v", name, err)
		}
	}
	after, _ := h.MarshalState()
	if !bytes.Equal(before, after) {
		t.Fatal("a refused message changed the state")
	}
}

// BenchmarkCorrelationRingApply: one observation of 10 series per message
// after 10k and 100k prior observations. Apply is O(n²) in the series and
// independent of the history: the two costs should match.
func BenchmarkCorrelationRingApply(b *testing.B) {
	msg := func(i int) proto.Message {
		m := &riskv1.RealtimeCorrelationInput{}
		for s := range 10 {
			m.Series = append(m.Series, &riskv1.Row{Values: []float64{math.Sin(float64(i*(s+1)) * 0.37)}})
		}
		return m
	}
	window := int32(250)
	for _, prior := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("prior=%d", prior), func(b *testing.B) {
			ringreplay.BenchApply(b, CorrelationRing.New(), &riskv1.RealtimeCorrelationInput{}, prior, msg)
		})
		b.Run(fmt.Sprintf("window=250/prior=%d", prior), func(b *testing.B) {
			ringreplay.BenchApply(b, CorrelationRing.New(), &riskv1.RealtimeCorrelationInput{Window: &window}, prior, msg)
		})
	}
}

var _ fold.Handler = CorrelationRing.New()
