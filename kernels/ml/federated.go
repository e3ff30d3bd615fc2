// Federated-learning kernels (proto/gokernels/kernels/ml/v1/federated.proto).

package ml

import (
	"context"
	"math"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/ml/federated"
	"github.com/gokernels/gokernels/kernels/registry"
)

// SecureAggregation is ml/secure-aggregation.
var SecureAggregation = registry.Direct(registry.Meta{ID: "ml/secure-aggregation", Domain: registry.DomainML,
	Description: "Weighted federated averaging under pairwise additive masks that cancel (Bonawitz et al. 2017)."}, secureAggregation)

func secureAggregation(ctx context.Context, in *mlv1.SecureAggregationInput) (*mlv1.SecureAggregationOutput, error) {
	l := limits.From(ctx)
	if err := limits.Check("n_clients", int(in.GetNClients()), l.MaxSamples); err != nil {
		return nil, err
	}
	if err := limits.Check("updates", int(in.GetNClients())*int(in.GetDimension()), l.MaxCells); err != nil {
		return nil, err
	}
	prm := federated.Params{Seed: in.GetSeed(), FractionalBits: 40, MinSurvivors: 2}
	if in.FractionalBits != nil {
		prm.FractionalBits = int(*in.FractionalBits)
	}
	if in.MinSurvivingClients != nil {
		prm.MinSurvivors = int(*in.MinSurvivingClients)
	}
	dropped := make([]int, len(in.GetDroppedClients()))
	for i, c := range in.GetDroppedClients() {
		dropped[i] = int(c)
	}
	res, err := federated.Aggregate(ctx, in.GetUpdates(), int(in.GetNClients()), int(in.GetDimension()), in.GetWeights(), dropped, prm)
	if err != nil {
		return nil, err
	}
	surv := make([]int32, len(res.Survivors))
	for i, s := range res.Survivors {
		surv[i] = int32(s)
	}
	return &mlv1.SecureAggregationOutput{
		Aggregate:        res.Aggregate,
		SurvivingClients: surv,
		MaskedUpdates:    res.MaskedUpdates,
		TotalWeight:      res.TotalWeight,
		QuantizationStep: math.Ldexp(1, -prm.FractionalBits),
	}, nil
}
