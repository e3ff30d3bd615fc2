// Package payments registers the PaymentProcessing kernels of this domain
// that are built here (payments/flow-analysis; domains.md §10).
package payments

import (
	"github.com/gokernels/gokernels/kernels/payments/flowanalysis"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds the payments kernels to r.
func Register(r *registry.Registry) error {
	return registry.Register(r, flowanalysis.Def)
}
