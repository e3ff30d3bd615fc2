package emu

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/gokernels/gokernels/cuda"
	"github.com/gokernels/gokernels/kernels/ml/kmeans"
	"github.com/gokernels/gokernels/kernels/risk/montecarlo"
)

// PageRank mirrors pr_* in graph.cu: per iteration y = x·inv, the dangling
// sum, then one thread per target node summing its in-arcs in CSR order.
func (d *Device) PageRank(ctx context.Context, j *cuda.PageRankJob) (*cuda.PageRankResult, error) {
	if err := d.begin(ctx, "PageRank"); err != nil {
		return nil, err
	}
	n := j.N
	nf := float64(n)
	x := make([]float64, n)
	for i := range x {
		x[i] = 1 / nf
	}
	next := make([]float64, n)
	y := make([]float64, n)
	teleport := (1 - j.Damping) / nf
	for it := 1; it <= j.MaxIter; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for u := range x {
			y[u] = x[u] * j.Inv[u]
		}
		dsum := 0.0
		for _, u := range j.Dangling {
			dsum += x[u]
		}
		base := j.Damping*dsum/nf + teleport
		diff := 0.0
		for v := 0; v < n; v++ {
			s := 0.0
			for e := j.InPtr[v]; e < j.InPtr[v+1]; e++ {
				if j.InW == nil {
					s += y[j.InIdx[e]]
				} else {
					s += y[j.InIdx[e]] * j.InW[e]
				}
			}
			nv := j.Damping*s + base
			next[v] = nv
			diff += math.Abs(nv - x[v])
		}
		x, next = next, x
		if diff < nf*j.Tol {
			return &cuda.PageRankResult{Scores: x, Iterations: it, Converged: true}, nil
		}
	}
	return &cuda.PageRankResult{Scores: x, Iterations: j.MaxIter}, nil
}

// Betweenness mirrors bc_brandes: one search per source, level by level;
// the backward pass pulls (1+δ)/σ from the next level's successors.
func (d *Device) Betweenness(ctx context.Context, j *cuda.BetweennessJob) ([]float64, error) {
	if err := d.begin(ctx, "Betweenness"); err != nil {
		return nil, err
	}
	n := j.N
	bc := make([]float64, n)
	depth := make([]int32, n)
	sigma := make([]float64, n)
	coef := make([]float64, n)
	order := make([]int32, 0, n)
	for s := 0; s < n; s++ {
		if s%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		for i := range depth {
			depth[i] = -1
			sigma[i] = 0
		}
		order = append(order[:0], int32(s))
		depth[s], sigma[s] = 0, 1
		for head := 0; head < len(order); head++ {
			v := order[head]
			for _, w := range j.Idx[j.Ptr[v]:j.Ptr[v+1]] {
				if depth[w] < 0 {
					depth[w] = depth[v] + 1
					order = append(order, w)
				}
				if depth[w] == depth[v]+1 {
					sigma[w] += sigma[v]
				}
			}
		}
		for i := len(order) - 1; i >= 0; i-- {
			v := order[i]
			sum := 0.0
			for _, w := range j.Idx[j.Ptr[v]:j.Ptr[v+1]] {
				if depth[w] == depth[v]+1 {
					sum += coef[w]
				}
			}
			delta := sigma[v] * sum
			coef[v] = (1 + delta) / sigma[v]
			if int(v) != s {
				bc[v] += delta
			}
		}
	}
	return bc, nil
}

// Degree mirrors deg_centrality.
func (d *Device) Degree(ctx context.Context, j *cuda.DegreeJob) ([]float64, error) {
	if err := d.begin(ctx, "Degree"); err != nil {
		return nil, err
	}
	out := make([]float64, j.N)
	for u := 0; u < j.N; u++ {
		outDeg := j.Ptr[u+1] - j.Ptr[u]
		var deg int32
		switch {
		case j.Mode == 1:
			deg = j.InPtr[u+1] - j.InPtr[u]
		case j.Mode == 2:
			deg = outDeg
		case j.Directed:
			deg = outDeg + j.InPtr[u+1] - j.InPtr[u]
		default:
			deg = outDeg
			if _, ok := slices.BinarySearch(j.Idx[j.Ptr[u]:j.Ptr[u+1]], int32(u)); ok {
				deg++
			}
		}
		out[u] = float64(deg) * j.Scale
	}
	return out, nil
}

