package kdtree

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func brute(p P, a, b []float64) float64 {
	var s float64
	for i := range a {
		d := math.Abs(a[i] - b[i])
		switch p {
		case L2:
			s += d * d
		case L1:
			s += d
		default:
			s = max(s, d)
		}
	}
	if p == L2 {
		return math.Sqrt(s)
	}
	return s
}

// points has clusters and exact duplicates, so ties and zero-spread boxes occur.
func points(n, d int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, n*d)
	for i := 0; i < n; i++ {
		if i > 0 && i%17 == 0 {
			copy(x[i*d:(i+1)*d], x[(i-1)*d:i*d])
			continue
		}
		for j := 0; j < d; j++ {
			x[i*d+j] = math.Round(r.NormFloat64()*4*100) / 100
		}
	}
	return x
}

func TestAgainstBruteForce(t *testing.T) {
	for _, p := range []P{L1, L2, LInf} {
		for _, d := range []int{1, 2, 5} {
			n := 700
			x := points(n, d, uint64(d))
			tree, err := Build(context.Background(), x, d, p)
			if err != nil {
				t.Fatal(err)
			}
			row := func(i int) []float64 { return x[i*d : (i+1)*d] }
			knn := tree.NewKNN(7)
			for q := 0; q < n; q += 13 {
				// Radius: same set as the brute-force scan, boundary included.
				r := 1.5
				var want []int32
				for j := 0; j < n; j++ {
					if brute(p, row(q), row(j)) <= r {
						want = append(want, int32(j))
					}
				}
				var got []int32
				tree.Radius(row(q), r, func(j int32) { got = append(got, j) })
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("p=%d d=%d q=%d radius: got %v want %v", p, d, q, got, want)
				}
				if c := tree.RadiusCount(row(q), r); c != len(want) {
					t.Fatalf("p=%d d=%d q=%d count %d want %d", p, d, q, c, len(want))
				}
				// kNN without the query point: sorted by (distance, index).
				all := make([]Neighbor, 0, n)
				for j := 0; j < n; j++ {
					if j != q {
						all = append(all, Neighbor{Index: int32(j), Dist: brute(p, row(q), row(j))})
					}
				}
				slices.SortFunc(all, func(a, b Neighbor) int {
					if a.Dist != b.Dist {
						if a.Dist < b.Dist {
							return -1
						}
						return 1
					}
					return int(a.Index - b.Index)
				})
				res := knn.Query(row(q), int32(q), nil)
				for k := range res {
					if res[k].Index != all[k].Index || math.Abs(res[k].Dist-all[k].Dist) > 1e-12 {
						t.Fatalf("p=%d d=%d q=%d knn[%d] = %+v want %+v", p, d, q, k, res[k], all[k])
					}
				}
			}
		}
	}
}

func TestIdenticalPoints(t *testing.T) {
	x := make([]float64, 200) // 100 copies of (0, 0)
	tree, err := Build(context.Background(), x, 2, L2)
	if err != nil {
		t.Fatal(err)
	}
	if c := tree.RadiusCount([]float64{0, 0}, 0); c != 100 {
		t.Errorf("count = %d, want 100", c)
	}
	res := tree.NewKNN(3).Query([]float64{0, 0}, 0, nil)
	if len(res) != 3 || res[0].Index != 1 || res[2].Index != 3 {
		t.Errorf("knn = %+v, want indexes 1, 2, 3 at distance 0", res)
	}
}

func TestEmpty(t *testing.T) {
	tree, err := Build(context.Background(), nil, 3, L2)
	if err != nil {
		t.Fatal(err)
	}
	if tree.RadiusCount([]float64{0, 0, 0}, 1) != 0 || len(tree.NewKNN(2).Query([]float64{0, 0, 0}, -1, nil)) != 0 {
		t.Error("empty tree returned points")
	}
}

func TestBuildCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, points(50000, 2, 3), 2, L2); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
