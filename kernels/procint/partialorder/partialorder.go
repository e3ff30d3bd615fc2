// Package partialorder is procint/partial-order: the α-algorithm footprint
// (van der Aalst, Weijters, Măruşter 2004) and the Heuristics-Miner
// dependency matrix (Weijters & Ribeiro 2011) over directly-follows counts,
// with an optional partially-ordered reading of equal timestamps (Lu,
// Fahland, van der Aalst 2014).
package partialorder

import (
	"context"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Footprint relation codes.
const (
	Causal   = "→"
	Reverse  = "←"
	Parallel = "‖"
	Choice   = "#"
)

// Job is a built log with the options.
type Job struct {
	Log        *eventlog.Log
	Theta      float64
	Concurrent bool
}

// Kernel is procint/partial-order.
var Kernel = registry.Def[*procintv1.PartialOrderInput, *procintv1.PartialOrderOutput, *Job]{
	Meta: registry.Meta{
		ID:     "procint/partial-order",
		Domain: registry.DomainProcInt,
		Description: "α-algorithm footprint (→, ‖, #) with a noise threshold and Heuristics-Miner dependency " +
			"matrix; equal timestamps in input order or as concurrent groups.",
	},
	Prepare: prepare,
	CPU:     Run,
}

func prepare(ctx context.Context, in *procintv1.PartialOrderInput) (*Job, error) {
	if err := eventlog.Check(ctx, "events", in.GetEvents()); err != nil {
		return nil, err
	}
	l, err := eventlog.Build(ctx, in.GetEvents())
	if err != nil {
		return nil, err
	}
	if err := limits.Check("events", len(l.Acts), limits.From(ctx).MaxAllPairsN); err != nil {
		return nil, err
	}
	return &Job{Log: l, Theta: in.GetNoiseThreshold(), Concurrent: in.GetEqualTsPolicy() == "CONCURRENT"}, nil
}

// Counts returns the dense directly-follows count matrix |a>b|.
func Counts(ctx context.Context, l *eventlog.Log, concurrent bool) ([][]int64, error) {
	n := len(l.Acts)
	c := make([][]int64, n)
	for i := range c {
		c[i] = make([]int64, n)
	}
	for t, tr := range l.Traces {
		if t&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if !concurrent {
			for i := 1; i < len(tr); i++ {
				c[tr[i-1]][tr[i]]++
			}
			continue
		}
		ts := l.TS[t]
		// Groups of equal ts: [start, end) runs.
		prevStart, prevEnd := -1, -1
		for s := 0; s < len(tr); {
			e := s + 1
			for e < len(tr) && ts[e] == ts[s] {
				e++
			}
			for x := s; x < e; x++ {
				for y := s; y < e; y++ {
					if x != y {
						c[tr[x]][tr[y]]++
					}
				}
			}
			for x := prevStart; x >= 0 && x < prevEnd; x++ {
				for y := s; y < e; y++ {
					c[tr[x]][tr[y]]++
				}
			}
			prevStart, prevEnd = s, e
			s = e
		}
	}
	return c, nil
}

// Run computes the footprint of a prepared job.
func Run(ctx context.Context, j *Job) (*procintv1.PartialOrderOutput, error) {
	l := j.Log
	n := len(l.Acts)
	c, err := Counts(ctx, l, j.Concurrent)
	if err != nil {
		return nil, err
	}
	var maxCount int64
	for _, row := range c {
		for _, v := range row {
			maxCount = max(maxCount, v)
		}
	}
	follows := func(a, b int) bool {
		v := c[a][b]
		return v > 0 && float64(v) >= j.Theta*float64(maxCount)
	}
	out := &procintv1.PartialOrderOutput{Activities: l.Acts}
	var parallelPairs int
	for a := 0; a < n; a++ {
		row := &procintv1.StringRow{Cells: make([]string, n)}
		dep := &procintv1.DoubleRow{Cells: make([]float64, n)}
		for b := 0; b < n; b++ {
			ab, ba := follows(a, b), follows(b, a)
			switch {
			case ab && ba:
				row.Cells[b] = Parallel
			case ab:
				row.Cells[b] = Causal
			case ba:
				row.Cells[b] = Reverse
			default:
				row.Cells[b] = Choice
			}
			x, y := float64(c[a][b]), float64(c[b][a])
			if a == b {
				dep.Cells[b] = x / (x + 1)
			} else {
				dep.Cells[b] = (x - y) / (x + y + 1)
			}
			pair := &procintv1.ActivityPair{A: l.Acts[a], B: l.Acts[b]}
			switch row.Cells[b] {
			case Causal:
				out.Causal = append(out.Causal, pair)
			case Parallel:
				if a <= b {
					out.Parallel = append(out.Parallel, pair)
					if a != b {
						parallelPairs++
					}
				}
			case Choice:
				if a <= b {
					out.Choice = append(out.Choice, pair)
				}
			}
		}
		out.Footprint = append(out.Footprint, row)
		out.Dependency = append(out.Dependency, dep)
	}
	if n >= 2 {
		out.ParallelismScore = float64(parallelPairs) / float64(n*(n-1)/2)
	}
	return out, nil
}
