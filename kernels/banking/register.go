// Package banking registers the Banking kernels (domains.md §3).
package banking

import (
	"github.com/gokernels/gokernels/kernels/banking/fraud"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds the banking kernels to r, with fraud-pattern-match's ring
// handler (Configure: profiles, patterns, keywords; data: transactions,
// each scored against the bounded history before it).
func Register(r *registry.Registry) error {
	if err := registry.Register(r, fraud.Def); err != nil {
		return err
	}
	return r.AddRing(fraud.Def.ID, fraud.RingSpec.New)
}
