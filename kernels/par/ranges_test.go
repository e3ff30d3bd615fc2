package par

import (
	"context"
	"errors"
	"testing"
)

func TestRangesCoversEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		hits := make([]int, n)
		if err := Ranges(context.Background(), n, 3, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				hits[i]++
			}
		}); err != nil {
			t.Fatal(err)
		}
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, h)
			}
		}
	}
}

func TestRangesCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := Ranges(ctx, 100, 1, func(lo, hi int) { calls++ })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Errorf("err %v after %d calls", err, calls)
	}
}
