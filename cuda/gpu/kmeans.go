//go:build cuda || cudaemu

package gpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gokernels/gokernels/cuda"
	"github.com/gokernels/gokernels/kernels/ml/kmeans"
)

// KMeans implements cuda.Kernels: the flow of cuda/emu's KMeans, with the
// O(n) steps in kmeans.cu and the data resident on the device across runs.
func (d *Device) KMeans(ctx context.Context, j *cuda.KMeansJob) (*cuda.KMeansResult, error) {
	if cuda.KMeansRowsPerBlock != tpb {
		return nil, fmt.Errorf("KMeansRowsPerBlock %d must equal the block size %d", cuda.KMeansRowsPerBlock, tpb)
	}
	var best *cuda.KMeansResult
	err := d.do(ctx, "kmeans", func() error {
		km, err := d.newKMeans(j)
		if err != nil {
			return err
		}
		runs := 1
		if j.Init == nil {
			runs = max(1, j.NInit)
		}
		for r := 0; r < runs; r++ {
			var centres []float64
			if j.Init != nil {
				centres = slices.Clone(j.Init)
			} else if centres, err = km.plusPlus(ctx, r); err != nil {
				return err
			}
			res, err := km.lloyd(ctx, centres)
			if err != nil {
				return err
			}
			if best == nil || res.Inertia < best.Inertia {
				best = res
			}
		}
		return nil
	})
	return best, err
}

// kmState holds one fit's device buffers.
type kmState struct {
	d                            *Device
	j                            *cuda.KMeansJob
	n, dd, k, nb                 int64
	data, closest, partial       dptr
	centres, labels, old, change dptr
	bsum, bcnt, sums, weight     dptr
	dist                         dptr
}

func (d *Device) newKMeans(j *cuda.KMeansJob) (*kmState, error) {
	s := &kmState{d: d, j: j, n: int64(j.N), dd: int64(j.D), k: int64(j.K)}
	s.nb = int64(blocks(s.n))
	var err error
	if s.data, err = upload(d, j.Data); err != nil {
		return nil, err
	}
	for _, b := range []struct {
		p     *dptr
		bytes int64
	}{
		{&s.closest, s.n * 8}, {&s.partial, s.nb * 8}, {&s.centres, s.k * s.dd * 8},
		{&s.labels, s.n * 4}, {&s.old, s.n * 4}, {&s.change, 8},
		{&s.bsum, s.nb * s.k * s.dd * 8}, {&s.bcnt, s.nb * s.k * 8},
		{&s.sums, s.k * s.dd * 8}, {&s.weight, s.k * 8}, {&s.dist, s.n * 8},
	} {
		if *b.p, err = d.alloc(b.bytes); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *kmState) row(i int64) []float64 { return s.j.Data[i*s.dd : (i+1)*s.dd] }

// sumPartials downloads m per-block partial sums and adds them in order.
func (s *kmState) sumPartials(p dptr, m int64) (float64, error) {
	h := make([]float64, m)
	if err := download(s.d, h, p); err != nil {
		return 0, err
	}
	var t float64
	for _, v := range h {
		t += v
	}
	return t, nil
}

// scan writes the inclusive prefix sums of in[0..n) to out.
func (d *Device) scan(in, out dptr, n int64) error {
	const tile = tpb * 8 // SCAN_ITEMS
	tiles := (n + tile - 1) / tile
	totals, err := d.alloc(tiles * 8)
	if err != nil {
		return err
	}
	if err := d.launch("scan_tiles", int(tiles), tpb, 0, in, out, n, totals); err != nil {
		return err
	}
	if tiles == 1 {
		return nil
	}
	scanned, err := d.alloc(tiles * 8)
	if err != nil {
		return err
	}
	if err := d.scan(totals, scanned, tiles); err != nil {
		return err
	}
	return d.launch("scan_add", d.gridFor(n), tpb, 0, out, n, scanned)
}

// plusPlus is the kmeans package's greedy k-means++ with its PCG stream;
// distances, prefix sums and candidate search run on the device.
func (s *kmState) plusPlus(ctx context.Context, r int) ([]float64, error) {
	d, n, dd, k := s.d, s.n, s.dd, s.k
	rng := rand.New(rand.NewPCG(s.j.Seed, uint64(r)))
	trials := int64(cuda.KMeansTrials(int(k)))
	centres := make([]float64, k*dd)
	first := int64(rng.IntN(int(n)))
	copy(centres[:dd], s.row(first))
	if err := d.launch("km_dist_to_row", int(s.nb), tpb, 0, s.data, n, dd, first, s.closest, s.partial); err != nil {
		return nil, err
	}
	pot, err := s.sumPartials(s.partial, s.nb)
	if err != nil {
		return nil, err
	}
	cum, err := d.alloc(n * 8)
	if err != nil {
		return nil, err
	}
	candDist, err := d.alloc(trials * n * 8)
	if err != nil {
		return nil, err
	}
	candPartial, err := d.alloc(trials * s.nb * 8)
	if err != nil {
		return nil, err
	}
	rbuf, err := d.alloc(trials * 8)
	if err != nil {
		return nil, err
	}
	candBuf, err := d.alloc(trials * 8)
	if err != nil {
		return nil, err
	}
	rv := make([]float64, trials)
	cand := make([]int64, trials)
	parts := make([]float64, trials*s.nb)
	for c := int64(1); c < k; c++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := d.scan(s.closest, cum, n); err != nil {
			return nil, err
		}
		for t := range rv {
			rv[t] = rng.Float64() * pot
		}
		if err := d.htod(rbuf, ptrOf(rv), trials*8); err != nil {
			return nil, err
		}
		if err := d.launch("km_search", 1, tpb, 0, cum, n, rbuf, trials, candBuf); err != nil {
			return nil, err
		}
		if err := d.launch("km_cand_dist", int(s.nb), tpb, 0, s.data, n, dd, s.closest, candBuf, trials, candDist, candPartial); err != nil {
			return nil, err
		}
		if err := download(d, cand, candBuf); err != nil {
			return nil, err
		}
		if err := download(d, parts, candPartial); err != nil {
			return nil, err
		}
		bestT, bestPot := int64(0), math.Inf(1)
		for t := int64(0); t < trials; t++ {
			var sum float64
			for _, v := range parts[t*s.nb : (t+1)*s.nb] {
				sum += v
			}
			if sum < bestPot {
				bestT, bestPot = t, sum
			}
		}
		pot = bestPot
		if err := d.dtod(s.closest, candDist+dptr(bestT*n*8), n*8); err != nil {
			return nil, err
		}
		copy(centres[c*dd:(c+1)*dd], s.row(cand[bestT]))
	}
	return centres, nil
}

