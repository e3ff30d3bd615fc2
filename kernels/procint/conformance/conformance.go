// Package conformance is procint/conformance: token-based replay of an
// event log on an accepting Petri net (Rozinat & van der Aalst 2008) or
// directly-follows replay on a DFG with escaping-edge precision
// (Muñoz-Gama & Carmona 2010). The Batch kernel is the ring fold: events
// applied in ts order to per-case states, every case closed at the end.
//
// The Batch kernel computes that fold's result without the fold: the log
// is built into traces once (eventlog.Build: activity and case names
// interned to dense codes, each trace stable-sorted by ts, which is the
// order the fold gives each case), the model is compiled into tables
// indexed by activity code, and each trace is replayed on int arrays with
// one reused marking (batch.go). Every trace is replayed on its own (no
// variant grouping), so per-trace outputs need no copying between cases.
// Tests check the Batch output equals the fold's Snapshot on random logs
// and models.
package conformance

import (
	"context"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Job is the compiled model and the log in trace form.
type Job struct {
	pn  *petri
	dm  *dfgModel
	log *eventlog.Log
}

// Kernel is procint/conformance.
var Kernel = registry.Def[*procintv1.ConformanceInput, *procintv1.ConformanceOutput, *Job]{
	Meta: registry.Meta{
		ID:     "procint/conformance",
		Domain: registry.DomainProcInt,
		Modes:  []registry.Mode{registry.Batch, registry.Ring},
		Description: "Token-based replay (Rozinat & van der Aalst 2008; fitness = ½(1 − m/c) + ½(1 − r/p)) on a " +
			"Petri net, or DFG replay with escaping-edge precision; per-trace deviations.",
	},
	Prepare: Prepare,
	CPU:     Run,
	Estimate: func(in *procintv1.ConformanceInput) registry.Cost {
		n := int64(len(in.GetEvents()))
		return registry.Cost{WorkingBytes: 128 * n, OutputBytes: 128 * n, Work: float64(n)}
	},
}

// Prepare validates the log and compiles the model.
func Prepare(ctx context.Context, in *procintv1.ConformanceInput) (*Job, error) {
	if err := eventlog.Check(ctx, "events", in.GetEvents()); err != nil {
		return nil, err
	}
	j := &Job{}
	var err error
	switch {
	case in.GetPetriNet() != nil:
		j.pn, err = compilePetri(ctx, in.GetPetriNet())
	case in.GetDfg() != nil:
		j.dm, err = compileDFG(ctx, in.GetDfg())
	default:
		err = kerr.Invalid("model", "give a dfg or a petri_net")
	}
	if err != nil {
		return nil, err
	}
	if j.log, err = eventlog.Build(ctx, in.GetEvents()); err != nil {
		return nil, err
	}
	return j, nil
}

// New returns an empty fold state for the job's model.
func (j *Job) New() *State { return newState(j.pn, j.dm) }

// Run replays every trace on the compiled model.
func Run(ctx context.Context, j *Job) (*procintv1.ConformanceOutput, error) {
	if j.pn != nil {
		return replayPetri(ctx, j.pn, j.log)
	}
	return replayDFG(ctx, j.dm, j.log)
}
