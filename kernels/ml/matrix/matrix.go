// Package matrix holds the row-major sample matrix every ml kernel reads and
// the one place that checks a request's data/n_samples/n_features triple.
package matrix

import (
	"context"
	"math"
	"strconv"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// Dense is an n × d row-major matrix of samples. Data is shared, not copied.
type Dense struct {
	Rows, Cols int
	Data       []float64
}

// Row returns sample i as a sub-slice of Data.
func (m Dense) Row(i int) []float64 { return m.Data[i*m.Cols : (i+1)*m.Cols : (i+1)*m.Cols] }

// FromRequest checks the standard request layout (row-major `data` with
// `n_samples` and `n_features`) against the caps in ctx and returns it as a
// Dense. Errors name the offending JSON field. Values must be finite.
func FromRequest(ctx context.Context, data []float64, nSamples, nFeatures int32) (Dense, error) {
	lim := limits.From(ctx)
	if nSamples < 1 {
		return Dense{}, kerr.Invalid("n_samples", "must be at least 1")
	}
	if nFeatures < 1 {
		return Dense{}, kerr.Invalid("n_features", "must be at least 1")
	}
	if err := limits.Check("n_samples", int(nSamples), lim.MaxSamples); err != nil {
		return Dense{}, err
	}
	if err := limits.Check("n_features", int(nFeatures), lim.MaxFeatures); err != nil {
		return Dense{}, err
	}
	cells := int(nSamples) * int(nFeatures)
	if err := limits.Check("data", cells, lim.MaxCells); err != nil {
		return Dense{}, err
	}
	if len(data) != cells {
		return Dense{}, kerr.Invalid("data", "has %d values, want n_samples*n_features = %d", len(data), cells)
	}
	for i, v := range data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Dense{}, kerr.Invalid(fieldIndex("data", i), "must be finite")
		}
	}
	return Dense{Rows: int(nSamples), Cols: int(nFeatures), Data: data}, nil
}

// DistanceMagnitude bounds the values a distance-based kernel accepts:
// squared Euclidean distances of differences up to 2e150 summed over the
// capped number of features and samples stay far below float64's 1.8e308,
// where 1e308 - (-1e308) is already +Inf.
const DistanceMagnitude = 1e150

// CheckMagnitude rejects, naming data[i], the first value of m whose
// magnitude exceeds limit: a kernel calls it when its arithmetic (squared
// distances, inertia, variances) would overflow beyond that.
func CheckMagnitude(m Dense, limit float64) error {
	for i, v := range m.Data {
		if math.Abs(v) > limit {
			return kerr.Invalid(fieldIndex("data", i), "magnitude %.3g exceeds %.3g: this kernel's squared distances would overflow float64; rescale the data", v, limit)
		}
	}
	return nil
}

func fieldIndex(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }
