// Package kmeans is Lloyd's k-means with greedy k-means++ seeding, step for
// step the algorithm of sklearn.cluster.KMeans(algorithm="lloyd").
//
// Matching sklearn means: the tolerance is relative (tol × mean per-feature
// variance of the data) and compared with the summed squared centre shift;
// an iteration that leaves every label unchanged stops at once ("strict
// convergence"); otherwise, after the last iteration, labels are recomputed
// against the final centres; an empty cluster is re-seeded with the sample
// farthest from its own centre. With explicit initial centres the result
// equals KMeans(init=centres, n_init=1) up to rounding. k-means++ follows
// sklearn's greedy variant (2 + ⌊ln k⌋ candidates per centre, keep the one
// that lowers the potential most) with this package's seeded PCG streams.
//
// The assignment step runs in parallel over fixed row chunks and the centre
// sums are reduced in chunk order, so results are identical on any number
// of cores.
package kmeans

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/gokernels/gokernels/kernels/ml/matrix"
	"github.com/gokernels/gokernels/kernels/par"
)

// Params configure a k-means run.
type Params struct {
	K       int
	MaxIter int     // >= 1
	Tol     float64 // relative tolerance, >= 0
	NInit   int     // k-means++ restarts; ignored (1) with Init
	Seed    uint64
	Init    []float64 // optional K×d initial centres, row-major
}

// Result is the best run (lowest inertia).
type Result struct {
	Labels     []int32
	Centroids  []float64 // K×d row-major
	Inertia    float64   // Σ squared distance to the assigned centre
	Iterations int       // Lloyd iterations of the best run
	Converged  bool      // stopped by strict convergence or tolerance, not max_iter
}

const chunk = 2048

// sumBudget bounds the per-chunk centre sums (chunks × k × d doubles): with
// many clusters the chunks grow instead, so memory stays O(n·d + k·d).
const sumBudget = 1 << 23

// chunkRows is the row-chunk size for n rows and k×d centre values. It
// depends only on the problem size, so results do not depend on the cores.
func chunkRows(n, k, d int) int {
	need := (n/chunk + 1) * k * d
	if need <= sumBudget {
		return chunk
	}
	return max(chunk, int(math.Ceil(float64(n)*float64(k*d)/sumBudget)))
}

// Run clusters the rows of m. It expects 1 <= K <= m.Rows.
func Run(ctx context.Context, m matrix.Dense, p Params) (Result, error) {
	tol := RelativeTol(m, p.Tol)
	if p.Init != nil {
		return lloyd(ctx, m, p, slices.Clone(p.Init), tol)
	}
	var best Result
	for r := 0; r < max(1, p.NInit); r++ {
		rng := rand.New(rand.NewPCG(p.Seed, uint64(r)))
		centres, err := plusPlus(ctx, m, p.K, rng)
		if err != nil {
			return Result{}, err
		}
		res, err := lloyd(ctx, m, p, centres, tol)
		if err != nil {
			return Result{}, err
		}
		if r == 0 || res.Inertia < best.Inertia {
			best = res
		}
	}
	return best, nil
}

// RelativeTol is sklearn's _tolerance: tol × mean of the per-feature
// variances. The GPU path (cuda/) uses it too.
func RelativeTol(m matrix.Dense, tol float64) float64 {
	if tol == 0 {
		return 0
	}
	n, d := m.Rows, m.Cols
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range m.Row(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	vars := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range m.Row(i) {
			dv := v - mean[j]
			vars[j] += dv * dv
		}
	}
	var s float64
	for _, v := range vars {
		s += v / float64(n)
	}
	return s / float64(d) * tol
}

