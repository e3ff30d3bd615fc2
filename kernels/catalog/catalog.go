// Package catalog registers every kernel this server executes. The served
// catalog lists only kernels that run: there are no placeholders.
package catalog

import (
	"errors"

	"github.com/gokernels/gokernels/kernels/accounting"
	"github.com/gokernels/gokernels/kernels/audit"
	"github.com/gokernels/gokernels/kernels/banking"
	"github.com/gokernels/gokernels/kernels/behavioral"
	"github.com/gokernels/gokernels/kernels/clearing"
	"github.com/gokernels/gokernels/kernels/compliance"
	"github.com/gokernels/gokernels/kernels/graph"
	"github.com/gokernels/gokernels/kernels/ml"
	"github.com/gokernels/gokernels/kernels/orderbook"
	"github.com/gokernels/gokernels/kernels/payments"
	"github.com/gokernels/gokernels/kernels/procint"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/risk"
	"github.com/gokernels/gokernels/kernels/temporal"
	"github.com/gokernels/gokernels/kernels/treasury"
)

// domains are the per-domain registration functions.
var domains = []func(*registry.Registry) error{
	graph.Register,
	ml.Register,
	temporal.Register,
	risk.Register,
	procint.Register,
	behavioral.Register,
	compliance.Register,
	banking.Register,
	orderbook.Register,
	clearing.Register,
	payments.Register,
	treasury.Register,
	accounting.Register,
	audit.Register,
}

// New returns a registry holding the full catalog.
func New() (*registry.Registry, error) {
	r := registry.New()
	var errList []error
	for _, register := range domains {
		errList = append(errList, register(r))
	}
	return r, errors.Join(errList...)
}
