// Package banking registers the Banking kernels (domains.md §3).
package banking

import (
	"github.com/gokernels/gokernels/kernels/banking/fraud"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds the banking kernels to r.
func Register(r *registry.Registry) error {
	return registry.Register(r, fraud.Def)
}
