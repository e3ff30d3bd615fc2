package temporal

import (
	"context"
	"math"

	"google.golang.org/protobuf/proto"

	temporalv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/temporal/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/temporal/anomaly"
)

// AnomalyState is anomaly-detection's ring state: the parameters and the
// series or, with a window, the online detector.
//
// Without a window every method scores each point against statistics of
// the whole series (z-score: its mean and standard deviation; IQR: its
// quartiles; ESD: its successive extremes), and the output has a score per
// point, so each new value changes every score: the values are the minimal
// state, and Snapshot runs the Batch definition over them. Apply is O(1)
// amortised (validation and an append); the state grows with the series.
//
// With window = W > 0 ("zscore", "iqr") a point is scored against its W
// predecessors only, so its score is final when it arrives: the state is
// the detector (anomaly.Rolling: the last W values, their scores and flags,
// the window's running mean and sum of squares or its sorted copy), O(W)
// however long the stream; Apply scores each value as it comes and emits
// an AnomalyDetectionEvent per anomaly; Snapshot renders the detector,
// which is what Batch returns after pushing the same values.
type AnomalyState struct {
	Cfg    []byte           `json:"cfg"` // the Configure message (deterministic proto)
	Values []float64        `json:"values"`
	LastTS *float64         `json:"last_ts"`
	Online *anomaly.Rolling `json:"online,omitempty"` // window > 0
}

// EventAnomaly is the kind of the event a windowed ring emits per anomaly.
const EventAnomaly = "AnomalyDetected"

var deterministic = proto.MarshalOptions{Deterministic: true}

// AnomalyRing is anomaly-detection's handler; Snapshot equals Batch bit
// for bit.
var AnomalyRing = fold.Spec[*temporalv1.AnomalyDetectionInput, *temporalv1.AnomalyDetectionOutput, AnomalyState]{
	Messages: fold.Messages{Events: []fold.EventType{
		{Kind: EventAnomaly, Message: &temporalv1.AnomalyDetectionEvent{}, Doc: "A windowed ring (window > 0) scored " +
			"a value as anomalous against the previous window: its index, value, score, threshold and bounds, and " +
			"its timestamp when the message gave one. Rings without a window emit none (their scores depend on the " +
			"whole series; Snapshot gives them)."},
	}},
	Configure: func(ctx context.Context, in *temporalv1.AnomalyDetectionInput) (*AnomalyState, error) {
		if len(in.GetValues()) > 0 || len(in.GetTimestamps()) > 0 {
			return nil, kerr.Invalid("values", "is data: send values in data messages, not in Configure")
		}
		switch in.GetMethod() {
		case "", "zscore", "iqr", "esd":
		default:
			return nil, kerr.Invalid("method", "must be zscore, iqr or esd")
		}
		if in.GetWindow() < 0 {
			return nil, kerr.Invalid("window", "must be at least 0")
		}
		cfg, err := deterministic.Marshal(in)
		if err != nil {
			return nil, err
		}
		s := &AnomalyState{Cfg: cfg}
		if in.GetWindow() > 0 {
			if s.Online, err = newRolling(ctx, in); err != nil {
				return nil, err
			}
		}
		return s, nil
	},
	Apply: func(rc fold.Context, s *AnomalyState, in *temporalv1.AnomalyDetectionInput) error {
		for _, p := range []struct {
			name string
			set  bool
		}{{"method", in.GetMethod() != ""}, {"threshold", in.Threshold != nil}, {"iqr_multiplier", in.IqrMultiplier != nil},
			{"alpha", in.Alpha != nil}, {"max_anomalies", in.MaxAnomalies != nil}, {"window", in.GetWindow() != 0}} {
			if p.set {
				return kerr.Invalid(p.name, "is a parameter: set it with Configure (before the first data message or after Reset)")
			}
		}
		v, ts := in.GetValues(), in.GetTimestamps()
		if s.Online != nil {
			// Indexes are int32 (as in the output); the state is bounded,
			// so the stream is not held to the series-length limit.
			if s.Online.N+len(v) > math.MaxInt32 {
				return kerr.Invalid("values", "the series would pass %d points; Reset the ring", math.MaxInt32)
			}
		} else if err := limits.Check("values", len(s.Values)+len(v), limits.From(rc).MaxSeriesLength); err != nil {
			return err
		}
		last, err := checkAppend(v, ts, s.LastTS)
		if err != nil {
			return err
		}
		s.LastTS = last
		if s.Online == nil {
			s.Values = append(s.Values, v...)
			return nil
		}
		for i, x := range v {
			p := s.Online.Push(x)
			if !p.Anomaly {
				continue
			}
			ev := &temporalv1.AnomalyDetectionEvent{Index: int32(p.Index), Ts: rc.TS(), Value: x, Score: p.Score,
				Threshold: s.Online.Threshold, LowerBound: p.Lower, UpperBound: p.Upper}
			if i < len(ts) {
				ev.Timestamp = &ts[i]
			}
			rc.Emit(EventAnomaly, ev)
		}
		return nil
	},
	Snapshot: func(ctx context.Context, s *AnomalyState) (*temporalv1.AnomalyDetectionOutput, error) {
		if s.Online != nil {
			if s.Online.N == 0 {
				return nil, kerr.Invalid("values", "must not be empty")
			}
			return rollingOutput(s.Online), nil
		}
		in := &temporalv1.AnomalyDetectionInput{}
		if err := proto.Unmarshal(s.Cfg, in); err != nil {
			return nil, err
		}
		if len(s.Values) == 0 {
			return nil, kerr.Invalid("values", "must not be empty")
		}
		in.Values = append([]float64(nil), s.Values...)
		return anomalyDetection(ctx, in)
	},
	Split: func(in *temporalv1.AnomalyDetectionInput) (*temporalv1.AnomalyDetectionInput, []*temporalv1.AnomalyDetectionInput) {
		cfg := proto.Clone(in).(*temporalv1.AnomalyDetectionInput)
		cfg.Values, cfg.Timestamps = nil, nil
		return cfg, splitSeries(in.GetValues(), in.GetTimestamps(), func(v, ts []float64) *temporalv1.AnomalyDetectionInput {
			return &temporalv1.AnomalyDetectionInput{Values: v, Timestamps: ts}
		})
	},
}

// splitSeries is the replay-law feed of a series kernel: one data message
// per value, carrying its timestamp when the input has them.
func splitSeries[M any](values, timestamps []float64, msg func(v, ts []float64) M) []M {
	out := make([]M, len(values))
	for i, x := range values {
		var ts []float64
		if i < len(timestamps) {
			ts = []float64{timestamps[i]}
		}
		out[i] = msg([]float64{x}, ts)
	}
	return out
}

// checkAppend validates a data message's values and optional timestamps
// (one per value, strictly increasing, after last) and returns the new
// latest timestamp.
func checkAppend(v, ts []float64, last *float64) (*float64, error) {
	if len(ts) > 0 && len(ts) != len(v) {
		return nil, kerr.Invalid("timestamps", "has %d entries but values has %d", len(ts), len(v))
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, kerr.Invalid(indexed("values", i), "must be finite")
		}
	}
	prev := last
	for i, t := range ts {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, kerr.Invalid(indexed("timestamps", i), "must be finite")
		}
		if prev != nil && !(t > *prev) {
			return nil, kerr.Invalid(indexed("timestamps", i), "must be greater than the previous timestamp (%g)", *prev)
		}
		prev = &ts[i]
	}
	if prev == nil {
		return nil, nil
	}
	t := *prev
	return &t, nil
}
