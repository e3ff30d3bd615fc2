package anomaly

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactZ is the windowed z-score of x against win in 400-bit arithmetic:
// the definition, free of the running moments' rounding.
func exactZ(win []float64, x float64) float64 {
	const prec = 400
	f := func(v float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(v) }
	w := f(float64(len(win)))
	mean := f(0)
	for _, v := range win {
		mean.Add(mean, f(v))
	}
	mean.Quo(mean, w)
	ss := f(0)
	for _, v := range win {
		d := f(v)
		d.Sub(d, mean)
		ss.Add(ss, new(big.Float).SetPrec(prec).Mul(d, d))
	}
	if ss.Sign() == 0 {
		return 0
	}
	ss.Quo(ss, w)
	sd := new(big.Float).SetPrec(prec).Sqrt(ss)
	z := f(x)
	z.Sub(z, mean)
	z.Quo(z, sd)
	out, _ := z.Float64()
	return clamp(out)
}

// The running moments (Welford with removal, recomputed every W points and
// on cancellation) stay within 1e-9 of the exact windowed z-score over
// long streams with spikes that enter and leave the window, a far offset
// and constant stretches; the quartile path equals Batch's IQR on each
// window bit for bit.
func TestRollingMatchesExactWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		offset float64
		w      int
	}{{0, 40}, {1e9, 25}, {-7e4, 7}, {0, 1}, {3, 2}, {0, 1000}} {
		n := 4000
		x := make([]float64, n)
		for i := range x {
			switch r := rng.Float64(); {
			case r < 0.01:
				x[i] = tc.offset + []float64{1e7, -5e5, 3e3}[rng.IntN(3)]
			case r < 0.1 && i > 0:
				x[i] = x[i-1]
			case i%700 >= 600:
				x[i] = tc.offset // a constant stretch longer than the window
			default:
				x[i] = tc.offset + math.Round(rng.NormFloat64()*1e4)/1e4
			}
		}
		z := NewRolling("zscore", tc.w, 3)
		q := NewRolling("iqr", tc.w, 1.5)
		worst := 0.0
		for i, v := range x {
			pz, pq := z.Push(v), q.Push(v)
			if i < tc.w {
				if pz.Score != 0 || pz.Anomaly || pq.Score != 0 || pq.Anomaly {
					t.Fatalf("point %d scored before a full window", i)
				}
				continue
			}
			win := x[i-tc.w : i]
			want := exactZ(win, v)
			err := math.Abs(pz.Score - want)
			if err > 1e-9*(1+math.Abs(want)) {
				t.Fatalf("offset %g w %d point %d: z %v, exact %v", tc.offset, tc.w, i, pz.Score, want)
			}
			worst = max(worst, err/(1+math.Abs(want)))
			if pz.Anomaly != (math.Abs(want) > 3) {
				t.Fatalf("point %d: flag %v for exact z %v", i, pz.Anomaly, want)
			}
			// Batch's IQR over the window plus the point: the same
			// quartiles come from the window alone via the sorted copy.
			sorted := slices.Clone(win)
			slices.Sort(sorted)
			q1, q3 := percentile(sorted, 25), percentile(sorted, 75)
			d := math.Max(math.Max(q1-v, v-q3), 0)
			wantQ := d
			if q3 > q1 {
				wantQ = d / (q3 - q1)
			}
			if pq.Score != wantQ || pq.Lower != q1-1.5*(q3-q1) || pq.Upper != q3+1.5*(q3-q1) {
				t.Fatalf("point %d: iqr score %v bounds [%v, %v], want %v [%v, %v]", i, pq.Score, pq.Lower, pq.Upper,
					wantQ, q1-1.5*(q3-q1), q3+1.5*(q3-q1))
			}
		}
		t.Logf("offset %g w %d: worst relative z error %.2g", tc.offset, tc.w, worst)
	}
}

// Trailing lists the last W points; Bounds is what the next point meets.
func TestRollingTrailingAndBounds(t *testing.T) {
	r := NewRolling("zscore", 3, 1)
	if _, _, ok := r.Bounds(); ok {
		t.Fatal("bounds before a full window")
	}
	for _, v := range []float64{1, 2, 3, 10, 2} {
		r.Push(v)
	}
	start, scores, anomalies := r.Trailing()
	// Point 3 (10) against 1, 2, 3: mean 2, sd sqrt(2/3); point 4 (2)
	// against 2, 3, 10: mean 5, sd sqrt(38/3).
	z3, z4 := 8/math.Sqrt(2.0/3), -3/math.Sqrt(38.0/3)
	if start != 2 || len(scores) != 3 || scores[0] != 0 || math.Abs(scores[1]-z3) > 1e-12 || math.Abs(scores[2]-z4) > 1e-12 ||
		!slices.Equal(anomalies, []int{3}) || r.Count != 1 {
		t.Fatalf("start %d scores %v anomalies %v count %d", start, scores, anomalies, r.Count)
	}
	lo, hi, ok := r.Bounds()
	m, sd := 5.0, math.Sqrt(38.0/3) // 3, 10, 2
	if !ok || math.Abs(lo-(m-sd)) > 1e-12 || math.Abs(hi-(m+sd)) > 1e-12 {
		t.Fatalf("bounds [%v, %v], want [%v, %v]", lo, hi, m-sd, m+sd)
	}
}
