// Healthcare kernels (proto/gokernels/kernels/ml/v1/healthcare.proto).

package ml

import (
	"context"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/ml/healthcare/interaction"
	"github.com/gokernels/gokernels/kernels/ml/healthcare/pathway"
	"github.com/gokernels/gokernels/kernels/registry"
)

func drugPairs(in []*mlv1.DrugPair) []interaction.Pair {
	if len(in) == 0 {
		return nil
	}
	out := make([]interaction.Pair, len(in))
	for i, p := range in {
		out[i] = interaction.Pair{A: int(p.GetDrugA()), B: int(p.GetDrugB())}
	}
	return out
}

// DrugInteractionPrediction is ml/drug-interaction-prediction.
var DrugInteractionPrediction = registry.Direct(registry.Meta{ID: "ml/drug-interaction-prediction", Domain: registry.DomainML,
	Description: "Similarity-based drug–drug interaction scoring over known interactions (Vilar et al. 2012)."}, drugInteractionPrediction)

func drugInteractionPrediction(ctx context.Context, in *mlv1.DrugInteractionPredictionInput) (*mlv1.DrugInteractionPredictionOutput, error) {
	if err := limitSampleMatrix(ctx, "n_drugs", "features", in.GetNDrugs(), in.GetNFeatures()); err != nil {
		return nil, err
	}
	l := limits.From(ctx)
	if err := limits.Check("known_interactions", len(in.GetKnownInteractions()), l.MaxEdges); err != nil {
		return nil, err
	}
	if err := limits.Check("pairs", len(in.GetPairs()), l.MaxOutputItems); err != nil {
		return nil, err
	}
	if n := int(in.GetNDrugs()); len(in.GetPairs()) == 0 && n*(n-1)/2 > l.MaxOutputItems {
		return nil, kerr.Invalid("pairs", "scoring all %d pairs of %d drugs exceeds the server limit of %d; list the pairs to score", n*(n-1)/2, n, l.MaxOutputItems)
	}
	metric := interaction.Tanimoto
	if in.GetSimilarity() == "cosine" {
		metric = interaction.Cosine
	}
	res, err := interaction.Score(ctx, in.GetFeatures(), int(in.GetNDrugs()), int(in.GetNFeatures()),
		drugPairs(in.GetKnownInteractions()), drugPairs(in.GetPairs()), metric, int(in.GetTopK()))
	if err != nil {
		return nil, err
	}
	out := &mlv1.DrugInteractionPredictionOutput{
		Pairs:                make([]*mlv1.DrugPair, len(res.Pairs)),
		Scores:               res.Scores,
		EvidenceInteractions: make([]int32, len(res.Evidence)),
	}
	for i, p := range res.Pairs {
		out.Pairs[i] = &mlv1.DrugPair{DrugA: int32(p.A), DrugB: int32(p.B)}
		out.EvidenceInteractions[i] = int32(res.Evidence[i])
	}
	return out, nil
}

// ClinicalPathwayConformance is ml/clinical-pathway-conformance.
var ClinicalPathwayConformance = registry.Direct(registry.Meta{ID: "ml/clinical-pathway-conformance", Domain: registry.DomainML,
	Description: "Token-replay fitness of patient traces against a Petri-net pathway (Rozinat & van der Aalst 2008)."}, clinicalPathwayConformance)

func clinicalPathwayConformance(ctx context.Context, in *mlv1.ClinicalPathwayConformanceInput) (*mlv1.ClinicalPathwayConformanceOutput, error) {
	l := limits.From(ctx)
	events := 0
	for _, t := range in.GetTraces() {
		events += len(t.GetActivities())
	}
	for _, c := range []struct {
		field    string
		value, n int
	}{
		{"num_places", int(in.GetNumPlaces()), l.MaxNodes},
		{"transitions", len(in.GetTransitions()), l.MaxNodes},
		{"input_arcs", len(in.GetInputArcs()), l.MaxEdges},
		{"output_arcs", len(in.GetOutputArcs()), l.MaxEdges},
		{"traces", len(in.GetTraces()), l.MaxSamples},
		{"traces", events, l.MaxCells},
	} {
		if err := limits.Check(c.field, c.value, c.n); err != nil {
			return nil, err
		}
	}
	net := &pathway.Net{
		NumPlaces:  int(in.GetNumPlaces()),
		Labels:     in.GetTransitions(),
		InputArcs:  make([][2]int, len(in.GetInputArcs())),
		OutputArcs: make([][2]int, len(in.GetOutputArcs())),
		Initial:    make([]int, len(in.GetInitialMarking())),
		Final:      make([]int, len(in.GetFinalMarking())),
	}
	for i, a := range in.GetInputArcs() {
		net.InputArcs[i] = [2]int{int(a.GetPlace()), int(a.GetTransition())}
	}
	for i, a := range in.GetOutputArcs() {
		net.OutputArcs[i] = [2]int{int(a.GetTransition()), int(a.GetPlace())}
	}
	for i, v := range in.GetInitialMarking() {
		net.Initial[i] = int(v)
	}
	for i, v := range in.GetFinalMarking() {
		net.Final[i] = int(v)
	}
	traces := make([][]string, len(in.GetTraces()))
	for i, t := range in.GetTraces() {
		traces[i] = t.GetActivities()
	}
	res, err := pathway.Replay(ctx, net, traces)
	if err != nil {
		return nil, err
	}
	n := len(res.Traces)
	out := &mlv1.ClinicalPathwayConformanceOutput{
		TraceFitness:        make([]float64, n),
		Missing:             make([]int64, n),
		Consumed:            make([]int64, n),
		Remaining:           make([]int64, n),
		Produced:            make([]int64, n),
		UnknownEvents:       make([]int32, n),
		Fits:                make([]bool, n),
		LogFitness:          res.LogFitness,
		AverageTraceFitness: res.AverageTraceFitness,
		FittingTraces:       res.FittingTraces,
	}
	for i, t := range res.Traces {
		out.TraceFitness[i] = t.Fitness
		out.Missing[i] = int64(t.Missing)
		out.Consumed[i] = int64(t.Consumed)
		out.Remaining[i] = int64(t.Remaining)
		out.Produced[i] = int64(t.Produced)
		out.UnknownEvents[i] = int32(t.UnknownEvents)
		out.Fits[i] = t.Fits
	}
	return out, nil
}
