// Package threshold flags anomalies in a stream of values (typically anomaly
// scores) against a threshold that follows the stream, and restarts its
// baseline when the stream drifts to a new level.
//
// The rule, applied to x_0, x_1, ... in order:
//
//   - The baseline H is the last Window values accepted since the latest
//     reset (a FIFO). While |H| < MinHistory the point is a warm-up point:
//     it is not flagged and is accepted into H.
//   - Otherwise centre c and spread s of H are mean and population standard
//     deviation (MeanStd) or median and MAD/Φ⁻¹(3/4) (MedianMAD, equal to
//     scipy.stats.median_abs_deviation(H, scale="normal")); the thresholds are
//     upper = c + K·s and lower = c − K·s. x_t is an anomaly when x_t > upper,
//     or, if TwoSided, when x_t < lower.
//   - An anomaly is not accepted into H (it must not inflate the baseline);
//     a normal point is, and ends any run of anomalies.
//   - Drift: when DriftPatience > 0 consecutive points are anomalies, the
//     stream is taken to have moved to a new level. The first point of that
//     run is recorded as a drift point and H is replaced by the run's values
//     (the last Window of them). The run's points stay flagged: decisions are
//     online and never revised.
package threshold

import (
	"context"
	"math"
	"slices"
)

// Method selects centre and spread.
type Method int

const (
	MeanStd   Method = iota // mean, population standard deviation
	MedianMAD               // median, normal-consistent MAD
)

// normalMAD is Φ⁻¹(3/4): MAD / normalMAD estimates σ for normal data
// (scipy's scale="normal" divides by this same constant).
const normalMAD = 0.6744897501960817

// Params configure the detector.
type Params struct {
	Window        int // >= 1
	MinHistory    int // 1 <= MinHistory <= Window
	K             float64
	Method        Method
	TwoSided      bool
	DriftPatience int // 0 disables drift resets
}

// Result holds per-point decisions and the thresholds they used.
type Result struct {
	Anomaly      []bool
	Warmup       []bool
	Upper, Lower []float64 // 0 at warm-up points
	Centre       []float64 // 0 at warm-up points
	Spread       []float64 // 0 at warm-up points
	Drift        []int32   // indexes where a drift run began
}

// Run applies the rule to xs.
func Run(ctx context.Context, xs []float64, p Params) (Result, error) {
	n := len(xs)
	res := Result{
		Anomaly: make([]bool, n), Warmup: make([]bool, n),
		Upper: make([]float64, n), Lower: make([]float64, n),
		Centre: make([]float64, n), Spread: make([]float64, n),
	}
	h := make([]float64, 0, p.Window) // FIFO in arrival order
	var run []float64                 // consecutive anomalies
	scratch := make([]float64, 0, p.Window)
	accept := func(v float64) {
		if len(h) == p.Window {
			copy(h, h[1:])
			h = h[:len(h)-1]
		}
		h = append(h, v)
	}
	// Each point costs O(Window) (O(Window log Window) for the median), so
	// check the context every ~64k values of work.
	every := max(1, (1<<16)/p.Window)
	for t, x := range xs {
		if t%every == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
		}
		if len(h) < p.MinHistory {
			res.Warmup[t] = true
			accept(x)
			run = run[:0]
			continue
		}
		var c, s float64
		if p.Method == MedianMAD {
			c, s = medianMAD(h, &scratch)
		} else {
			c, s = meanStd(h)
		}
		up, lo := c+p.K*s, c-p.K*s
		res.Centre[t], res.Spread[t], res.Upper[t], res.Lower[t] = c, s, up, lo
		if x > up || (p.TwoSided && x < lo) {
			res.Anomaly[t] = true
			run = append(run, x)
			if p.DriftPatience > 0 && len(run) == p.DriftPatience {
				res.Drift = append(res.Drift, int32(t-len(run)+1))
				h = h[:0]
				for _, v := range run[max(0, len(run)-p.Window):] {
					h = append(h, v)
				}
				run = run[:0]
			}
			continue
		}
		run = run[:0]
		accept(x)
	}
	return res, nil
}

func meanStd(h []float64) (float64, float64) {
	var s float64
	for _, v := range h {
		s += v
	}
	mean := s / float64(len(h))
	var ss float64
	for _, v := range h {
		d := v - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(len(h)))
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func medianMAD(h []float64, scratch *[]float64) (float64, float64) {
	s := append((*scratch)[:0], h...)
	slices.Sort(s)
	med := median(s)
	for i, v := range s {
		s[i] = math.Abs(v - med)
	}
	slices.Sort(s)
	mad := median(s)
	*scratch = s
	return med, mad / normalMAD
}
