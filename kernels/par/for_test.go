package par

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestCoversEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000, 1001} {
		seen := make([]int32, n)
		err := For(context.Background(), n, 64, func(c, lo, hi int) error {
			if lo != c*64 {
				t.Errorf("chunk %d starts at %d", c, lo)
			}
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&seen[i], 1)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range seen {
			if v != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, v)
			}
		}
		if Chunks(n, 64) != (n+63)/64 {
			t.Errorf("Chunks(%d, 64) = %d", n, Chunks(n, 64))
		}
	}
}

func TestStopsOnError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int32
	err := For(context.Background(), 1<<20, 1, func(c, _, _ int) error {
		calls.Add(1)
		if c == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if calls.Load() > 1<<16 {
		t.Errorf("%d chunks ran after the error", calls.Load())
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := For(ctx, 100, 1, func(int, int, int) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("err = %v, ran = %v; want context.Canceled and no work", err, ran)
	}
}
