// Package voting combines the outputs of several classifiers for the same
// samples by weighted voting, with sklearn.ensemble.VotingClassifier's
// rules applied to given model outputs.
//
// Hard voting: each model casts its weight for the class it predicts; a
// sample's score for class c is the total weight cast for c divided by the
// total weight, and its label is the class with the highest total (the
// smallest class on ties: np.argmax(np.bincount(votes, weights))).
//
// Soft voting: a sample's score for class c is the weighted mean of the
// models' probabilities for c (np.average(probas, axis=0, weights)); its
// label is the first class with the highest mean.
package voting

// Result holds per-sample labels and n_samples × n_classes scores.
type Result struct {
	Labels []int32
	Scores []float64 // row-major n_samples × n_classes
}

// uniform returns w, or all ones when w is empty.
func uniform(w []float64, m int) []float64 {
	if len(w) > 0 {
		return w
	}
	u := make([]float64, m)
	for i := range u {
		u[i] = 1
	}
	return u
}

// Hard votes over labels (n_models × n_samples, model-major; every label in
// [0, nClasses)) with weights (n_models, or empty for equal weights; sum > 0).
func Hard(labels []int32, weights []float64, nModels, nSamples, nClasses int) Result {
	w := uniform(weights, nModels)
	var total float64
	for _, v := range w {
		total += v
	}
	res := Result{Labels: make([]int32, nSamples), Scores: make([]float64, nSamples*nClasses)}
	for i := 0; i < nSamples; i++ {
		row := res.Scores[i*nClasses : (i+1)*nClasses]
		for m := 0; m < nModels; m++ {
			row[labels[m*nSamples+i]] += w[m]
		}
		res.Labels[i] = argmax(row)
		for c := range row {
			row[c] /= total
		}
	}
	return res
}

// Soft averages probabilities (n_models × n_samples × n_classes, model-major)
// with weights (as in Hard).
func Soft(probs []float64, weights []float64, nModels, nSamples, nClasses int) Result {
	w := uniform(weights, nModels)
	var total float64
	for _, v := range w {
		total += v
	}
	res := Result{Labels: make([]int32, nSamples), Scores: make([]float64, nSamples*nClasses)}
	per := nSamples * nClasses
	for i := 0; i < nSamples; i++ {
		row := res.Scores[i*nClasses : (i+1)*nClasses]
		for m := 0; m < nModels; m++ {
			p := probs[m*per+i*nClasses : m*per+(i+1)*nClasses]
			for c, v := range p {
				row[c] += w[m] * v
			}
		}
		for c := range row {
			row[c] /= total
		}
		res.Labels[i] = argmax(row)
	}
	return res
}

func argmax(a []float64) int32 {
	best := 0
	for c, v := range a {
		if v > a[best] {
			best = c
		}
	}
	return int32(best)
}
