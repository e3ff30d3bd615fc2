package cuda

import (
	"context"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	riskv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/risk/v1"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/risk"
	"github.com/gokernels/gokernels/kernels/risk/correlation"
	"github.com/gokernels/gokernels/kernels/risk/montecarlo"
)

// MonteCarloBlock is the path block of the mean/std sums and
// MonteCarloChunk the tail-path chunk of the mean draws: the CPU path's
// summation units, kept so the GPU sums in the same order.
const (
	MonteCarloBlock = 4096
	MonteCarloChunk = 1024
)

// ----------------------------------------------------------- Monte Carlo

func monteCarloSpec() *Spec {
	return &Spec{
		// Measured (docs/gpu.md, TestDeviceSweep on an H200 with 16 host cores, 2026-12-04):
		// 2.5× at 3.3e5 (the smallest size tried), 5–19× up to 1e8.
		ID: risk.MonteCarloVaR.ID, Threshold: 300_000, SizeUnit: "paths × assets",
		Size: func(msg proto.Message) int64 {
			in, ok := msg.(*riskv1.MonteCarloVarInput)
			if !ok {
				return 0
			}
			return sat(max(0, risk.MonteCarloPaths(in)), int64(len(in.GetPositions())))
		},
		Bytes: func(msg proto.Message, _ DeviceInfo) int64 {
			in, ok := msg.(*riskv1.MonteCarloVarInput)
			if !ok {
				return 0
			}
			return MonteCarloBytes(max(0, risk.MonteCarloPaths(in)), int64(len(in.GetPositions())))
		},
		Run: registry.DeviceFunc(risk.MonteCarloVaR, func(ctx context.Context, dev Device, j risk.MonteCarloJob) (*riskv1.MonteCarloVarOutput, error) {
			res, err := SimulateOn(ctx, dev, j.Portfolio, j.Config)
			if err != nil {
				return nil, err
			}
			return risk.MonteCarloOutput(res, j.Config.Paths), nil
		}),
	}
}

// MonteCarloBatch is the number of tail paths whose draws are regenerated
// at once on the device for a portfolio of assets: a multiple of
// MonteCarloChunk (so batches end on chunk boundaries) with a draw matrix
// of at most 256 MiB, and at most 64 chunks.
func MonteCarloBatch(assets int64) int64 {
	chunks := (256 << 20) / max(1, assets*8*MonteCarloChunk)
	return max(1, min(64, chunks)) * MonteCarloChunk
}

// MonteCarloBytes estimates the device memory of a simulation: the P&L
// and its radix-select scratch, the tail (at most all paths), the draw
// matrix of one tail batch and the ziggurat tables.
func MonteCarloBytes(paths, assets int64) int64 {
	blocks := (paths + MonteCarloBlock - 1) / MonteCarloBlock
	batch := MonteCarloBatch(assets)
	return add(sat(paths, 8), sat(paths, 16), sat(blocks, 16), sat(batch, assets, 8), sat(paths, 8),
		sat(batch/MonteCarloChunk, assets, 8), sat(assets, 8), 3*256*8, 1<<20)
}

// SimulateOn is montecarlo.Simulate with the paths simulated, selected and
// reduced on dev; the host finishes with the CPU path's formulas, in the
// CPU path's summation order.
func SimulateOn(ctx context.Context, dev Device, pf montecarlo.Portfolio, cfg montecarlo.Config) (*montecarlo.Result, error) {
	if err := montecarlo.Check(pf, cfg); err != nil {
		return nil, err
	}
	drift, loading := montecarlo.Loadings(pf.Positions, pf.ExpectedReturns, pf.Volatilities, pf.Chol, cfg.HoldingDays)
	k := montecarlo.TailCount(cfg.Paths, cfg.Confidence)
	r, err := dev.MonteCarlo(ctx, &MonteCarloJob{Seed: cfg.Seed, Drift: drift, Loading: loading, Paths: cfg.Paths, Tail: k})
	if err != nil {
		return nil, err
	}
	if len(r.TailIdx) != k || len(r.TailPnL) != k || len(r.ZChunkSums) != (k+MonteCarloChunk-1)/MonteCarloChunk*len(loading) {
		return nil, &DeviceError{Device: dev.Info().Ordinal, Op: "monte carlo",
			Err: fmt.Errorf("inconsistent result: %d tail paths for k=%d", len(r.TailIdx), k)}
	}
	res := &montecarlo.Result{TailPaths: k}
	var total float64
	for _, s := range r.BlockSums {
		total += s
	}
	res.MeanPnL = total / float64(cfg.Paths)
	if cfg.Paths >= 2 {
		var ss float64
		for _, s := range r.BlockSquares {
			ss += s
		}
		res.StdPnL = math.Sqrt(ss / float64(cfg.Paths-1))
	}
	t := math.Inf(-1)
	var sum float64
	for _, v := range r.TailPnL {
		t = max(t, v)
		sum += v
	}
	res.VaR = -t
	res.ES = -sum / float64(k)
	na := len(loading)
	zbar := make([]float64, na)
	for c := 0; c < len(r.ZChunkSums)/max(1, na); c++ {
		for j, v := range r.ZChunkSums[c*na : (c+1)*na] {
			zbar[j] += v
		}
	}
	for j := range zbar {
		zbar[j] /= float64(k)
	}
	res.ComponentES = montecarlo.ComponentES(pf, cfg.HoldingDays, zbar)
	return res, nil
}

// ----------------------------------------------------------- correlation

func seriesShape(in *riskv1.RealtimeCorrelationInput) (n, t int64) {
	n = int64(len(in.GetSeries()))
	if n > 0 {
		t = int64(len(in.GetSeries()[0].GetValues()))
	}
	return n, t
}

func correlationSpec() *Spec {
	return &Spec{
		// Measured (docs/gpu.md, TestDeviceSweep on an H200 with 16 host cores, 2026-12-04):
		// 0.7–0.8× below 1.3e6, 1.2× at 7.6e6, 1.4–1.9× up to 1.3e9, 3× at 4e10.
		ID: risk.RealtimeCorrelation.ID, Threshold: 10_000_000, SizeUnit: "series² × observations",
		Size: func(msg proto.Message) int64 {
			in, ok := msg.(*riskv1.RealtimeCorrelationInput)
			if !ok {
				return 0
			}
			n, t := seriesShape(in)
			return sat(n, n, t)
		},
		Bytes: func(msg proto.Message, _ DeviceInfo) int64 {
			in, ok := msg.(*riskv1.RealtimeCorrelationInput)
			if !ok {
				return 0
			}
			n, t := seriesShape(in)
			return add(sat(n, t, 8), sat(n, n, 8), 1<<20)
		},
		Run: registry.DeviceFunc(risk.RealtimeCorrelation, func(ctx context.Context, dev Device, series [][]float64) (*riskv1.RealtimeCorrelationOutput, error) {
			res, err := CorrelationOn(ctx, dev, series)
			if err != nil {
				return nil, err
			}
			return risk.CorrelationOutput(res, series), nil
		}),
	}
}

// CorrelationOn is correlation.Matrix with the covariance product on dev:
// the host validates, centres and finishes with the CPU path's own code.
func CorrelationOn(ctx context.Context, dev Device, series [][]float64) (*correlation.Result, error) {
	r, centred, err := correlation.Centre(series)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cov, err := dev.Covariance(ctx, centred, r.N, len(series[0]))
	if err != nil {
		return nil, err
	}
	correlation.Fill(r, cov)
	return r, nil
}
