// Package payments registers the PaymentProcessing kernels of this domain
// (payments/flow-analysis and payments/processing; domains.md §10).
package payments

import (
	"errors"

	"github.com/gokernels/gokernels/kernels/payments/flowanalysis"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds the payments kernels to r.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, flowanalysis.Def),
		registry.Register(r, Processing),
	)
}
