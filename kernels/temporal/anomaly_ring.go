package temporal

import (
	"context"
	"math"

	"google.golang.org/protobuf/proto"

	temporalv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/temporal/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// AnomalyState is anomaly-detection's ring state: the parameters and the
// series. Every method scores each point against statistics of the whole
// series (z-score: its mean and standard deviation; IQR: its quartiles;
// ESD: its successive extremes), and the output has a score per point, so
// each new value changes every score: the values are the minimal state,
// and Snapshot runs the Batch definition over them. Apply is O(1)
// amortised (validation and an append).
type AnomalyState struct {
	Cfg    []byte    `json:"cfg"` // the Configure message (deterministic proto)
	Values []float64 `json:"values"`
	LastTS *float64  `json:"last_ts"`
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// AnomalyRing is anomaly-detection's handler; Snapshot equals Batch bit
// for bit.
var AnomalyRing = fold.Spec[*temporalv1.AnomalyDetectionInput, *temporalv1.AnomalyDetectionOutput, AnomalyState]{
	Configure: func(_ context.Context, in *temporalv1.AnomalyDetectionInput) (*AnomalyState, error) {
		if len(in.GetValues()) > 0 || len(in.GetTimestamps()) > 0 {
			return nil, kerr.Invalid("values", "is data: send values in data messages, not in Configure")
		}
		switch in.GetMethod() {
		case "", "zscore", "iqr", "esd":
		default:
			return nil, kerr.Invalid("method", "must be zscore, iqr or esd")
		}
		cfg, err := deterministic.Marshal(in)
		if err != nil {
			return nil, err
		}
		return &AnomalyState{Cfg: cfg}, nil
	},
	Apply: func(rc fold.Context, s *AnomalyState, in *temporalv1.AnomalyDetectionInput) error {
		for _, p := range []struct {
			name string
			set  bool
		}{{"method", in.GetMethod() != ""}, {"threshold", in.Threshold != nil}, {"iqr_multiplier", in.IqrMultiplier != nil},
			{"alpha", in.Alpha != nil}, {"max_anomalies", in.MaxAnomalies != nil}} {
			if p.set {
				return kerr.Invalid(p.name, "is a parameter: set it with Configure (before the first data message or after Reset)")
			}
		}
		v, ts := in.GetValues(), in.GetTimestamps()
		if err := limits.Check("values", len(s.Values)+len(v), limits.From(rc).MaxSeriesLength); err != nil {
			return err
		}
		last, err := checkAppend(v, ts, s.LastTS)
		if err != nil {
			return err
		}
		s.LastTS = last
		s.Values = append(s.Values, v...)
		return nil
	},
	Snapshot: func(ctx context.Context, s *AnomalyState) (*temporalv1.AnomalyDetectionOutput, error) {
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
