// Package behavioral registers the behavioural-analytics kernels
// (behavioral/*); each kernel is declared once in its own package below
// this directory.
package behavioral

import (
	"errors"

	"github.com/gokernels/gokernels/kernels/behavioral/anomaly"
	"github.com/gokernels/gokernels/kernels/behavioral/causalgraph"
	"github.com/gokernels/gokernels/kernels/behavioral/eventcorrelation"
	"github.com/gokernels/gokernels/kernels/behavioral/forensicquery"
	"github.com/gokernels/gokernels/kernels/behavioral/fraudsignatures"
	"github.com/gokernels/gokernels/kernels/behavioral/profiling"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds the behavioral kernels.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, profiling.Kernel),
		registry.Register(r, anomaly.Kernel),
		registry.Register(r, eventcorrelation.Kernel),
		registry.Register(r, fraudsignatures.Kernel),
		registry.Register(r, forensicquery.Kernel),
		registry.Register(r, causalgraph.Kernel),
		// The Ring ids' handlers (package eventfold over each kernel's fold).
		r.AddRing(profiling.Kernel.ID, profiling.RingSpec.New),
		r.AddRing(anomaly.Kernel.ID, anomaly.RingSpec.New),
		r.AddRing(eventcorrelation.Kernel.ID, eventcorrelation.RingSpec.New),
		r.AddRing(fraudsignatures.Kernel.ID, fraudsignatures.RingSpec.New),
	)
}
