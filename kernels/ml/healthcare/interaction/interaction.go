// Package interaction scores candidate drug–drug interactions from drug
// feature vectors and the interactions already known, by the
// structural-similarity method of Vilar et al. ("Drug–drug interaction
// through molecular structure similarity analysis", JAMIA 2012): a pair
// (a, b) is likely to interact when a resembles a drug known to interact
// with b, or b resembles a drug known to interact with a.
package interaction

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Metric is the drug–drug similarity.
type Metric int

const (
	// Tanimoto: Σab / (Σa² + Σb² − Σab); on 0/1 fingerprints the Jaccard
	// index |A∩B|/|A∪B|. Two all-zero vectors have similarity 0.
	Tanimoto Metric = iota
	// Cosine: Σab / (‖a‖·‖b‖), 0 when either vector is zero.
	Cosine
)

// Pair is an unordered drug pair.
type Pair struct{ A, B int }

// Result scores each pair.
type Result struct {
	Pairs    []Pair
	Scores   []float64
	Evidence []int // index into known of the interaction behind the score, −1 when none
}

// Score returns, for each pair (a, b),
//
//	score = max( max_{(c,b) known, c ≠ a} sim(a, c), max_{(a,d) known, d ≠ b} sim(b, d) )
//
// and the known interaction that attains it (the first in the order: partners
// c of b ascending, then partners d of a ascending; ties keep the first).
// A pair with no supporting known interaction of positive similarity scores
// 0 with evidence −1. The known interaction (a, b) itself is never its own
// evidence.
//
// features is row-major nDrugs×nFeatures. With pairs nil every unordered
// pair a < b that is not already known is scored, in lexicographic order.
// With topK > 0 only the topK highest-scoring pairs are kept (ties by
// (a, b)). Pairs are scored in parallel.
func Score(ctx context.Context, features []float64, nDrugs, nFeatures int, known []Pair, pairs []Pair, metric Metric, topK int) (*Result, error) {
	if nDrugs <= 0 {
		return nil, kerr.Invalid("n_drugs", "must be positive, got %d", nDrugs)
	}
	if nFeatures <= 0 {
		return nil, kerr.Invalid("n_features", "must be positive, got %d", nFeatures)
	}
	if len(features) != nDrugs*nFeatures {
		return nil, kerr.Invalid("features", "has %d values, want n_drugs*n_features = %d", len(features), nDrugs*nFeatures)
	}
	for i, v := range features {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, kerr.Invalid(fmt.Sprintf("features[%d]", i), "must be finite")
		}
	}
	if topK < 0 {
		return nil, kerr.Invalid("top_k", "must not be negative, got %d", topK)
	}
	if err := checkPairs("known_interactions", known, nDrugs); err != nil {
		return nil, err
	}
	// partners[x] lists (partner, index of the first known entry) ascending.
	type link struct{ drug, known int }
	partners := make([][]link, nDrugs)
	isKnown := map[Pair]bool{}
	for k, p := range known {
		key := ordered(p)
		if isKnown[key] {
			continue
		}
		isKnown[key] = true
		partners[p.A] = append(partners[p.A], link{p.B, k})
		partners[p.B] = append(partners[p.B], link{p.A, k})
	}
	for _, l := range partners {
		slices.SortFunc(l, func(x, y link) int { return x.drug - y.drug })
	}
	if pairs == nil {
		for a := range nDrugs {
			for b := a + 1; b < nDrugs; b++ {
				if !isKnown[Pair{a, b}] {
					pairs = append(pairs, Pair{a, b})
				}
			}
		}
	} else if err := checkPairs("pairs", pairs, nDrugs); err != nil {
		return nil, err
	}

	sq := make([]float64, nDrugs) // Σx² per drug
	for i := range nDrugs {
		for _, v := range features[i*nFeatures : (i+1)*nFeatures] {
			sq[i] += v * v
		}
	}
	sim := func(a, b int) float64 {
		dot := 0.0
		fa, fb := features[a*nFeatures:(a+1)*nFeatures], features[b*nFeatures:(b+1)*nFeatures]
		for k, v := range fa {
			dot += v * fb[k]
		}
		var den float64
		if metric == Cosine {
			den = math.Sqrt(sq[a]) * math.Sqrt(sq[b])
		} else {
			den = sq[a] + sq[b] - dot
		}
		if den == 0 {
			return 0
		}
		return dot / den
	}

	res := &Result{Pairs: pairs, Scores: make([]float64, len(pairs)), Evidence: make([]int, len(pairs))}
	const batch = 1024
	err := par.For(ctx, len(pairs), batch, func(_, lo, hi int) error {
		for q := lo; q < hi; q++ {
			a, b := pairs[q].A, pairs[q].B
			best, ev := 0.0, -1
			for _, l := range partners[b] { // c interacts with b: is a like c?
				if l.drug == a {
					continue
				}
				if s := sim(a, l.drug); ev < 0 || s > best {
					best, ev = s, l.known
				}
			}
			for _, l := range partners[a] { // d interacts with a: is b like d?
				if l.drug == b {
					continue
				}
				if s := sim(b, l.drug); ev < 0 || s > best {
					best, ev = s, l.known
				}
			}
			if ev >= 0 && best <= 0 {
				best, ev = 0, -1 // dissimilar drugs are no evidence
			}
			res.Scores[q], res.Evidence[q] = best, ev
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if topK > 0 {
		topK = min(topK, len(pairs))
		order := make([]int, len(pairs))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(x, y int) bool { return res.Scores[order[x]] > res.Scores[order[y]] })
		order = order[:topK]
		top := &Result{Pairs: make([]Pair, topK), Scores: make([]float64, topK), Evidence: make([]int, topK)}
		for r, i := range order {
			top.Pairs[r], top.Scores[r], top.Evidence[r] = res.Pairs[i], res.Scores[i], res.Evidence[i]
		}
		res = top
	}
	return res, nil
}

func ordered(p Pair) Pair {
	if p.A > p.B {
		return Pair{p.B, p.A}
	}
	return p
}

func checkPairs(field string, pairs []Pair, n int) error {
	for k, p := range pairs {
		if p.A < 0 || p.A >= n || p.B < 0 || p.B >= n {
			return kerr.Invalid(fmt.Sprintf("%s[%d]", field, k), "drug ids must be in [0, n_drugs = %d)", n)
		}
		if p.A == p.B {
			return kerr.Invalid(fmt.Sprintf("%s[%d]", field, k), "a drug cannot interact with itself")
		}
	}
	return nil
}
