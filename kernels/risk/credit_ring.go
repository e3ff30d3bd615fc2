package risk

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	riskv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/risk/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/risk/credit"
)

// CreditState is credit-scoring's ring state: the model and scorecard
// scale, and per exposure only what the output needs (log-odds, PD,
// points, expected loss, EAD) — not its features, since an update replaces
// an exposure's whole row. Apply scores the message's rows (O(k) each);
// Snapshot sums the totals in exposure order, as Batch does, so the replay
// law holds bit for bit.
type CreditState struct {
	K       int          `json:"k"`
	Model   credit.Model `json:"model"`
	Scale   credit.Scale `json:"scale"`
	LogOdds []float64    `json:"log_odds"`
	PD      []float64    `json:"pd"`
	Points  []float64    `json:"points"`
	EL      []float64    `json:"el"`
	EAD     []float64    `json:"ead"`
}

// CreditRing is credit-scoring's incremental handler: data messages append
// exposures or, with exposure_indexes, replace existing ones (a
// per-obligor update).
var CreditRing = fold.Spec[*riskv1.CreditScoringInput, *riskv1.CreditScoringOutput, CreditState]{
	Configure: func(ctx context.Context, in *riskv1.CreditScoringInput) (*CreditState, error) {
		if len(in.GetFeatures()) > 0 || len(in.GetLgd()) > 0 || len(in.GetEad()) > 0 || in.GetNExposures() != 0 || len(in.GetExposureIndexes()) > 0 {
			return nil, kerr.Invalid("n_exposures", "exposures are data: send them (features, lgd, ead) in data messages, not in Configure")
		}
		k := int(in.GetNFeatures())
		if err := limits.Check("n_features", k, limits.From(ctx).MaxFeatures); err != nil {
			return nil, err
		}
		if len(in.GetCoefficients()) != k {
			return nil, kerr.Invalid("coefficients", "has %d values, want n_features = %d", len(in.GetCoefficients()), k)
		}
		s := &CreditState{K: k,
			Model: credit.Model{Intercept: in.GetIntercept(), Coefficients: in.GetCoefficients(), PDFloor: in.GetPdFloor()},
			Scale: credit.Scale{
				BaseScore: registry.Or(in.BaseScore, defaultBaseScore),
				BaseOdds:  registry.Or(in.BaseOdds, defaultBaseOdds),
				PDO:       registry.Or(in.PointsToDoubleOdds, defaultPDO),
			}}
		// The model's checks, on one empty exposure.
		if _, err := credit.Score(ctx, s.Model, s.Scale, credit.Portfolio{Features: make([]float64, k), LGD: []float64{0}, EAD: []float64{0}}); err != nil {
			return nil, err
		}
		return s, nil
	},
	Apply: func(rc fold.Context, s *CreditState, in *riskv1.CreditScoringInput) error {
		if p := creditParam(in, s.K); p != "" {
			return kerr.Invalid(p, "is a parameter: set it with Configure (before the first data message or after Reset)")
		}
		m := len(in.GetLgd())
		if n := int(in.GetNExposures()); n != 0 && n != m {
			return kerr.Invalid("n_exposures", "is %d but the message has %d lgd values (one per exposure)", n, m)
		}
		idx := in.GetExposureIndexes()
		if len(idx) > 0 && len(idx) != m {
			return kerr.Invalid("exposure_indexes", "has %d indexes for %d exposures (one per row)", len(idx), m)
		}
		for k, i := range idx {
			if i < 0 || int(i) >= len(s.PD) {
				return kerr.Invalid(fmt.Sprintf("exposure_indexes[%d]", k), "must name an exposure of the ring, [0, %d), got %d", len(s.PD), i)
			}
		}
		if len(idx) == 0 {
			if err := limits.Check("n_exposures", len(s.PD)+m, limits.From(rc).MaxSamples); err != nil {
				return err
			}
		}
		if len(in.GetFeatures()) != m*s.K {
			return kerr.Invalid("features", "has %d values, want %d exposures × n_features %d", len(in.GetFeatures()), m, s.K)
		}
		res, err := credit.Score(rc, s.Model, s.Scale, credit.Portfolio{Features: in.GetFeatures(), LGD: in.GetLgd(), EAD: in.GetEad()})
		if err != nil {
			return err
		}
		for r := range m {
			if len(idx) == 0 {
				s.LogOdds = append(s.LogOdds, res.LogOdds[r])
				s.PD = append(s.PD, res.PD[r])
				s.Points = append(s.Points, res.Points[r])
				s.EL = append(s.EL, res.ExpectedLoss[r])
				s.EAD = append(s.EAD, in.GetEad()[r])
				continue
			}
			i := idx[r]
			s.LogOdds[i], s.PD[i], s.Points[i], s.EL[i], s.EAD[i] = res.LogOdds[r], res.PD[r], res.Points[r], res.ExpectedLoss[r], in.GetEad()[r]
		}
		return nil
	},
	Snapshot: func(_ context.Context, s *CreditState) (*riskv1.CreditScoringOutput, error) {
		n := len(s.PD)
		if n == 0 {
			return nil, kerr.Invalid("lgd", "must not be empty: one value per exposure")
		}
		out := &riskv1.CreditScoringOutput{
			LogOdds: append([]float64(nil), s.LogOdds...), Pd: append([]float64(nil), s.PD...),
			Score: append([]float64(nil), s.Points...), ExpectedLoss: append([]float64(nil), s.EL...),
		}
		// credit.Score's totals, in the same order.
		var pdEAD float64
		for i := range n {
			out.TotalExpectedLoss += s.EL[i]
			out.TotalEad += s.EAD[i]
			pdEAD += s.PD[i] * s.EAD[i]
		}
		if out.TotalEad > 0 {
			out.ExpectedLossRate = out.TotalExpectedLoss / out.TotalEad
			out.EadWeightedPd = pdEAD / out.TotalEad
		}
		return out, nil
	},
	Split: func(in *riskv1.CreditScoringInput) (*riskv1.CreditScoringInput, []*riskv1.CreditScoringInput) {
		cfg := proto.Clone(in).(*riskv1.CreditScoringInput)
		cfg.Features, cfg.Lgd, cfg.Ead, cfg.NExposures, cfg.ExposureIndexes = nil, nil, nil, 0, nil
		n, k := len(in.GetLgd()), int(in.GetNFeatures())
		out := make([]*riskv1.CreditScoringInput, 0, n)
		for i := range n {
			m := &riskv1.CreditScoringInput{NExposures: 1, Lgd: []float64{in.GetLgd()[i]}}
			if i < len(in.GetEad()) {
				m.Ead = []float64{in.GetEad()[i]}
			}
			if (i+1)*k <= len(in.GetFeatures()) {
				m.Features = in.GetFeatures()[i*k : (i+1)*k]
			}
			out = append(out, m)
		}
		return cfg, out
	},
}

func creditParam(in *riskv1.CreditScoringInput, k int) string {
	switch {
	case len(in.GetCoefficients()) > 0:
		return "coefficients"
	case in.GetIntercept() != 0:
		return "intercept"
	case in.PdFloor != nil:
		return "pd_floor"
	case in.BaseScore != nil:
		return "base_score"
	case in.BaseOdds != nil:
		return "base_odds"
	case in.PointsToDoubleOdds != nil:
		return "points_to_double_odds"
	case in.GetNFeatures() != 0 && int(in.GetNFeatures()) != k:
		return "n_features"
	}
	return ""
}
