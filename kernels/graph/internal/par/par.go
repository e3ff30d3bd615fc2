// Package par runs the per-node loops of the graph kernels on all cores.
//
// Two shapes cover every kernel: Strided hands item i to worker i%W, so a
// worker's private accumulator always sees the same items in the same order
// (which keeps float reductions such as Brandes' deterministic for a given
// worker count); Dynamic hands out fixed-size chunks on demand, for loops whose
// items write only their own output slot and so need no ordering at all.
// Both stop early and return ctx.Err() once the context is done.
package par

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers is the number of goroutines to use for n independent items:
// GOMAXPROCS, but never more than the items (and at least 1).
func Workers(n int) int {
	w := runtime.GOMAXPROCS(0)
	if w > n {
		w = n
	}
	if w < 1 {
		w = 1
	}
	return w
}

// Strided runs fn(w, i) for every i in [0, n), worker w taking the items
// w, w+W, w+2W, ... in increasing order. ctx is checked before every item.
// It returns the first error from fn, or ctx.Err() if the context ended.
func Strided(ctx context.Context, n, workers int, fn func(w, i int) error) error {
	if workers < 1 {
		workers = 1
	}
	if workers == 1 {
		for i := 0; i < n; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(0, i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		wg   sync.WaitGroup
		once sync.Once
		stop atomic.Bool
		ferr error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if stop.Load() {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = fn(w, i)
				}
				if err != nil {
					once.Do(func() { ferr = err })
					stop.Store(true)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	return ferr
}

// Dynamic runs fn(w, lo, hi) over [0, n) in chunks of the given size handed
// out on demand, so uneven items (a hub's BFS next to a leaf's) balance across
// workers. ctx is checked before every chunk.
func Dynamic(ctx context.Context, n, chunk, workers int, fn func(w, lo, hi int) error) error {
	if chunk < 1 {
		chunk = 1
	}
	if workers < 1 {
		workers = 1
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		once sync.Once
		stop atomic.Bool
		ferr error
	)
	run := func(w int) {
		for !stop.Load() {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= n {
				return
			}
			hi := min(lo+chunk, n)
			err := ctx.Err()
			if err == nil {
				err = fn(w, lo, hi)
			}
			if err != nil {
				once.Do(func() { ferr = err })
				stop.Store(true)
				return
			}
		}
	}
	if workers == 1 {
		run(0)
		return ferr
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			run(w)
		}(w)
	}
	wg.Wait()
	return ferr
}
