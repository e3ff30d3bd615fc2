// Package compliance registers the Compliance kernels (domains.md §2). Each
// kernel is declared once as a registry.Def in its own package; the
// transaction-graph ones are folds (state.Apply per transaction in ts
// order, Snapshot = the Batch output) so their ring twins replay exactly.
package compliance

import (
	"errors"

	"github.com/gokernels/gokernels/kernels/compliance/amlpatterns"
	"github.com/gokernels/gokernels/kernels/compliance/circular"
	"github.com/gokernels/gokernels/kernels/compliance/kyc"
	"github.com/gokernels/gokernels/kernels/compliance/monitoring"
	"github.com/gokernels/gokernels/kernels/compliance/pep"
	"github.com/gokernels/gokernels/kernels/compliance/rapid"
	"github.com/gokernels/gokernels/kernels/compliance/reciprocity"
	"github.com/gokernels/gokernels/kernels/compliance/resolution"
	"github.com/gokernels/gokernels/kernels/compliance/reversal"
	"github.com/gokernels/gokernels/kernels/compliance/sanctions"
	"github.com/gokernels/gokernels/kernels/compliance/split"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds the compliance kernels to r and their ring handlers: the
// incremental transaction rings of reciprocity-flow (per-pair sums,
// ReciprocityAlert), rapid-movement (bounded FIFO lots and activity
// windows), circular-flow (aggregated graph with incrementally merged
// SCCs, CircularFlowAlert), aml-patterns (open windows per anchor and a
// window of in-edges for the path searches, AmlPatternAlert) and
// transaction-monitoring, and the list-screening handlers of sanctions-
// and pep-screening (data messages load/upsert entries and screen queries;
// each query's result is emitted before the reply).
func Register(r *registry.Registry) error {
	err := errors.Join(
		registry.Register(r, circular.Def),
		registry.Register(r, reciprocity.Def),
		registry.Register(r, rapid.Def),
		registry.Register(r, sanctions.Def),
		registry.Register(r, pep.Def),
		registry.Register(r, kyc.Def),
		registry.Register(r, resolution.Def),
		registry.Register(r, reversal.Def),
		registry.Register(r, split.Def),
		registry.Register(r, monitoring.Def),
		registry.Register(r, amlpatterns.Def),
	)
	if err != nil {
		return err
	}
	return errors.Join(
		r.AddRing(circular.Def.ID, circular.RingSpec.New),
		r.AddRing(reciprocity.Def.ID, reciprocity.RingSpec.New),
		r.AddRing(rapid.Def.ID, rapid.RingSpec.New),
		r.AddRing(monitoring.Def.ID, monitoring.RingSpec.New),
		r.AddRing(amlpatterns.Def.ID, amlpatterns.RingSpec.New),
		r.AddRing(sanctions.Def.ID, sanctions.RingSpec.New),
		r.AddRing(pep.Def.ID, pep.RingSpec.New),
	)
}
