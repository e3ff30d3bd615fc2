package anomaly

import (
	"math"
	"slices"
	"sort"
)

// Rolling is the causal windowed detector: point i is scored against its W
// predecessors x[i-W..i-1] alone ("zscore": their mean and population
// standard deviation; "iqr": their numpy.percentile quartiles), and the
// first W points score 0 and are never anomalies. It keeps the last W
// values and the scores and flags of those points: O(W) space however long
// the series. Batch (the whole series pushed in order) and the ring (the
// same pushes, one data message at a time) share it, so they agree bit for
// bit.
//
// "zscore" keeps the window's mean and sum of squared deviations by
// Welford's update with removal, O(1) per point. Removal is where that
// update loses accuracy (cancellation when a large value leaves), so the
// two are recomputed from the buffer (Welford over it, oldest first) every
// W replacements, when the sum of squares falls below 2^-10 of its largest
// value since the last recomputation, and when either stops being finite.
// So the sum of squares is within about W·2^10 ulps of itself (W = 1000:
// 2e-10 relative); the fixtures check the scores against exact rational
// arithmetic to 1e-9, and TestRollingMatchesExactWindows against 400-bit
// arithmetic over long streams with spikes.
// Windows whose statistics overflow float64 (values near ±1e308) or
// approach underflow (squared deviations below 2^-900, values near
// ±1e-300) are rescanned scaled by a power of two (exact) for each point
// while they last; constant windows (tracked by a run length) have
// standard deviation exactly 0.
//
// "iqr" keeps the window sorted (a binary search and a copy per point, so
// O(W) time) and evaluates the quartiles with Batch's numpy-exact
// percentile; windows whose quartile differences overflow are evaluated on
// halved values (exact).
//
// Its fields are exported for the ring's JSON state; they hold finite
// numbers only.
type Rolling struct {
	Method    string  `json:"method"` // "zscore" or "iqr"
	W         int     `json:"w"`
	Threshold float64 `json:"threshold"` // threshold ("zscore") or iqr_multiplier ("iqr")

	N      int       `json:"n"`      // points pushed
	Count  int       `json:"count"`  // anomalies among them
	Buf    []float64 `json:"buf"`    // the last min(N, W) values; point i at i mod W
	Scores []float64 `json:"scores"` // their scores, at the same positions
	Flags  []bool    `json:"flags"`  // whether they are anomalies
	Sorted []float64 `json:"sorted"` // "iqr": Buf sorted ascending

	// "zscore": Welford's mean and sum of squared deviations of Buf, valid
	// unless Stale (they overflowed; Buf is rescanned per point until they
	// fit again). Since counts replacements since the last recomputation.
	Shift float64 `json:"shift"`
	Mean  float64 `json:"mean"`
	M2    float64 `json:"m2"`
	Peak  float64 `json:"peak"` // the largest M2 since the last recomputation
	Since int     `json:"since"`
	Stale bool    `json:"stale,omitempty"`
	// Run counts the latest points equal to the newest one (a window is
	// constant when Run >= W).
	Run int `json:"run"`
}

// Point is one scored point.
type Point struct {
	Index        int
	Value, Score float64
	Anomaly      bool
	Lower, Upper float64 // the bounds it was judged against (0 before a full window)
}

// NewRolling returns a detector for method ("zscore" or "iqr") over
// windows of w >= 1 points with the given threshold (the z threshold or
// the IQR multiplier).
func NewRolling(method string, w int, threshold float64) *Rolling {
	return &Rolling{Method: method, W: w, Threshold: threshold}
}

