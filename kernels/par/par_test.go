package par

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestStridedVisitsEveryItemOnceInOrder(t *testing.T) {
	const n, workers = 1000, 3
	seen := make([]int32, n)
	last := make([]int, workers)
	for i := range last {
		last[i] = -1
	}
	err := Strided(context.Background(), n, workers, func(w, i int) error {
		if i%workers != w || i <= last[w] {
			t.Errorf("worker %d got item %d after %d", w, i, last[w])
		}
		last[w] = i
		atomic.AddInt32(&seen[i], 1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("item %d visited %d times", i, c)
		}
	}
}

func TestDynamicCoversRange(t *testing.T) {
	const n = 1003
	seen := make([]int32, n)
	err := Dynamic(context.Background(), n, 10, 4, func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			atomic.AddInt32(&seen[i], 1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("item %d visited %d times", i, c)
		}
	}
}

func TestStopsOnErrorAndCancel(t *testing.T) {
	boom := errors.New("boom")
	if err := Strided(context.Background(), 100, 2, func(_, i int) error {
		if i == 7 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Fatalf("Strided: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Int32
	if err := Dynamic(ctx, 100, 1, 2, func(_, _, _ int) error { ran.Add(1); return nil }); !errors.Is(err, context.Canceled) || ran.Load() != 0 {
		t.Fatalf("Dynamic after cancel: %v, %d chunks ran", err, ran.Load())
	}
	if err := Strided(ctx, 100, 1, func(_, _ int) error { ran.Add(1); return nil }); !errors.Is(err, context.Canceled) || ran.Load() != 0 {
		t.Fatalf("Strided after cancel: %v", err)
	}
}
