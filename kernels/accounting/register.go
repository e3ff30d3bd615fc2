// Package accounting registers the Accounting kernels: the glue between
// proto/gokernels/kernels/accounting/v1 and the engines in the
// sub-packages (ledger: shared validation, account master and Hamilton
// splits; flownet: the flow-network generator; intercompany: the
// intercompany network of network-analysis; journal: validation,
// mapping and trial balance). Money is int64 minor units throughout.
package accounting

import (
	"errors"

	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds the accounting kernels to r.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, CoaMapping),
		registry.Register(r, JournalTransform),
		registry.Register(r, NetworkGeneration),
		registry.Register(r, SuspenseDetection),
		registry.Register(r, GaapViolation),
		registry.Register(r, GlReconciliation),
		registry.Register(r, NetworkGenerationRing),
		registry.Register(r, TemporalCorrelation),
		registry.Register(r, NetworkAnalysis),
	)
}
