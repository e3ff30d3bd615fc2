//go:build cuda || cudaemu

package gpu

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/gokernels/gokernels/cuda"
)

// MonteCarlo implements cuda.Kernels (montecarlo.cu mc_*), as cuda/emu's
// MonteCarlo does: P&L per path, block sums in the CPU path's order, the
// exact k-th smallest P&L by an 8-pass radix select over order-preserving
// keys, the tail by the CPU path's tie rule, and the chunked sums of the
// tail paths' draws.
func (d *Device) MonteCarlo(ctx context.Context, j *cuda.MonteCarloJob) (*cuda.MonteCarloResult, error) {
	var res *cuda.MonteCarloResult
	err := d.do(ctx, "monte carlo", func() error {
		var err error
		res, err = d.monteCarlo(ctx, j)
		return err
	})
	return res, err
}

func (d *Device) monteCarlo(ctx context.Context, j *cuda.MonteCarloJob) (*cuda.MonteCarloResult, error) {
	paths, na, k := int64(j.Paths), int64(len(j.Loading)), int64(j.Tail)
	z := cuda.Ziggurat()
	zk, err := upload(d, z.K[:])
	if err != nil {
		return nil, err
	}
	zw, err := upload(d, z.W[:])
	if err != nil {
		return nil, err
	}
	zf, err := upload(d, z.F[:])
	if err != nil {
		return nil, err
	}
	loading, err := upload(d, j.Loading)
	if err != nil {
		return nil, err
	}
	pnl, err := d.alloc(paths * 8)
	if err != nil {
		return nil, err
	}
	loadShared := na*8 <= 40_000
	shmem := 3 * 256 * 8
	if loadShared {
		shmem += int(na * 8)
	}
	if err := d.launch("mc_pnl", d.gridFor(paths), tpb, shmem, j.Seed, j.Drift, loading, na, loadShared, paths, zk, zw, zf, pnl); err != nil {
		return nil, err
	}
	if err := d.sync("mc_pnl"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Mean and deviation sums, block by block.
	nb := (paths + cuda.MonteCarloBlock - 1) / cuda.MonteCarloBlock
	bs, err := d.alloc(nb * 8)
	if err != nil {
		return nil, err
	}
	res := &cuda.MonteCarloResult{BlockSums: make([]float64, nb), BlockSquares: make([]float64, nb)}
	if err := d.launch("mc_block_sums", blocks(nb), tpb, 0, pnl, paths, int64(cuda.MonteCarloBlock), 0.0, int64(0), bs); err != nil {
		return nil, err
	}
	if err := download(d, res.BlockSums, bs); err != nil {
		return nil, err
	}
	var total float64
	for _, s := range res.BlockSums {
		total += s
	}
	mean := total / float64(paths)
	if err := d.launch("mc_block_sums", blocks(nb), tpb, 0, pnl, paths, int64(cuda.MonteCarloBlock), mean, int64(1), bs); err != nil {
		return nil, err
	}
	if err := download(d, res.BlockSquares, bs); err != nil {
		return nil, err
	}

	// k-th smallest by radix select on the keys.
	hist, err := d.alloc(256 * 8)
	if err != nil {
		return nil, err
	}
	h := make([]uint64, 256)
	var prefix, mask uint64
	rank := uint64(k) // 1-based rank among the keys matching prefix
	var equal uint64
	for shift := 56; shift >= 0; shift -= 8 {
		if err := d.memset0(hist, 256*8); err != nil {
			return nil, err
		}
		if err := d.launch("mc_hist", d.gridFor(paths), tpb, 0, pnl, paths, prefix, mask, int64(shift), hist); err != nil {
			return nil, err
		}
		if err := download(d, h, hist); err != nil {
			return nil, err
		}
		var cum uint64
		found := false
		for b, c := range h {
			if cum+c >= rank {
				prefix |= uint64(b) << shift
				rank -= cum
				equal = c
				found = true
				break
			}
			cum += c
		}
		if !found {
			return nil, d.fail("radix select", fmt.Errorf("rank %d not found at shift %d", rank, shift))
		}
		mask |= 0xff << shift
	}
	t := fromKey(prefix)
	if t == 0 {
		// −0 and +0 have different keys but compare equal: take the
		// simple road for this degenerate P&L.
		return d.tailOnHost(ctx, j, pnl, res, zk, zw, zf)
	}
	below := uint64(k) - rank
	idx, val, err := d.compact(pnl, paths, prefix, 0, below)
	if err != nil {
		return nil, err
	}
	eqIdx, eqVal, err := d.compact(pnl, paths, prefix, 1, equal)
	if err != nil {
		return nil, err
	}
	// The lowest-indexed ties complete the tail.
	order := make([]int, len(eqIdx))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return eqIdx[order[a]] < eqIdx[order[b]] })
	for _, o := range order[:rank] {
		idx = append(idx, eqIdx[o])
		val = append(val, eqVal[o])
	}
	if err := d.finishTail(ctx, j, idx, val, res, zk, zw, zf); err != nil {
		return nil, err
	}
	return res, nil
}