// lloyd runs Lloyd iterations from centres, as cuda/emu's lloyd does.
func (s *kmState) lloyd(ctx context.Context, centres []float64) (*cuda.KMeansResult, error) {
	d, n, dd, k, j := s.d, s.n, s.dd, s.k, s.j
	if err := d.memset(s.old, 0xff, n*4); err != nil { // labels −1
		return nil, err
	}
	useShared := k*dd*8 <= 48<<10
	shmem := 0
	if useShared {
		shmem = int(k * dd * 8)
	}
	lanes := int(min(tpb, (dd+31)/32*32))
	next := make([]float64, k*dd)
	weight := make([]float64, k)
	changed := make([]uint64, 1)
	assign := func(old dptr) error {
		if err := d.htod(s.centres, ptrOf(centres), k*dd*8); err != nil {
			return err
		}
		if err := d.memset0(s.change, 8); err != nil {
			return err
		}
		return d.launch("km_assign", d.gridFor(n), tpb, shmem, s.data, n, dd, s.centres, k, useShared, s.labels, old, s.change)
	}
	res := &cuda.KMeansResult{}
	strict := false
	iter := 0
	for iter = 0; iter < j.MaxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := assign(s.old); err != nil {
			return nil, err
		}
		if err := d.memset0(s.bsum, s.nb*k*dd*8); err != nil {
			return nil, err
		}
		if err := d.memset0(s.bcnt, s.nb*k*8); err != nil {
			return nil, err
		}
		if err := d.launch("km_block_sums", int(s.nb), lanes, 0, s.data, n, dd, s.labels, k, int64(tpb), s.bsum, s.bcnt); err != nil {
			return nil, err
		}
		if err := d.launch("km_reduce_blocks", d.gridFor(k*dd), tpb, 0, s.bsum, s.bcnt, s.nb, k, dd, s.sums, s.weight); err != nil {
			return nil, err
		}
		if err := download(d, next, s.sums); err != nil {
			return nil, err
		}
		if err := download(d, weight, s.weight); err != nil {
			return nil, err
		}
		if err := download(d, changed, s.change); err != nil {
			return nil, err
		}
		if slices.Contains(weight, 0) {
			// centres on the device are still this iteration's.
			if err := d.launch("km_dist_own", int(s.nb), tpb, 0, s.data, n, dd, s.centres, s.labels, s.dist, s.partial); err != nil {
				return nil, err
			}
			dist := make([]float64, n)
			labels := make([]int32, n)
			if err := download(d, dist, s.dist); err != nil {
				return nil, err
			}
			if err := download(d, labels, s.labels); err != nil {
				return nil, err
			}
			cuda.RelocateEmpty(j.Data, int(dd), dist, next, weight, labels)
		}
		var total float64
		for c := int64(0); c < k; c++ {
			if weight[c] > 0 {
				a := 1 / weight[c]
				for f := range next[c*dd : (c+1)*dd] {
					next[c*dd+int64(f)] *= a
				}
			}
			total += kmeans.SqDist(next[c*dd:(c+1)*dd], centres[c*dd:(c+1)*dd])
		}
		centres, next = next, centres
		if changed[0] == 0 {
			strict = true
			break
		}
		if total <= j.Tol {
			res.Converged = true
			break
		}
		if err := d.dtod(s.old, s.labels, n*4); err != nil {
			return nil, err
		}
	}
	if strict {
		res.Converged = true
		if err := d.htod(s.centres, ptrOf(centres), k*dd*8); err != nil {
			return nil, err
		}
	} else if err := assign(s.labels); err != nil { // labels for the final centres
		return nil, err
	}
	if err := d.launch("km_dist_own", int(s.nb), tpb, 0, s.data, n, dd, s.centres, s.labels, s.dist, s.partial); err != nil {
		return nil, err
	}
	inertia, err := s.sumPartials(s.partial, s.nb)
	if err != nil {
		return nil, err
	}
	res.Labels = make([]int32, n)
	if err := download(d, res.Labels, s.labels); err != nil {
		return nil, err
	}
	res.Centroids = slices.Clone(centres)
	res.Iterations = min(iter+1, j.MaxIter)
	res.Inertia = inertia
	return res, nil
}
