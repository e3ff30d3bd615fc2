// Package distance names the sample metrics the ml kernels accept and
// computes them exactly as scipy.spatial.distance / sklearn do.
package distance

import (
	"fmt"
	"math"
)

// Metric is a distance between two samples.
type Metric int

const (
	Euclidean Metric = iota // sqrt(Σ (x-y)²)
	Manhattan               // Σ |x-y|  (cityblock, Minkowski p=1)
	Chebyshev               // max |x-y| (Minkowski p=∞)
	Cosine                  // 1 - x·y / (‖x‖‖y‖), 1 when either is all zeros
)

// Names lists the accepted request strings; "" means Euclidean.
var Names = []string{"", "euclidean", "manhattan", "chebyshev", "cosine"}

// Parse maps a request string to a Metric ("" is Euclidean).
func Parse(s string) (Metric, error) {
	switch s {
	case "", "euclidean":
		return Euclidean, nil
	case "manhattan", "cityblock", "l1":
		return Manhattan, nil
	case "chebyshev":
		return Chebyshev, nil
	case "cosine":
		return Cosine, nil
	}
	return 0, fmt.Errorf("unknown metric %q (want euclidean, manhattan, chebyshev or cosine)", s)
}

func (m Metric) String() string {
	switch m {
	case Euclidean:
		return "euclidean"
	case Manhattan:
		return "manhattan"
	case Chebyshev:
		return "chebyshev"
	case Cosine:
		return "cosine"
	}
	return "unknown"
}

// Minkowski reports whether the metric is a Minkowski norm of x-y (and so
// can be served by a k-d tree).
func (m Metric) Minkowski() bool { return m != Cosine }

// Dist returns the distance between a and b (same length).
func (m Metric) Dist(a, b []float64) float64 {
	switch m {
	case Manhattan:
		return L1(a, b)
	case Chebyshev:
		return LInf(a, b)
	case Cosine:
		return CosineDist(a, b, Norm(a), Norm(b))
	}
	return math.Sqrt(SqL2(a, b))
}

// SqL2 is the squared Euclidean distance, summed left to right like scipy
// and sklearn's tree metrics so that boundary comparisons (d <= eps) agree.
func SqL2(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for i, v := range a {
		d := v - b[i]
		s += d * d
	}
	return s
}

// L1 is the Manhattan distance.
func L1(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for i, v := range a {
		s += math.Abs(v - b[i])
	}
	return s
}

// LInf is the Chebyshev distance.
func LInf(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for i, v := range a {
		if d := math.Abs(v - b[i]); d > s {
			s = d
		}
	}
	return s
}

// Norm is the Euclidean norm.
func Norm(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

// CosineDist is 1 - a·b/(na·nb) clipped to [0, 2] like
// sklearn.metrics.pairwise.cosine_distances; a zero vector is treated as
// having no direction (similarity 0, distance 1), also like sklearn, which
// leaves zero rows unnormalised.
func CosineDist(a, b []float64, na, nb float64) float64 {
	if na == 0 || nb == 0 {
		return 1
	}
	b = b[:len(a)]
	var dot float64
	for i, v := range a {
		dot += (v / na) * (b[i] / nb)
	}
	d := 1 - dot
	if d < 0 {
		return 0
	}
	if d > 2 {
		return 2
	}
	return d
}
