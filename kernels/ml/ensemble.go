// Ensemble kernels (proto/gokernels/kernels/ml/v1/ensemble.proto).

package ml

import (
	"context"
	"errors"
	"fmt"
	"math"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/ml/voting"
	"github.com/gokernels/gokernels/kernels/registry"
)

// EnsembleVoting is ml/ensemble-voting.
var EnsembleVoting = registry.Direct(registry.Meta{ID: "ml/ensemble-voting", Domain: registry.DomainML,
	Description: "Weighted hard or soft voting over classifier outputs (VotingClassifier's rules)."}, ensembleVoting)

func ensembleVoting(ctx context.Context, in *mlv1.EnsembleVotingInput) (*mlv1.EnsembleVotingOutput, error) {
	nm, ns, nc := int(in.GetNModels()), int(in.GetNSamples()), int(in.GetNClasses())
	if err := errors.Join(atLeast("n_models", nm, 1), atLeast("n_samples", ns, 1), atLeast("n_classes", nc, 1)); err != nil {
		return nil, err
	}
	lim := limits.From(ctx)
	if err := limits.Check("n_samples", ns, lim.MaxSamples); err != nil {
		return nil, err
	}
	// Model outputs come as n_models × n_samples (× n_classes) arrays; bounding
	// the factors first keeps the products below from overflowing.
	if err := limits.Check("n_models", nm*ns, lim.MaxCells); err != nil {
		return nil, err
	}
	// The scores output holds n_samples × n_classes values.
	if err := limits.Check("n_classes", ns*nc, lim.MaxCells); err != nil {
		return nil, err
	}
	w := in.GetWeights()
	if len(w) > 0 {
		if len(w) != nm {
			return nil, kerr.Invalid("weights", "has %d values, want one per model (%d)", len(w), nm)
		}
		var sum float64
		for i, v := range w {
			if !(v >= 0) || math.IsInf(v, 0) {
				return nil, kerr.Invalid(fmt.Sprintf("weights[%d]", i), "must be finite and at least 0")
			}
			sum += v
		}
		if !(sum > 0) {
			return nil, kerr.Invalid("weights", "must have a positive sum")
		}
	}
	var res voting.Result
	if in.GetVoting() == "soft" {
		if len(in.GetLabels()) > 0 {
			return nil, kerr.Invalid("labels", "is for hard voting; soft voting reads probabilities")
		}
		probs := in.GetProbabilities()
		if want := nm * ns * nc; len(probs) != want {
			return nil, kerr.Invalid("probabilities", "has %d values, want n_models*n_samples*n_classes = %d", len(probs), want)
		}
		for i, v := range probs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, kerr.Invalid(fmt.Sprintf("probabilities[%d]", i), "must be finite")
			}
		}
		res = voting.Soft(probs, w, nm, ns, nc)
	} else {
		if len(in.GetProbabilities()) > 0 {
			return nil, kerr.Invalid("probabilities", "is for soft voting; hard voting reads labels")
		}
		labels := in.GetLabels()
		if want := nm * ns; len(labels) != want {
			return nil, kerr.Invalid("labels", "has %d values, want n_models*n_samples = %d", len(labels), want)
		}
		for i, v := range labels {
			if v < 0 || int(v) >= nc {
				return nil, kerr.Invalid(fmt.Sprintf("labels[%d]", i), "class %d is outside [0, n_classes = %d)", v, nc)
			}
		}
		res = voting.Hard(labels, w, nm, ns, nc)
	}
	return &mlv1.EnsembleVotingOutput{Labels: res.Labels, Scores: res.Scores}, nil
}
