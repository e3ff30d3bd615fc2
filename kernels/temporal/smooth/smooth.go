// Package smooth computes moving averages with pandas 1.5 semantics:
// rolling(window, min_periods, center).mean() and ewm(alpha, adjust).mean().
//
// The rolling mean keeps pandas' running Kahan-compensated sum (separate
// compensation for added and removed points) and its special cases, so the
// results agree with pandas to the last bits rather than merely to 1e-12.
package smooth

import "math"

// Rolling returns the mean over each point's window of `window` points:
// the trailing window [i - window + 1, i], or with center the window
// [i + (window-1)/2 - window + 1, i + (window-1)/2] (pandas puts the extra
// point of an even window on the left), clipped to the series. Points whose
// window holds fewer than minPeriods observations are NaN.
func Rolling(x []float64, window, minPeriods int, center bool) []float64 {
	n := len(x)
	out := make([]float64, n)
	offset := 0
	if center {
		offset = (window - 1) / 2
	}
	var r runningMean
	prevStart, prevEnd := 0, 0
	for i := 0; i < n; i++ {
		e := i + 1 + offset
		end := min(max(e, 0), n)
		start := min(max(e-window, 0), n)
		if i == 0 || start >= prevEnd {
			r = runningMean{}
			r.prev = x[start]
			for j := start; j < end; j++ {
				r.add(x[j])
			}
		} else {
			for j := prevStart; j < start; j++ {
				r.remove(x[j])
			}
			for j := prevEnd; j < end; j++ {
				r.add(x[j])
			}
		}
		prevStart, prevEnd = start, end
		out[i] = r.mean(minPeriods)
	}
	return out
}

// runningMean is pandas' add_mean / remove_mean / calc_mean state.
type runningMean struct {
	nobs, negCt      int
	sum, compAdd     float64
	compRemove, prev float64
	sameRun          int // consecutive equal values at the end of the window
}

func (r *runningMean) add(v float64) {
	r.nobs++
	y := v - r.compAdd
	t := r.sum + y
	r.compAdd = t - r.sum - y
	r.sum = t
	if math.Signbit(v) {
		r.negCt++
	}
	if v == r.prev {
		r.sameRun++
	} else {
		r.sameRun = 1
	}
	r.prev = v
}

func (r *runningMean) remove(v float64) {
	r.nobs--
	y := -v - r.compRemove
	t := r.sum + y
	r.compRemove = t - r.sum - y
	r.sum = t
	if math.Signbit(v) {
		r.negCt--
	}
}

func (r *runningMean) mean(minPeriods int) float64 {
	if r.nobs < minPeriods || r.nobs == 0 {
		return math.NaN()
	}
	m := r.sum / float64(r.nobs)
	switch {
	case r.sameRun >= r.nobs:
		// A window of identical values is exactly that value.
		m = r.prev
	case r.negCt == 0 && m < 0:
		m = 0
	case r.negCt == r.nobs && m > 0:
		m = 0
	}
	return m
}

// EWM returns pandas' ewm(alpha=alpha, adjust=adjust).mean() (no missing
// values): with adjust the weights (1 - alpha)^k are normalised over the
// history seen so far, without it y_t = (1 - alpha) y_{t-1} + alpha x_t.
// The arithmetic follows pandas' loop step by step.
func EWM(x []float64, alpha float64, adjust bool) []float64 {
	out := make([]float64, len(x))
	if len(x) == 0 {
		return out
	}
	oldWtFactor := 1 - alpha
	newWt := 1.0
	if !adjust {
		newWt = alpha
	}
	weighted := x[0]
	oldWt := 1.0
	out[0] = weighted
	for i := 1; i < len(x); i++ {
		cur := x[i]
		oldWt *= oldWtFactor
		if weighted != cur {
			weighted = (oldWt*weighted + newWt*cur) / (oldWt + newWt)
		}
		if adjust {
			oldWt += newWt
		} else {
			oldWt = 1
		}
		out[i] = weighted
	}
	return out
}