// SqDist is the squared Euclidean distance with four accumulators: the
// summation order the device kernel (cuda/kernels/kmeans.cu, km_sqdist)
// repeats operation for operation, so both paths see the same bits.
func SqDist(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+3 < len(a); i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// nearest returns the index of the closest centre (first on ties) and the
// squared distance to it.
func nearest(x, centres []float64, k, d int) (int32, float64) {
	best, bd := int32(0), math.Inf(1)
	for c := 0; c < k; c++ {
		if dd := SqDist(x, centres[c*d:(c+1)*d]); dd < bd {
			best, bd = int32(c), dd
		}
	}
	return best, bd
}

// lloyd runs Lloyd iterations from the given centres (overwritten).
//
// The assignment step uses Hamerly's bounds to skip exact work without
// changing the result: for each sample it keeps an upper bound u on the
// distance to its centre and a lower bound l on the distance to any other
// centre, both moved by how far the centres moved. When u is strictly below
// max(l, half the distance from its centre to the nearest other centre) no
// other centre can be closer (or tie), so the label is kept; otherwise the
// sample is compared with every centre and, as in Lloyd, the first nearest
// wins. A tiny relative margin absorbs rounding in the bounds.
func lloyd(ctx context.Context, m matrix.Dense, p Params, centres []float64, tol float64) (Result, error) {
	n, d, k := m.Rows, m.Cols, p.K
	labels := make([]int32, n)
	old := make([]int32, n)
	for i := range old {
		old[i] = -1
	}
	upper := make([]float64, n)
	lower := make([]float64, n)
	chunk := chunkRows(n, k, d)
	nc := par.Chunks(n, chunk)
	sums := make([]float64, nc*k*d)
	counts := make([]float64, nc*k)
	next := make([]float64, k*d)
	weight := make([]float64, k)
	half := make([]float64, k)  // half the distance to the nearest other centre
	shift := make([]float64, k) // how far each centre moved
	var dists []float64

	res := Result{}
	strict := false
	iter := 0
	for iter = 0; iter < p.MaxIter; iter++ {
		clear(sums)
		clear(counts)
		halfDistances(centres, half, k, d)
		first := iter == 0
		err := par.For(ctx, n, chunk, func(c, lo, hi int) error {
			s := sums[c*k*d : (c+1)*k*d]
			w := counts[c*k : (c+1)*k]
			for i := lo; i < hi; i++ {
				x := m.Row(i)
				a := labels[i]
				if first || !keep(x, centres, d, a, half[a], &upper[i], lower[i]) {
					a, upper[i], lower[i] = nearestTwo(x, centres, k, d)
					labels[i] = a
				}
				w[a]++
				row := s[int(a)*d : int(a)*d+d]
				for j, v := range x {
					row[j] += v
				}
			}
			return nil
		})
		if err != nil {
			return Result{}, err
		}
		clear(next)
		clear(weight)
		for c := 0; c < nc; c++ {
			for j, v := range sums[c*k*d : (c+1)*k*d] {
				next[j] += v
			}
			for j, v := range counts[c*k : (c+1)*k] {
				weight[j] += v
			}
		}
		if dists == nil && slices.Contains(weight, 0) {
			dists = make([]float64, n)
		}
		relocateEmpty(m, centres, next, weight, labels, k, dists)
		for c := 0; c < k; c++ {
			if weight[c] > 0 {
				a := 1 / weight[c]
				for j := range next[c*d : (c+1)*d] {
					next[c*d+j] *= a
				}
			}
		}
		var total float64
		for c := 0; c < k; c++ {
			sq := SqDist(next[c*d:(c+1)*d], centres[c*d:(c+1)*d])
			total += sq
			shift[c] = math.Sqrt(sq)
		}
		centres, next = next, centres
		if slices.Equal(labels, old) {
			strict = true
			break
		}
		if total <= tol {
			res.Converged = true
			break
		}
		copy(old, labels)
		moveBounds(ctx, labels, upper, lower, shift)
	}
	if strict {
		res.Converged = true
	} else {
		// Labels must describe the returned centres.
		err := par.For(ctx, n, chunk, func(_, lo, hi int) error {
			for i := lo; i < hi; i++ {
				labels[i], _ = nearest(m.Row(i), centres, k, d)
			}
			return nil
		})
		if err != nil {
			return Result{}, err
		}
	}
	res.Labels = labels
	res.Centroids = centres
	res.Iterations = min(iter+1, p.MaxIter)
	in, err := Inertia(ctx, m, centres, labels)
	if err != nil {
		return Result{}, err
	}
	res.Inertia = in
	return res, nil
}

// margin makes the bound test conservative against rounding in the bounds.
const margin = 1e-10

// keep reports whether sample x certainly stays with centre a; it may
// tighten *u to the exact distance on the way.
func keep(x, centres []float64, d int, a int32, half float64, u *float64, l float64) bool {
	z := max(l, half) * (1 - margin)
	if *u*(1+margin) < z {
		return true
	}
	*u = math.Sqrt(SqDist(x, centres[int(a)*d:int(a)*d+d]))
	return *u*(1+margin) < z
}

// nearestTwo returns the first nearest centre, the distance to it and the
// distance to the nearest other centre.
func nearestTwo(x, centres []float64, k, d int) (int32, float64, float64) {
	best, b1, b2 := int32(0), math.Inf(1), math.Inf(1)
	for c := 0; c < k; c++ {
		dd := SqDist(x, centres[c*d:(c+1)*d])
		if dd < b1 {
			best, b1, b2 = int32(c), dd, b1
		} else if dd < b2 {
			b2 = dd
		}
	}
	return best, math.Sqrt(b1), math.Sqrt(b2)
}

// halfDistances sets half[c] to half the distance from centre c to the
// nearest other centre (+Inf when k = 1).
func halfDistances(centres, half []float64, k, d int) {
	for c := range half {
		half[c] = math.Inf(1)
	}
	for a := 0; a < k; a++ {
		for b := a + 1; b < k; b++ {
			h := math.Sqrt(SqDist(centres[a*d:(a+1)*d], centres[b*d:(b+1)*d])) / 2
			half[a] = min(half[a], h)
			half[b] = min(half[b], h)
		}
	}
}

// moveBounds widens the bounds by the centre shifts: u grows by the shift of
// the sample's centre, l shrinks by the largest shift of any other centre.
func moveBounds(ctx context.Context, labels []int32, upper, lower, shift []float64) {
	m1, m2, arg := 0.0, 0.0, -1
	for c, v := range shift {
		if v > m1 {
			m1, m2, arg = v, m1, c
		} else if v > m2 {
			m2 = v
		}
	}
	_ = par.For(ctx, len(labels), chunk*8, func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			a := int(labels[i])
			upper[i] += shift[a]
			if a == arg {
				lower[i] -= m2
			} else {
				lower[i] -= m1
			}
		}
		return nil
	})
}