// WeakComponents mirrors cc_hook/cc_compress: union-find where the larger
// root is always linked under the smaller, so every root is its
// component's smallest node.
func (d *Device) WeakComponents(ctx context.Context, n int, src, dst []int32) ([]int32, error) {
	if err := d.begin(ctx, "WeakComponents"); err != nil {
		return nil, err
	}
	parent := make([]int32, n)
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for e := range src {
		a, b := find(src[e]), find(dst[e])
		if a == b {
			continue
		}
		if a < b {
			a, b = b, a
		}
		parent[a] = b
	}
	for i := range parent {
		parent[i] = find(int32(i))
	}
	return parent, nil
}

// Triangles mirrors tc_count: one thread per oriented arc (u,v)
// intersecting the sorted out-lists of u and v.
func (d *Device) Triangles(ctx context.Context, optr, oidx []int32) ([]int64, error) {
	if err := d.begin(ctx, "Triangles"); err != nil {
		return nil, err
	}
	n := len(optr) - 1
	counts := make([]int64, n)
	for u := 0; u < n; u++ {
		outU := oidx[optr[u]:optr[u+1]]
		for _, v := range outU {
			outV := oidx[optr[v]:optr[v+1]]
			i, k := 0, 0
			for i < len(outU) && k < len(outV) {
				a, b := outU[i], outV[k]
				switch {
				case a < b:
					i++
				case a > b:
					k++
				default:
					counts[u]++
					counts[v]++
					counts[a]++
					i++
					k++
				}
			}
		}
	}
	return counts, nil
}

// Covariance mirrors cov_syrk: each entry is one sequential dot product.
func (d *Device) Covariance(ctx context.Context, centred []float64, n, t int) ([]float64, error) {
	if err := d.begin(ctx, "Covariance"); err != nil {
		return nil, err
	}
	cov := make([]float64, n*n)
	for i := 0; i < n; i++ {
		ri := centred[i*t : (i+1)*t]
		for j := i; j < n; j++ {
			rj := centred[j*t : (j+1)*t]
			var s float64
			for k := range ri {
				s += ri[k] * rj[k]
			}
			c := s / float64(t-1)
			cov[i*n+j], cov[j*n+i] = c, c
		}
	}
	return cov, nil
}

