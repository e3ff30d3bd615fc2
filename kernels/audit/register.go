// Package audit registers the FinancialAudit kernels: the glue between
// proto/gokernels/kernels/audit/v1 and the engines in the sub-packages
// (features: per-entity audit features and Benford tests; hypergraph: the
// record hypergraph and its s-components).
package audit

import (
	"errors"
	"fmt"

	auditv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/audit/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Register adds the audit kernels to r.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, FeatureExtraction),
		registry.Register(r, Hypergraph),
	)
}

// checkRecords applies the size limit and rejects duplicate record ids
// (the per-field rules are protovalidate's).
func checkRecords(lim limits.Limits, recs []*auditv1.AuditRecord) error {
	if err := limits.Check("records", len(recs), lim.MaxSamples); err != nil {
		return err
	}
	ids := make(map[string]bool, len(recs))
	for i, r := range recs {
		if ids[r.GetId()] {
			return kerr.Invalid(fmt.Sprintf("records[%d].id", i), "duplicate record id %q", r.GetId())
		}
		ids[r.GetId()] = true
	}
	return nil
}
