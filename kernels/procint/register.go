// Package procint registers the process-intelligence kernels (procint/*);
// each kernel is declared once in its own package below this directory.
package procint

import (
	"errors"

	"github.com/gokernels/gokernels/kernels/procint/conformance"
	"github.com/gokernels/gokernels/kernels/procint/dfgconstruction"
	"github.com/gokernels/gokernels/kernels/procint/digitaltwin"
	"github.com/gokernels/gokernels/kernels/procint/logimputation"
	"github.com/gokernels/gokernels/kernels/procint/nextactivity"
	"github.com/gokernels/gokernels/kernels/procint/ocpm"
	"github.com/gokernels/gokernels/kernels/procint/partialorder"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds the procint kernels.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, dfgconstruction.Kernel),
		registry.Register(r, partialorder.Kernel),
		registry.Register(r, conformance.Kernel),
		registry.Register(r, nextactivity.Kernel),
		registry.Register(r, logimputation.Kernel),
		registry.Register(r, ocpm.Kernel),
		registry.Register(r, digitaltwin.Kernel),
		r.AddRing(conformance.Kernel.ID, conformance.RingSpec.New),
	)
}