// MonteCarlo mirrors mc_*: P&L per path, block sums, an exact k-th
// smallest (radix select on the device), the tail by the CPU path's rule
// (below the threshold, then the lowest-indexed ties) and the chunked sums
// of the tail paths' draws.
func (d *Device) MonteCarlo(ctx context.Context, j *cuda.MonteCarloJob) (*cuda.MonteCarloResult, error) {
	if err := d.begin(ctx, "MonteCarlo"); err != nil {
		return nil, err
	}
	na := len(j.Loading)
	pnl := make([]float64, j.Paths)
	z := make([]float64, na)
	for p := range pnl {
		if p%(1<<16) == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		pnl[p] = montecarlo.PathPnL(j.Seed, uint64(p), j.Drift, j.Loading, z)
	}
	res := &cuda.MonteCarloResult{}
	var total float64
	for lo := 0; lo < j.Paths; lo += cuda.MonteCarloBlock {
		var s float64
		for _, v := range pnl[lo:min(j.Paths, lo+cuda.MonteCarloBlock)] {
			s += v
		}
		res.BlockSums = append(res.BlockSums, s)
		total += s
	}
	mean := total / float64(j.Paths)
	for lo := 0; lo < j.Paths; lo += cuda.MonteCarloBlock {
		var s float64
		for _, v := range pnl[lo:min(j.Paths, lo+cuda.MonteCarloBlock)] {
			dv := v - mean
			s += dv * dv
		}
		res.BlockSquares = append(res.BlockSquares, s)
	}
	sorted := slices.Clone(pnl)
	slices.Sort(sorted)
	t := sorted[j.Tail-1]
	below := sort.SearchFloat64s(sorted, t) // values < t
	ties := j.Tail - below
	for p, v := range pnl {
		if v < t || (v == t && ties > 0) {
			if v == t {
				ties--
			}
			res.TailIdx = append(res.TailIdx, p)
			res.TailPnL = append(res.TailPnL, v)
		}
	}
	for lo := 0; lo < len(res.TailIdx); lo += cuda.MonteCarloChunk {
		s := make([]float64, na)
		for _, p := range res.TailIdx[lo:min(len(res.TailIdx), lo+cuda.MonteCarloChunk)] {
			montecarlo.Normals(j.Seed, uint64(p), z)
			for k, v := range z {
				s[k] += v
			}
		}
		res.ZChunkSums = append(res.ZChunkSums, s...)
	}
	return res, nil
}

// KMeans mirrors the device k-means (kmeans.cu driven by cuda/gpu): greedy
// k-means++ with the host's PCG draws, then Lloyd with deterministic
// per-block centre sums, so that equal partitions give bit-equal inertia
// and the best run is chosen as the CPU path chooses it.
func (d *Device) KMeans(ctx context.Context, j *cuda.KMeansJob) (*cuda.KMeansResult, error) {
	if err := d.begin(ctx, "KMeans"); err != nil {
		return nil, err
	}
	runs := 1
	if j.Init == nil {
		runs = max(1, j.NInit)
	}
	var best *cuda.KMeansResult
	for r := 0; r < runs; r++ {
		var centres []float64
		if j.Init != nil {
			centres = slices.Clone(j.Init)
		} else {
			var err error
			if centres, err = plusPlus(ctx, j, r); err != nil {
				return nil, err
			}
		}
		res, err := lloyd(ctx, j, centres)
		if err != nil {
			return nil, err
		}
		if best == nil || res.Inertia < best.Inertia {
			best = res
		}
	}
	return best, nil
}

func plusPlus(ctx context.Context, j *cuda.KMeansJob, r int) ([]float64, error) {
	n, dd, k := j.N, j.D, j.K
	row := func(i int) []float64 { return j.Data[i*dd : (i+1)*dd] }
	rng := rand.New(rand.NewPCG(j.Seed, uint64(r)))
	trials := cuda.KMeansTrials(k)
	centres := make([]float64, k*dd)
	first := rng.IntN(n)
	copy(centres[:dd], row(first))
	closest := make([]float64, n)
	for i := range closest {
		closest[i] = kmeans.SqDist(row(i), centres[:dd])
	}
	pot := blockSum(closest)
	cum := make([]float64, n)
	cand := make([]int, trials)
	candDist := make([][]float64, trials)
	for t := range candDist {
		candDist[t] = make([]float64, n)
	}
	for c := 1; c < k; c++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var acc float64
		for i, v := range closest {
			acc += v
			cum[i] = acc
		}
		for t := range cand {
			rv := rng.Float64() * pot
			cand[t] = min(sort.SearchFloat64s(cum, rv), n-1)
		}
		bestT, bestPot := 0, math.Inf(1)
		for t, ci := range cand {
			for i := range closest {
				candDist[t][i] = min(closest[i], kmeans.SqDist(row(i), row(ci)))
			}
			if s := blockSum(candDist[t]); s < bestPot {
				bestT, bestPot = t, s
			}
		}
		pot = bestPot
		copy(closest, candDist[bestT])
		copy(centres[c*dd:(c+1)*dd], row(cand[bestT]))
	}
	return centres, nil
}

