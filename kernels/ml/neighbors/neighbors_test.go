package neighbors

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

func sample() matrix.Dense {
	n, d := 300, 3
	x := make([]float64, n*d)
	for i := range x {
		x[i] = math.Round(math.Sin(float64(i)*1.7)*100) / 10
	}
	copy(x[:3], []float64{0, 0, 0}) // a zero vector: cosine distance 1 to all others
	return matrix.Dense{Rows: n, Cols: d, Data: x}
}

// Every metric, through the tree or the brute-force path, agrees with a
// direct scan using distance.Metric.Dist.
func TestAgreesWithDirectScan(t *testing.T) {
	m := sample()
	for _, metric := range []distance.Metric{distance.Euclidean, distance.Manhattan, distance.Chebyshev, distance.Cosine} {
		ix, err := New(context.Background(), m, metric)
		if err != nil {
			t.Fatal(err)
		}
		eps := map[distance.Metric]float64{distance.Cosine: 0.05}[metric]
		if eps == 0 {
			eps = 4
		}
		knn := ix.NewKNN(5)
		for i := 0; i < m.Rows; i += 7 {
			dist := func(j int) float64 {
				if i == j {
					return 0
				}
				return metric.Dist(m.Row(i), m.Row(j))
			}
			var want []int32
			for j := 0; j < m.Rows; j++ {
				if dist(j) <= eps {
					want = append(want, int32(j))
				}
			}
			var got []int32
			ix.Radius(i, eps, func(j int32) { got = append(got, j) })
			slices.Sort(got)
			if !slices.Equal(got, want) || ix.RadiusCount(i, eps) != len(want) {
				t.Fatalf("%v i=%d: radius %v, want %v", metric, i, got, want)
			}
			res := knn.Others(i, nil)
			if len(res) != 5 {
				t.Fatalf("%v: %d neighbours", metric, len(res))
			}
			for k, nb := range res {
				if nb.Index == int32(i) || math.Abs(nb.Dist-dist(int(nb.Index))) > 1e-12 {
					t.Fatalf("%v i=%d: neighbour %+v", metric, i, nb)
				}
				if k > 0 && res[k-1].Dist > nb.Dist {
					t.Fatalf("%v i=%d: neighbours not sorted", metric, i)
				}
				// Nothing outside the answer is strictly closer than the k-th.
				for j := 0; j < m.Rows; j++ {
					if j != i && dist(j) < res[4].Dist && !slices.ContainsFunc(res, func(n Neighbor) bool { return n.Index == int32(j) }) {
						t.Fatalf("%v i=%d: missed %d", metric, i, j)
					}
				}
			}
		}
	}
}