// Push scores x against the current window, then slides the window over x.
func (r *Rolling) Push(x float64) Point {
	p := Point{Index: r.N, Value: x}
	if r.N >= r.W {
		if r.Method == "iqr" {
			p.Score, p.Anomaly, p.Lower, p.Upper = r.iqrScore(x)
		} else {
			p.Score, p.Anomaly, p.Lower, p.Upper = r.zScore(x)
		}
	}
	if p.Anomaly {
		r.Count++
	}
	if r.N > 0 && x == r.Buf[(r.N-1)%r.W] {
		r.Run = min(r.Run+1, r.W)
	} else {
		r.Run = 1
	}
	if r.N < r.W {
		r.Buf = append(r.Buf, x)
		r.Scores = append(r.Scores, p.Score)
		r.Flags = append(r.Flags, p.Anomaly)
		r.N++
		if r.Method == "iqr" {
			r.Sorted = slices.Insert(r.Sorted, sort.SearchFloat64s(r.Sorted, x), x)
		} else {
			r.welfordAdd(x)
		}
		return p
	}
	at := r.N % r.W
	y := r.Buf[at]
	r.Buf[at], r.Scores[at], r.Flags[at] = x, p.Score, p.Anomaly
	r.N++
	if r.Method == "iqr" {
		i := sort.SearchFloat64s(r.Sorted, y) // y is there: the first copy
		r.Sorted = slices.Delete(r.Sorted, i, i+1)
		r.Sorted = slices.Insert(r.Sorted, sort.SearchFloat64s(r.Sorted, x), x)
	} else {
		r.welfordReplace(y, x)
	}
	return p
}

// Bounds are the bounds the next point will be judged against; ok is
// false before a full window.
func (r *Rolling) Bounds() (lower, upper float64, ok bool) {
	if r.N < r.W {
		return 0, 0, false
	}
	if r.Method == "iqr" {
		_, _, lower, upper = r.iqrScore(0)
	} else {
		_, _, lower, upper = r.zScore(0)
	}
	return lower, upper, true
}

// Trailing returns the scores of the last min(N, W) points (the first is
// point start) and the anomalies among them, ascending.
func (r *Rolling) Trailing() (start int, scores []float64, anomalies []int) {
	k := len(r.Buf)
	start = r.N - k
	scores = make([]float64, k)
	for j := range k {
		i := start + j
		at := i % r.W
		scores[j] = r.Scores[at]
		if r.Flags[at] {
			anomalies = append(anomalies, i)
		}
	}
	return start, scores, anomalies
}

// ---------------------------------------------------------------- z-score

// The running moments are of u = x − Shift, Shift a value of the window
// (the first one at the last recomputation): on a series far from zero
// (1e9 + noise) the differences are exact and the mean of u stays small,
// where a mean of x itself would carry an error of an ulp of 1e9.

func (r *Rolling) welfordAdd(x float64) {
	if r.Stale {
		r.recompute()
		return
	}
	if len(r.Buf) == 1 {
		r.Shift, r.Mean, r.M2, r.Peak = x, 0, 0, 0
		return
	}
	n := float64(len(r.Buf))
	u := x - r.Shift
	d := u - r.Mean
	r.Mean += d / n
	r.M2 += d * (u - r.Mean)
	r.Peak = max(r.Peak, r.M2)
	if !finite(u) || !finite(r.Mean) || !finite(r.M2) {
		r.recompute()
	}
}

// welfordReplace slides a full window: y leaves, x enters.
func (r *Rolling) welfordReplace(y, x float64) {
	r.Since++
	if r.Stale || r.Since >= r.W {
		r.recompute()
		return
	}
	w := float64(r.W)
	u, v := x-r.Shift, y-r.Shift
	d := u - v
	mean := r.Mean + d/w
	m2 := r.M2 + d*((u-mean)+(v-r.Mean))
	if !finite(u) || !finite(d) || !finite(mean) || !finite(m2) || m2 < r.Peak*0x1p-10 {
		r.recompute()
		return
	}
	r.Mean, r.M2, r.Peak = mean, m2, max(r.Peak, m2)
}

// recompute runs Welford over the buffer, oldest first, shifted by the
// oldest value; Stale when the result overflows.
func (r *Rolling) recompute() {
	r.Since = 0
	win := r.window()
	k := win[0]
	mean, m2 := welford(win, 1, k)
	if !finite(mean) || !finite(m2) {
		r.Shift, r.Mean, r.M2, r.Peak, r.Stale = 0, 0, 0, 0, true
		return
	}
	r.Shift, r.Mean, r.M2, r.Peak, r.Stale = k, mean, m2, m2, false
}

// window returns the buffer's values oldest first.
func (r *Rolling) window() []float64 {
	k := len(r.Buf)
	if k < r.W {
		return r.Buf
	}
	out := make([]float64, 0, k)
	at := r.N % r.W
	out = append(out, r.Buf[at:]...)
	return append(out, r.Buf[:at]...)
}

// welford is the mean and the sum of squared deviations of x/scale − k.
func welford(x []float64, scale, k float64) (mean, m2 float64) {
	for i, v := range x {
		u := v/scale - k
		d := u - mean
		mean += d / float64(i+1)
		m2 += d * (u - mean)
	}
	return mean, m2
}