// compact returns the (index, P&L) pairs whose key is below (mode 0) or
// equal to (mode 1) tkey; want is how many there are.
func (d *Device) compact(pnl dptr, paths int64, tkey uint64, mode int64, want uint64) ([]int64, []float64, error) {
	if want == 0 {
		return nil, nil, nil
	}
	ib, err := d.alloc(int64(want) * 8)
	if err != nil {
		return nil, nil, err
	}
	vb, err := d.alloc(int64(want) * 8)
	if err != nil {
		return nil, nil, err
	}
	cnt, err := d.zeroed(8)
	if err != nil {
		return nil, nil, err
	}
	if err := d.launch("mc_compact", d.gridFor(paths), tpb, 0, pnl, paths, tkey, mode, ib, vb, cnt); err != nil {
		return nil, nil, err
	}
	c := make([]uint64, 1)
	if err := download(d, c, cnt); err != nil {
		return nil, nil, err
	}
	if c[0] != want {
		return nil, nil, d.fail("mc_compact", fmt.Errorf("compacted %d values, the histogram counted %d", c[0], want))
	}
	idx := make([]int64, want)
	val := make([]float64, want)
	if err := download(d, idx, ib); err != nil {
		return nil, nil, err
	}
	return idx, val, download(d, val, vb)
}

// tailOnHost selects the tail from the downloaded P&L (the CPU path's rule).
func (d *Device) tailOnHost(ctx context.Context, j *cuda.MonteCarloJob, pnl dptr, res *cuda.MonteCarloResult,
	zk, zw, zf dptr) (*cuda.MonteCarloResult, error) {
	all := make([]float64, j.Paths)
	if err := download(d, all, pnl); err != nil {
		return nil, err
	}
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	t := sorted[j.Tail-1]
	below := 0
	for _, v := range all {
		if v < t {
			below++
		}
	}
	ties := j.Tail - below
	var idx []int64
	var val []float64
	for p, v := range all {
		if v < t || (v == t && ties > 0) {
			if v == t {
				ties--
			}
			idx = append(idx, int64(p))
			val = append(val, v)
		}
	}
	return res, d.finishTail(ctx, j, idx, val, res, zk, zw, zf)
}

// finishTail orders the tail by path index and sums the tail paths' draws
// per chunk of MonteCarloChunk paths, batch by batch.
func (d *Device) finishTail(ctx context.Context, j *cuda.MonteCarloJob, idx []int64, val []float64, res *cuda.MonteCarloResult,
	zk, zw, zf dptr) error {
	k := len(idx)
	if k != j.Tail {
		return d.fail("tail", fmt.Errorf("%d tail paths, want %d", k, j.Tail))
	}
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return idx[order[a]] < idx[order[b]] })
	res.TailIdx = make([]int, k)
	res.TailPnL = make([]float64, k)
	tail := make([]int64, k)
	for i, o := range order {
		res.TailIdx[i] = int(idx[o])
		res.TailPnL[i] = val[o]
		tail[i] = idx[o]
	}
	na := int64(len(j.Loading))
	tp, err := upload(d, tail)
	if err != nil {
		return err
	}
	batch := min(cuda.MonteCarloBatch(na), int64(k))
	zb, err := d.alloc(batch * na * 8)
	if err != nil {
		return err
	}
	chunkBuf, err := d.alloc((batch + cuda.MonteCarloChunk - 1) / cuda.MonteCarloChunk * na * 8)
	if err != nil {
		return err
	}
	for off := int64(0); off < int64(k); off += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		cnt := min(batch, int64(k)-off)
		if err := d.launch("mc_tail_draws", d.gridFor(cnt), tpb, 3*256*8, j.Seed, tp+dptr(off*8), cnt, na, zk, zw, zf, zb); err != nil {
			return err
		}
		chunks := (cnt + cuda.MonteCarloChunk - 1) / cuda.MonteCarloChunk
		if err := d.launch("mc_chunk_sums", d.gridFor(chunks*na), tpb, 0, zb, cnt, na, int64(cuda.MonteCarloChunk), chunkBuf); err != nil {
			return err
		}
		sums := make([]float64, chunks*na)
		if err := download(d, sums, chunkBuf); err != nil {
			return err
		}
		res.ZChunkSums = append(res.ZChunkSums, sums...)
	}
	return nil
}

// fromKey inverts mc_key.
func fromKey(key uint64) float64 {
	if key>>63 != 0 {
		return math.Float64frombits(key ^ (1 << 63))
	}
	return math.Float64frombits(^key)
}
