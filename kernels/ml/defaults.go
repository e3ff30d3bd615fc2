// Helpers shared by the ml kernels.

package ml

import (
	"context"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/ml/distance"
)

// parseMetric maps the metric field (already checked by protovalidate).
func parseMetric(s string) (distance.Metric, error) {
	m, err := distance.Parse(s)
	if err != nil {
		return 0, kerr.Invalid("metric", "%v", err)
	}
	return m, nil
}

// atLeast repeats a protovalidate bound in Go for the parameters whose
// violation would make an algorithm loop or allocate nonsense, so the kernel
// function is safe even when called without validation (RunCPU).
func atLeast(field string, v, lo int) error {
	if v < lo {
		return kerr.Invalid(field, "must be at least %d", lo)
	}
	return nil
}

// seedBits reinterprets the request's int64 seed as the PCG seed.
func seedBits(s int64) uint64 { return uint64(s) }

// limitSampleMatrix applies the server's sample, feature and cell caps to a
// rows × cols matrix before anything proportional to it is allocated.
func limitSampleMatrix(ctx context.Context, rowsField, cellsField string, rows, cols int32) error {
	l := limits.From(ctx)
	if err := limits.Check(rowsField, int(rows), l.MaxSamples); err != nil {
		return err
	}
	if err := limits.Check("n_features", int(cols), l.MaxFeatures); err != nil {
		return err
	}
	return limits.Check(cellsField, int(rows)*int(cols), l.MaxCells)
}
