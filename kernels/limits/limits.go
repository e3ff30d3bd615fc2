// Package limits carries per-request problem-size caps to the kernels.
//
// The request-size limit bounds the bytes a client sends, but a few bytes can
// still ask for gigabytes ("num_nodes": 2000000000, "n_simulations": 1e12).
// Kernels read these caps from the context and reject larger problems with a
// 400 naming the field, before allocating anything proportional to them.
package limits

import (
	"context"
	"fmt"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Limits are the per-request problem-size caps. Zero means "use the default".
type Limits struct {
	MaxNodes        int // graph nodes
	MaxEdges        int // graph edges
	MaxAllPairsN    int // nodes for all-pairs outputs (n² values)
	MaxSamples      int // ml samples (rows)
	MaxFeatures     int // ml features (columns)
	MaxCells        int // samples × features
	MaxSeriesLength int // time-series points
	MaxSimulations  int // Monte Carlo paths × assets
	MaxOutputItems  int // list outputs such as top-k pairs or enumerated cliques
	MaxIterations   int // iteration caps a client may ask for
}

// Default returns safe caps for a 2-core / few-GiB deployment: each keeps a
// kernel's working memory under roughly a gigabyte.
func Default() Limits {
	return Limits{
		MaxNodes:        5_000_000,
		MaxEdges:        20_000_000,
		MaxAllPairsN:    5_000,
		MaxSamples:      2_000_000,
		MaxFeatures:     10_000,
		MaxCells:        50_000_000,
		MaxSeriesLength: 5_000_000,
		MaxSimulations:  2_000_000_000,
		MaxOutputItems:  1_000_000,
		MaxIterations:   1_000_000,
	}
}

// withDefaults fills zero fields from Default.
func (l Limits) withDefaults() Limits {
	d := Default()
	fill := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	fill(&l.MaxNodes, d.MaxNodes)
	fill(&l.MaxEdges, d.MaxEdges)
	fill(&l.MaxAllPairsN, d.MaxAllPairsN)
	fill(&l.MaxSamples, d.MaxSamples)
	fill(&l.MaxFeatures, d.MaxFeatures)
	fill(&l.MaxCells, d.MaxCells)
	fill(&l.MaxSeriesLength, d.MaxSeriesLength)
	fill(&l.MaxSimulations, d.MaxSimulations)
	fill(&l.MaxOutputItems, d.MaxOutputItems)
	fill(&l.MaxIterations, d.MaxIterations)
	return l
}

type ctxKey struct{}

// With returns ctx carrying l (zero fields take the defaults).
func With(ctx context.Context, l Limits) context.Context {
	return context.WithValue(ctx, ctxKey{}, l.withDefaults())
}

// WithDefaults returns l with its zero fields filled from Default: the caps
// a context made by With carries.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }

// Bound is a set of caps made ready once for many contexts: Bound.With
// attaches them without converting them to an interface value again (a
// heap copy of the struct per call with With).
type Bound struct{ v any }

// Bind prepares l (zero fields take the defaults) for Bound.With.
func Bind(l Limits) Bound { return Bound{v: l.withDefaults()} }

// With returns ctx carrying the caps, as With(ctx, l) does.
func (b Bound) With(ctx context.Context) context.Context {
	if b.v == nil { // the zero Bound: the defaults
		return With(ctx, Limits{})
	}
	return context.WithValue(ctx, ctxKey{}, b.v)
}

// From returns the caps in ctx, or the defaults.
func From(ctx context.Context) Limits {
	if l, ok := ctx.Value(ctxKey{}).(Limits); ok {
		return l
	}
	return Default()
}

// Check returns a field error when value exceeds max.
func Check(field string, value, max int) error {
	if value > max {
		return kerr.Invalid(field, "%s exceeds the server limit of %d", fmt.Sprint(value), max)
	}
	return nil
}
