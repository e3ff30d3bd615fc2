// Package federated aggregates client model updates without the server
// seeing any single client's update: weighted federated averaging under
// pairwise additive masking (the masking layer of Bonawitz et al., "Practical
// Secure Aggregation for Privacy-Preserving Machine Learning", CCS 2017).
package federated

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Params configure one aggregation round.
type Params struct {
	Seed           uint64 // derives every pairwise mask stream
	FractionalBits int    // fixed-point precision: values are encoded as round(v·2^bits)
	MinSurvivors   int    // refuse to aggregate fewer surviving clients
}

// Result is one aggregation round.
type Result struct {
	Aggregate     []float64 // Σ_s w_s·x_s / Σ_s w_s over surviving clients s
	Survivors     []int     // clients whose masked update arrived, ascending
	MaskedUpdates []float64 // row-major len(Survivors)×dim: what each survivor sent, decoded as fixed point
	TotalWeight   float64   // Σ_s w_s
}

// Aggregate runs one round of secure weighted federated averaging over
// updates (row-major nClients×dim) with per-client weights (nil: equal).
//
// Each client i encodes its share p_i·x_i (p_i = w_i / Σ_all w) as 64-bit
// fixed point and adds, modulo 2^64, a mask m_ij for every other client j
// with j > i and subtracts m_ji for j < i. Each mask is a ChaCha8 stream keyed
// by SHA-256(seed, i, j), so both ends of a pair derive the same one. The
// server sums what arrives: for any set of clients that all report, the masks
// cancel exactly (integer arithmetic, no rounding), so one masked update looks
// uniformly random while the sum is the sum of the shares.
//
// Clients in dropped never send their masked update. Their partners' masks
// no longer cancel, so — as in Bonawitz et al.'s unmasking round, where the
// survivors reveal the pairwise seeds they shared with the dropped — the
// server regenerates and removes the masks between each survivor and each
// dropped client. The aggregate is then the weighted mean over survivors.
//
// The result equals the plain weighted mean up to the fixed-point step:
// at most n·2^−(bits+1)·Σ_all w/Σ_s w in absolute terms (≈ 5e−11 for 100
// clients at the default 40 bits).
func Aggregate(ctx context.Context, updates []float64, nClients, dim int, weights []float64, dropped []int, prm Params) (*Result, error) {
	if nClients <= 0 {
		return nil, kerr.Invalid("n_clients", "must be positive, got %d", nClients)
	}
	if dim <= 0 {
		return nil, kerr.Invalid("dimension", "must be positive, got %d", dim)
	}
	if len(updates) != nClients*dim {
		return nil, kerr.Invalid("updates", "has %d values, want n_clients*dimension = %d", len(updates), nClients*dim)
	}
	if prm.FractionalBits < 1 || prm.FractionalBits > 60 {
		return nil, kerr.Invalid("fractional_bits", "must be in [1, 60], got %d", prm.FractionalBits)
	}
	// Shares are bounded by max|x| (the p_i sum to 1), so this keeps every
	// encoded share and every partial sum of shares inside int64.
	limit := math.Ldexp(1, 62-prm.FractionalBits)
	for k, v := range updates {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= limit {
			return nil, kerr.Invalid(fmt.Sprintf("updates[%d]", k), "must be finite with magnitude below 2^%d (62 − fractional_bits)", 62-prm.FractionalBits)
		}
	}
	w := weights
	if len(w) == 0 {
		w = make([]float64, nClients)
		for i := range w {
			w[i] = 1
		}
	}
	if len(w) != nClients {
		return nil, kerr.Invalid("weights", "has %d values, want n_clients = %d (or none for equal weights)", len(w), nClients)
	}
	totalAll := 0.0
	for i, v := range w {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, kerr.Invalid(fmt.Sprintf("weights[%d]", i), "must be positive and finite")
		}
		totalAll += v
	}
	isDropped := make([]bool, nClients)
	for k, c := range dropped {
		if c < 0 || c >= nClients {
			return nil, kerr.Invalid(fmt.Sprintf("dropped_clients[%d]", k), "client %d is outside [0, %d)", c, nClients)
		}
		if isDropped[c] {
			return nil, kerr.Invalid(fmt.Sprintf("dropped_clients[%d]", k), "client %d is listed twice", c)
		}
		isDropped[c] = true
	}
	var survivors, gone []int
	for i := range nClients {
		if isDropped[i] {
			gone = append(gone, i)
		} else {
			survivors = append(survivors, i)
		}
	}
	if nClients < prm.MinSurvivors {
		return nil, kerr.Invalid("n_clients", "%d clients are fewer than min_surviving_clients = %d", nClients, prm.MinSurvivors)
	}
	if len(survivors) < prm.MinSurvivors {
		return nil, kerr.Invalid("dropped_clients", "only %d clients survive, below min_surviving_clients = %d: the aggregate would expose individual updates", len(survivors), prm.MinSurvivors)
	}

	// Client side: each survivor masks its encoded share.
	masked := make([]uint64, len(survivors)*dim)
	err := par.For(ctx, len(survivors), 1, func(s, _, _ int) error {
		i := survivors[s]
		row := masked[s*dim : (s+1)*dim]
		scale := math.Ldexp(w[i]/totalAll, prm.FractionalBits)
		for d := range dim {
			row[d] = uint64(int64(math.Round(updates[i*dim+d] * scale)))
		}
		for j := range nClients {
			if j == i {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			applyMask(row, prm.Seed, i, j)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Server side: sum what arrived, then strip the masks shared with the
	// dropped clients. The sum is kept in per-survivor partials so the
	// unmasking also runs in parallel; integer sums need no fixed order.
	unmask := make([]uint64, len(survivors)*dim)
	err = par.For(ctx, len(survivors), 1, func(s, _, _ int) error {
		row := unmask[s*dim : (s+1)*dim]
		for _, j := range gone {
			if err := ctx.Err(); err != nil {
				return err
			}
			applyMask(row, prm.Seed, survivors[s], j)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &Result{
		Aggregate:     make([]float64, dim),
		Survivors:     survivors,
		MaskedUpdates: make([]float64, len(masked)),
	}
	sum := make([]uint64, dim)
	for s := range survivors {
		for d := range dim {
			sum[d] += masked[s*dim+d] - unmask[s*dim+d]
		}
		res.TotalWeight += w[survivors[s]]
	}
	for k, v := range masked {
		res.MaskedUpdates[k] = math.Ldexp(float64(int64(v)), -prm.FractionalBits)
	}
	for d, v := range sum {
		res.Aggregate[d] = math.Ldexp(float64(int64(v)), -prm.FractionalBits) * (totalAll / res.TotalWeight)
	}
	return res, nil
}

// applyMask adds to row client i's side of the pair mask with client j:
// +m_ij when i < j, −m_ji when i > j (modulo 2^64).
func applyMask(row []uint64, seed uint64, i, j int) {
	lo, hi := min(i, j), max(i, j)
	stream := pairStream(seed, lo, hi)
	if i < j {
		for d := range row {
			row[d] += stream.Uint64()
		}
	} else {
		for d := range row {
			row[d] -= stream.Uint64()
		}
	}
}

// pairStream is the mask generator the pair (lo, hi) shares: ChaCha8 keyed
// by SHA-256 of a domain tag, the round seed and the two client indexes.
func pairStream(seed uint64, lo, hi int) *rand.ChaCha8 {
	var buf [len("gokernels/secure-aggregation/v1") + 24]byte
	n := copy(buf[:], "gokernels/secure-aggregation/v1")
	binary.LittleEndian.PutUint64(buf[n:], seed)
	binary.LittleEndian.PutUint64(buf[n+8:], uint64(lo))
	binary.LittleEndian.PutUint64(buf[n+16:], uint64(hi))
	return rand.NewChaCha8(sha256.Sum256(buf[:]))
}
