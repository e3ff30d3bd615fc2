// Package kyc is compliance/kyc-scoring: a weighted-sum customer risk rating
// under the FATF risk-based approach, with contributions that sum to the
// score and tier floors for sanctions, PEP and high-risk-jurisdiction flags.
package kyc

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Factors are the factor names in order.
var Factors = []string{"country_risk", "industry_risk", "product_risk", "transaction_risk", "documentation", "tenure"}

// DefaultWeights are upstream's weights, in factor order.
var DefaultWeights = []float64{0.25, 0.20, 0.15, 0.20, 0.10, 0.10}

// Def declares compliance/kyc-scoring.
var Def = registry.Def[*compliancev1.KycScoringInput, *compliancev1.KycScoringOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/kyc-scoring",
		Domain:      registry.DomainCompliance,
		Description: "KYC risk rating: weighted sum of six risk factors (FATF RBA), contributions summing to the score, tiers with sanctions/PEP/high-risk-jurisdiction floors.",
		Modes:       []registry.Mode{registry.Batch},
	},
	Prepare: prepare,
	CPU:     run,
}

type job struct {
	weights   []float64
	customers []*compliancev1.KycCustomer
}

func prepare(ctx context.Context, in *compliancev1.KycScoringInput) (*job, error) {
	customers := slices.Clone(in.GetCustomers())
	if in.GetFactors() != nil {
		customers = append(customers, in.GetFactors())
	}
	if err := limits.Check("customers", len(customers), limits.From(ctx).MaxSamples); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, c := range customers {
		field := fmt.Sprintf("customers[%d].customer_id", i)
		if i == len(in.GetCustomers()) {
			field = "factors.customer_id"
		}
		if seen[c.GetCustomerId()] {
			return nil, kerr.Invalid(field, "duplicate customer id %q", c.GetCustomerId())
		}
		seen[c.GetCustomerId()] = true
	}
	w := slices.Clone(DefaultWeights)
	switch {
	case len(in.GetWeights()) > 0 && len(in.GetWeightsByFactor()) > 0:
		return nil, kerr.Invalid("weights_by_factor", "give weights or weights_by_factor, not both")
	case len(in.GetWeights()) > 0:
		if len(in.GetWeights()) != len(Factors) {
			return nil, kerr.Invalid("weights", "needs %d weights in factor order (%s), got %d",
				len(Factors), strings.Join(Factors, ", "), len(in.GetWeights()))
		}
		w = slices.Clone(in.GetWeights())
	case len(in.GetWeightsByFactor()) > 0:
		for name, v := range in.GetWeightsByFactor() {
			i := slices.Index(Factors, name)
			if i < 0 {
				return nil, kerr.Invalid("weights_by_factor", "unknown factor %q (want one of %s)", name, strings.Join(Factors, ", "))
			}
			w[i] = v
		}
	}
	var sum float64
	for _, v := range w {
		sum += v
	}
	if !(sum > 0) {
		field := "weights"
		if len(in.GetWeightsByFactor()) > 0 {
			field = "weights_by_factor"
		}
		return nil, kerr.Invalid(field, "weights must not all be 0")
	}
	return &job{weights: w, customers: customers}, nil
}

// Risks returns the six factor risks r_i of a customer, in factor order.
func Risks(c *compliancev1.KycCustomer) []float64 {
	return []float64{
		c.GetCountryRisk(), c.GetIndustryRisk(), c.GetProductRisk(), c.GetTransactionRisk(),
		100 - c.GetDocumentationScore(), (10 - min(c.GetTenureYears(), 10)) * 10,
	}
}

var tiers = []string{"LOW", "MEDIUM", "HIGH", "VERY_HIGH"}

func run(ctx context.Context, j *job) (*compliancev1.KycScoringOutput, error) {
	var wsum float64
	for _, v := range j.weights {
		wsum += v
	}
	out := &compliancev1.KycScoringOutput{}
	for i, c := range j.customers {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		res := &compliancev1.KycResult{CustomerId: c.GetCustomerId()}
		for f, r := range Risks(c) {
			contrib := j.weights[f] * r / wsum
			res.Contributions = append(res.Contributions, &compliancev1.FactorContribution{
				Factor: Factors[f], Weight: j.weights[f], FactorRisk: r, Contribution: contrib,
			})
			res.RiskScore += contrib
		}
		tier := 3
		switch {
		case res.RiskScore < 25:
			tier = 0
		case res.RiskScore < 50:
			tier = 1
		case res.RiskScore < 75:
			tier = 2
		}
		if c.GetSanctionsHit() {
			tier = 3
			res.Overrides = append(res.Overrides, "SANCTIONS_HIT")
		}
		if c.GetIsPep() {
			tier = max(tier, 2)
			res.Overrides = append(res.Overrides, "PEP")
		}
		if c.GetHighRiskJurisdiction() {
			tier = max(tier, 2)
			res.Overrides = append(res.Overrides, "HIGH_RISK_JURISDICTION")
		}
		res.Tier = tiers[tier]
		out.Customers = append(out.Customers, res)
	}
	slices.SortStableFunc(out.Customers, func(a, b *compliancev1.KycResult) int { return cmp.Compare(a.CustomerId, b.CustomerId) })
	return out, nil
}
