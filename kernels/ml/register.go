// Package ml registers the statistical-ML kernels (domain StatisticalML).
// The algorithms live in one package per job below this one; register_a.go
// (clustering, anomaly detection, ensembles) and register_b.go (regression,
// explanation, text, federated, healthcare) map the typed inputs to them.
package ml

import (
	"errors"

	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds every ml kernel to r.
func Register(r *registry.Registry) error {
	return errors.Join(RegisterA(r), RegisterB(r))
}
