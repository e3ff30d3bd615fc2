// Package graph registers the graph-analytics kernels (domain
// GraphAnalytics). The algorithms live in one package per job below this one;
// register_core.go and register_extended.go map the typed proto inputs to
// them.
package graph

import (
	"errors"

	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds every graph kernel to r.
func Register(r *registry.Registry) error {
	return errors.Join(RegisterCore(r), RegisterExtended(r))
}