// relocateEmpty gives each empty cluster the sample farthest from its
// current centre (sklearn's _relocate_empty_clusters_dense), moving that
// sample's contribution out of its old cluster's sum. Labels are left as
// they were, as in sklearn.
func relocateEmpty(m matrix.Dense, centres, sums, weight []float64, labels []int32, k int, dist []float64) {
	var empty []int
	for c := 0; c < k; c++ {
		if weight[c] == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) == 0 {
		return
	}
	d := m.Cols
	far := make([]int, m.Rows)
	for i := range far {
		far[i] = i
		l := int(labels[i])
		dist[i] = SqDist(m.Row(i), centres[l*d:(l+1)*d])
	}
	sort.SliceStable(far, func(a, b int) bool { return dist[far[a]] > dist[far[b]] })
	for e, c := range empty {
		if e >= len(far) {
			break
		}
		i := far[e]
		o := int(labels[i])
		x := m.Row(i)
		for j, v := range x {
			sums[o*d+j] -= v
			sums[c*d+j] = v
		}
		weight[c] = 1
		weight[o]--
	}
}

// Inertia is Σ ‖x_i − centre(label_i)‖².
func Inertia(ctx context.Context, m matrix.Dense, centres []float64, labels []int32) (float64, error) {
	d := m.Cols
	parts := make([]float64, par.Chunks(m.Rows, chunk))
	err := par.For(ctx, m.Rows, chunk, func(c, lo, hi int) error {
		var s float64
		for i := lo; i < hi; i++ {
			l := int(labels[i])
			s += SqDist(m.Row(i), centres[l*d:(l+1)*d])
		}
		parts[c] = s
		return nil
	})
	var s float64
	for _, v := range parts {
		s += v
	}
	return s, err
}

// plusPlus is sklearn's greedy k-means++ seeding.
func plusPlus(ctx context.Context, m matrix.Dense, k int, rng *rand.Rand) ([]float64, error) {
	n, d := m.Rows, m.Cols
	trials := 2 + int(math.Log(float64(k)))
	centres := make([]float64, k*d)
	first := rng.IntN(n)
	copy(centres[:d], m.Row(first))
	closest := make([]float64, n)
	err := par.For(ctx, n, chunk, func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			closest[i] = SqDist(m.Row(i), centres[:d])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pot := sum(closest)
	cum := make([]float64, n)
	cand := make([]int, trials)
	candDist := make([][]float64, trials)
	for t := range candDist {
		candDist[t] = make([]float64, n)
	}
	nc := par.Chunks(n, chunk)
	partial := make([]float64, nc*trials)
	for c := 1; c < k; c++ {
		var acc float64
		for i, v := range closest {
			acc += v
			cum[i] = acc
		}
		for t := range cand {
			r := rng.Float64() * pot
			cand[t] = min(sort.SearchFloat64s(cum, r), n-1)
		}
		err := par.For(ctx, n, chunk, func(ch, lo, hi int) error {
			// Rows outer, candidates inner: each row is read from memory once.
			part := partial[ch*trials : (ch+1)*trials]
			clear(part)
			for i := lo; i < hi; i++ {
				x := m.Row(i)
				ci := closest[i]
				for t, c := range cand {
					v := min(ci, SqDist(x, m.Row(c)))
					candDist[t][i] = v
					part[t] += v
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		best, bestPot := 0, math.Inf(1)
		for t := range cand {
			var s float64
			for ch := 0; ch < nc; ch++ {
				s += partial[ch*trials+t]
			}
			if s < bestPot {
				best, bestPot = t, s
			}
		}
		pot = bestPot
		copy(closest, candDist[best])
		copy(centres[c*d:(c+1)*d], m.Row(cand[best]))
	}
	return centres, nil
}

func sum(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v
	}
	return s
}