// tinyM2 is where squared deviations approach the subnormal range: a
// smaller running sum of squares of a window that is not constant may have
// lost digits to underflow, so the window is rescanned scaled.
const tinyM2 = 0x1p-900

// zStats returns the window's statistics in units of scale: the mean is
// k + mean, sd the population standard deviation.
func (r *Rolling) zStats() (k, mean, sd, scale float64) {
	if r.Run >= r.W {
		// Constant window: its standard deviation is exactly 0 (the
		// running sum of squares may hold rounding residue).
		return r.Buf[0], 0, 0, 1
	}
	if !r.Stale && r.M2 >= tinyM2 {
		return r.Shift, r.Mean, math.Sqrt(r.M2 / float64(r.W)), 1
	}
	// Overflowed or nearly underflowed: scale by a power of two near the
	// window's largest magnitude, so every scaled value is in (-2, 2);
	// scaling by a power of two is exact. (2^e itself overflows for
	// values of 2^1023 and above.)
	top := 0.0
	for _, v := range r.Buf {
		top = math.Max(top, math.Abs(v))
	}
	_, e := math.Frexp(top)
	scale = math.Ldexp(1, e-1)
	win := r.window()
	k = win[0] / scale
	mean, m2 := welford(win, scale, k)
	return k, mean, math.Sqrt(math.Max(m2, 0) / float64(r.W)), scale
}

// zScore scores x against the window: (x − m) / s, 0 when s = 0.
func (r *Rolling) zScore(x float64) (score float64, anomaly bool, lower, upper float64) {
	k, mean, sd, scale := r.zStats()
	thr := r.Threshold
	lower = clamp(((k + mean) - thr*sd) * scale)
	upper = clamp(((k + mean) + thr*sd) * scale)
	if !(sd > 0) {
		return 0, false, lower, upper
	}
	num := (x/scale - k) - mean
	z := num / sd
	if math.IsInf(num, 0) && scale == 1 {
		// x − k overflowed; halves do not (and the ratio is the same).
		z = ((x/2 - k/2) - mean/2) / sd * 2
	}
	return clamp(z), math.Abs(z) > thr, lower, upper
}

// ---------------------------------------------------------------- IQR

// iqrScore scores x against the window's quartiles: Batch's IQR rule.
func (r *Rolling) iqrScore(x float64) (score float64, anomaly bool, lower, upper float64) {
	mult := r.Threshold
	q1, q3 := percentile(r.Sorted, 25), percentile(r.Sorted, 75)
	iqr := q3 - q1
	d := math.Max(math.Max(q1-x, x-q3), 0)
	lower, upper = q1-mult*iqr, q3+mult*iqr
	if !finite(q1) || !finite(q3) || !finite(iqr) || !finite(d) || !finite(lower) || !finite(upper) {
		// The same operations on halved values (exact), doubled at the
		// end: the ratio d / iqr is unchanged.
		h := func(v float64) float64 { return v / 2 }
		q1, q3 = halfPercentile(r.Sorted, 25), halfPercentile(r.Sorted, 75)
		iqr = q3 - q1
		d = math.Max(math.Max(q1-h(x), h(x)-q3), 0)
		lower, upper = clamp(2*(q1-mult*iqr)), clamp(2*(q3+mult*iqr))
		if iqr > 0 {
			return clamp(d / iqr), d/iqr > mult, lower, upper
		}
		return clamp(2 * d), d > 0, lower, upper
	}
	if iqr > 0 {
		return clamp(d / iqr), d/iqr > mult, lower, upper
	}
	return d, d > 0, lower, upper
}

// halfPercentile is percentile(sorted, q) / 2, computed on halved values
// so that no difference overflows.
func halfPercentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	pos := q / 100 * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return sorted[n-1] / 2
	}
	frac := pos - float64(lo)
	a, b := sorted[lo]/2, sorted[lo+1]/2
	if frac >= 0.5 {
		return b - (b-a)*(1-frac)
	}
	return a + (b-a)*frac
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// clamp maps ±Inf to ±MaxFloat64 (a score or bound beyond the double
// range).
func clamp(v float64) float64 {
	return math.Max(-math.MaxFloat64, math.Min(math.MaxFloat64, v))
}