// blockSum sums per block of KMeansRowsPerBlock values, then the block
// sums in order (the device's deterministic reduction order, modulo the
// in-block tree).
func blockSum(x []float64) float64 {
	var total float64
	for lo := 0; lo < len(x); lo += cuda.KMeansRowsPerBlock {
		var s float64
		for _, v := range x[lo:min(len(x), lo+cuda.KMeansRowsPerBlock)] {
			s += v
		}
		total += s
	}
	return total
}

func nearest(x, centres []float64, k, dd int) int32 {
	best, bd := int32(0), math.Inf(1)
	for c := 0; c < k; c++ {
		if v := kmeans.SqDist(x, centres[c*dd:(c+1)*dd]); v < bd {
			best, bd = int32(c), v
		}
	}
	return best
}

func lloyd(ctx context.Context, j *cuda.KMeansJob, centres []float64) (*cuda.KMeansResult, error) {
	n, dd, k := j.N, j.D, j.K
	row := func(i int) []float64 { return j.Data[i*dd : (i+1)*dd] }
	labels := make([]int32, n)
	old := make([]int32, n)
	for i := range old {
		old[i] = -1
	}
	next := make([]float64, k*dd)
	weight := make([]float64, k)
	blocks := (n + cuda.KMeansRowsPerBlock - 1) / cuda.KMeansRowsPerBlock
	bsum := make([]float64, blocks*k*dd)
	bcnt := make([]float64, blocks*k)
	res := &cuda.KMeansResult{}
	strict := false
	iter := 0
	for iter = 0; iter < j.MaxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		changed := 0
		for i := 0; i < n; i++ {
			labels[i] = nearest(row(i), centres, k, dd)
			if labels[i] != old[i] {
				changed++
			}
		}
		clear(bsum)
		clear(bcnt)
		for b := 0; b < blocks; b++ {
			for i := b * cuda.KMeansRowsPerBlock; i < min(n, (b+1)*cuda.KMeansRowsPerBlock); i++ {
				c := int(labels[i])
				bcnt[b*k+c]++
				for f, v := range row(i) {
					bsum[(b*k+c)*dd+f] += v
				}
			}
		}
		clear(next)
		clear(weight)
		for b := 0; b < blocks; b++ {
			for q, v := range bsum[b*k*dd : (b+1)*k*dd] {
				next[q] += v
			}
			for c, v := range bcnt[b*k : (b+1)*k] {
				weight[c] += v
			}
		}
		if slices.Contains(weight, 0) {
			dist := make([]float64, n)
			for i := range dist {
				l := int(labels[i])
				dist[i] = kmeans.SqDist(row(i), centres[l*dd:(l+1)*dd])
			}
			cuda.RelocateEmpty(j.Data, dd, dist, next, weight, labels)
		}
		var total float64
		for c := 0; c < k; c++ {
			if weight[c] > 0 {
				a := 1 / weight[c]
				for f := range next[c*dd : (c+1)*dd] {
					next[c*dd+f] *= a
				}
			}
			total += kmeans.SqDist(next[c*dd:(c+1)*dd], centres[c*dd:(c+1)*dd])
		}
		centres, next = next, centres
		if changed == 0 {
			strict = true
			break
		}
		if total <= j.Tol {
			res.Converged = true
			break
		}
		copy(old, labels)
	}
	if strict {
		res.Converged = true
	} else {
		for i := 0; i < n; i++ {
			labels[i] = nearest(row(i), centres, k, dd)
		}
	}
	parts := make([]float64, n)
	for i := range parts {
		l := int(labels[i])
		parts[i] = kmeans.SqDist(row(i), centres[l*dd:(l+1)*dd])
	}
	res.Labels = labels
	res.Centroids = centres
	res.Iterations = min(iter+1, j.MaxIter)
	res.Inertia = blockSum(parts)
	return res, nil
}
