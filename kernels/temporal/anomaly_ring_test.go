package temporal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	temporalv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/temporal/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring/ringreplay"
)

// The replay law on the scipy fixtures (z-score, IQR, ESD) through a
// JOURNAL ring: bit-identical to Batch.
func TestAnomalyRingReplayLaw(t *testing.T) {
	cases := ringreplay.Fixtures(t, temporalRegistry(t), AnomalyDetection.ID)
	if len(cases) < 26 {
		t.Fatalf("%d cases replayed, want the 26 valid multi-point fixture cases (9 whole-series, 17 windowed)", len(cases))
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

// A windowed ring emits one AnomalyDetected event per anomaly, at the
// message that brings the point: the fixtures' exact reference lists them
// all (reference_events: index and score), including those that left the
// window and so are not in the Snapshot.
func TestAnomalyRingWindowEvents(t *testing.T) {
	reg := temporalRegistry(t)
	ran, withEvents := 0, 0
	for _, c := range fixture.Valid(t, "temporal", "anomaly-detection") {
		raw, ok := c.Extra["reference_events"]
		if !ok {
			continue
		}
		var want [][2]float64
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		in := &temporalv1.AnomalyDetectionInput{}
		fixture.Decode(t, c.Input, in)
		out, events := ringreplay.Run(t, reg, AnomalyDetection.ID, in)
		var got []*temporalv1.AnomalyDetectionEvent
		for _, e := range events {
			if e.Kind != EventAnomaly {
				continue
			}
			ev := e.Payload.(*temporalv1.AnomalyDetectionEvent)
			// The feed sends Configure (seq 1), then point i as message i (seq
			// i+2, ts i).
			if int64(ev.Index) != e.TS || ev.Ts != e.TS || e.Seq != uint64(ev.Index)+2 {
				t.Errorf("%s: event for point %d at message seq %d ts %d (event ts %d)", c.Name, ev.Index, e.Seq, e.TS, ev.Ts)
			}
			got = append(got, ev)
		}
		if len(got) != len(want) || int(out.(*temporalv1.AnomalyDetectionOutput).AnomalyCount) != len(want) {
			t.Fatalf("%s: %d events, anomaly_count %d, want %d", c.Name, len(got), out.(*temporalv1.AnomalyDetectionOutput).AnomalyCount, len(want))
		}
		rtol, atol := c.Tolerances()
		thr := in.GetThreshold()
		if in.GetMethod() == "iqr" {
			thr = registry.Or(in.IqrMultiplier, 1.5)
		} else if in.Threshold == nil {
			thr = 3
		}
		for i, ev := range got {
			if int(ev.Index) != int(want[i][0]) || !fixture.Close(ev.Score, want[i][1], rtol, atol) ||
				ev.Value != in.Values[ev.Index] || ev.Threshold != thr || ev.Timestamp != nil {
				t.Errorf("%s: event %d = %v, want point %v score %v threshold %v", c.Name, i, ev, want[i][0], want[i][1], thr)
			}
			if !(ev.LowerBound <= ev.UpperBound) || (ev.Value >= ev.LowerBound && ev.Value <= ev.UpperBound && in.GetMethod() != "iqr") {
				t.Errorf("%s: event %d: value %v inside its bounds [%v, %v]", c.Name, i, ev.Value, ev.LowerBound, ev.UpperBound)
			}
		}
		ran++
		if len(want) > 0 {
			withEvents++
		}
	}
	if ran < 17 || withEvents < 10 {
		t.Fatalf("%d windowed cases (%d with anomalies), want 17 (10)", ran, withEvents)
	}
}

// Random chunkings of random series (spikes, a far offset, constant
// runs, extreme magnitudes), with state round trips between messages,
// give the Batch output with the same window exactly, and the events of
// a chunk carry its timestamps.
func TestAnomalyRingWindowRandomStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ctx := context.Background()
	for trial := range 60 {
		n := 1 + rng.IntN(400)
		x := make([]float64, n)
		offset := []float64{0, 1e9, -3e5, 1e-300}[rng.IntN(4)]
		for i := range x {
			switch r := rng.Float64(); {
			case r < 0.03:
				x[i] = []float64{1e6, -1e308, 1e308, 5e-310}[rng.IntN(4)]
			case r < 0.15 && i > 0:
				x[i] = x[i-1] // constant runs
			default:
				x[i] = offset + math.Round(rng.NormFloat64()*1e4)/1e4
			}
		}
		method := []string{"zscore", "iqr"}[trial%2]
		in := &temporalv1.AnomalyDetectionInput{Values: x, Method: method, Window: int32(1 + rng.IntN(60))}
		want, err := anomalyDetection(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := AnomalyRing.Split(in)
		h := AnomalyRing.New()
		if err := h.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		events := 0
		for lo, seq := 0, 1; lo < n; seq++ {
			hi := min(n, lo+1+rng.IntN(30))
			ts := make([]float64, hi-lo)
			for i := range ts {
				ts[i] = float64(lo + i)
			}
			rc := ringreplay.NewContext(uint64(seq), int64(seq))
			if err := h.Apply(rc, &temporalv1.AnomalyDetectionInput{Values: x[lo:hi], Timestamps: ts}); err != nil {
				t.Fatal(err)
			}
			for _, ev := range foldtest.Emitted[*temporalv1.AnomalyDetectionEvent](rc, EventAnomaly) {
				if ev.Timestamp == nil || *ev.Timestamp != float64(ev.Index) || ev.Ts != int64(seq) || int(ev.Index) < lo || int(ev.Index) >= hi {
					t.Fatalf("trial %d: event %v outside its message [%d, %d) seq %d", trial, ev, lo, hi, seq)
				}
				events++
			}
			if rng.IntN(4) == 0 {
				st, _ := h.MarshalState()
				h = AnomalyRing.New()
				if err := h.UnmarshalState(st); err != nil {
					t.Fatal(err)
				}
			}
			lo = hi
		}
		got, err := h.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(want, got) {
			t.Fatalf("trial %d (%s, window %d, n %d): ring differs from Batch:\n%.300s\n%.300s", trial, method, in.Window, n,
				prototext.Format(want), prototext.Format(got))
		}
		if events != int(want.AnomalyCount) {
			t.Fatalf("trial %d: %d events, anomaly_count %d", trial, events, want.AnomalyCount)
		}
	}
}

// With a window the state is the detector: 100k one-value messages with
// W = 100 leave it no larger than 10k did (the counters gain digits,
// nothing else grows), a few kilobytes.
func TestAnomalyRingWindowStateBounded(t *testing.T) {
	for _, method := range []string{"zscore", "iqr"} {
		h := AnomalyRing.New()
		if err := h.Configure(context.Background(), &temporalv1.AnomalyDetectionInput{Method: method, Window: 100}); err != nil {
			t.Fatal(err)
		}
		var at10k int
		for i := range 100_000 {
			x := math.Sin(float64(i)*0.37) + float64(i%1000)*1e-3
			if err := h.Apply(ringreplay.NewContext(uint64(i+1), int64(i)), &temporalv1.AnomalyDetectionInput{Values: []float64{x}}); err != nil {
				t.Fatal(err)
			}
			if i+1 == 10_000 {
				st, _ := h.MarshalState()
				at10k = len(st)
			}
		}
		st, _ := h.MarshalState()
		if len(st) > at10k+64 || len(st) > 16<<10 {
			t.Fatalf("%s: state %d bytes after 100k messages, %d after 10k", method, len(st), at10k)
		}
		t.Logf("%s: state %d bytes after 10k messages, %d after 100k", method, at10k, len(st))
	}
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
	refused := map[string]*temporalv1.AnomalyDetectionInput{
		"values[1]":     {Values: []float64{1, math.NaN()}},
		"timestamps[0]": {Values: []float64{3}, Timestamps: []float64{2}},
		"timestamps":    {Values: []float64{3, 4}, Timestamps: []float64{3}},
		"threshold":     {Values: []float64{3}, Threshold: &th},
		"window":        {Values: []float64{3}, Window: 5},
	}
	for want, m := range refused {
		if err := h.Apply(ringreplay.NewContext(2, 0), m); fixture.ErrorField(err) != want {
			t.Errorf("%s: %v", want, err)
		}
		after, _ := h.MarshalState()
		if !bytes.Equal(before, after) {
			t.Fatalf("%s: a refused message changed the state", want)
		}
	}
	// The windowed ring refuses the same messages without a change, and
	// ESD with a window at Configure.
	if err := h.Configure(ctx, &temporalv1.AnomalyDetectionInput{Method: "esd", Window: 4}); fixture.ErrorField(err) != "window" {
		t.Fatalf("esd with a window: %v", err)
	}
	if err := h.Configure(ctx, &temporalv1.AnomalyDetectionInput{Method: "iqr", Window: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Snapshot(ctx); fixture.ErrorField(err) != "values" {
		t.Fatalf("empty windowed: %v", err)
	}
	rc := ringreplay.NewContext(1, 0)
	if err := h.Apply(rc, &temporalv1.AnomalyDetectionInput{Values: []float64{1, 2, 9}, Timestamps: []float64{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	if ev := foldtest.Emitted[*temporalv1.AnomalyDetectionEvent](rc, EventAnomaly); len(ev) != 1 || ev[0].Index != 2 || ev[0].Score != 14.5 {
		t.Fatalf("events %v, want point 2 (9 against the quartiles 1.25, 1.75 of 1, 2: (9 - 1.75) / 0.5 = 14.5)", ev)
	}
	before, _ = h.MarshalState()
	for want, m := range refused {
		if err := h.Apply(ringreplay.NewContext(2, 0), m); fixture.ErrorField(err) != want {
			t.Errorf("windowed %s: %v", want, err)
		}
		after, _ := h.MarshalState()
		if !bytes.Equal(before, after) {
			t.Fatalf("windowed %s: a refused message changed the state", want)
		}
	}
}

// BenchmarkAnomalyRingApply: one value per message after 10k and 100k
// prior ones (without a window: an append).
func BenchmarkAnomalyRingApply(b *testing.B) {
	msg := func(i int) proto.Message {
		return &temporalv1.AnomalyDetectionInput{Values: []float64{math.Sin(float64(i) * 0.3)}}
	}
	for _, prior := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("prior=%d", prior), func(b *testing.B) {
			ringreplay.BenchApply(b, AnomalyRing.New(), &temporalv1.AnomalyDetectionInput{}, prior, msg)
		})
	}
	// Windowed: scoring and sliding the window (O(1) amortised for
	// zscore, a binary search and a copy of up to W values for iqr), the
	// same after 10k and 100k prior values.
	for _, method := range []string{"zscore", "iqr"} {
		for _, w := range []int32{100, 10_000} {
			for _, prior := range []int{10_000, 100_000} {
				b.Run(fmt.Sprintf("%s/window=%d/prior=%d", method, w, prior), func(b *testing.B) {
					ringreplay.BenchApply(b, AnomalyRing.New(), &temporalv1.AnomalyDetectionInput{Method: method, Window: w}, prior, msg)
				})
			}
		}
	}
}
