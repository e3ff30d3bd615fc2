// Package par runs the kernels' independent loops on all cores: the one
// parallel-for of every domain.
//
// Three shapes cover every kernel: Strided hands item i to worker i%W, so a
// worker's private accumulator always sees the same items in the same order
// (which keeps float reductions such as Brandes' deterministic for a given
// worker count); Dynamic hands out fixed-size chunks on demand, for loops whose
// items write only their own output slot and so need no ordering at all; For
// numbers fixed-size chunks whose boundaries depend only on n and the chunk
// size, never on the number of cores, so a kernel that keeps one partial
// result per chunk and combines them in chunk order gets bit-identical
// results on every machine. All stop early and return ctx.Err() once the
// context is done.
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

// Chunks is the number of chunks For splits n items into.
func Chunks(n, chunk int) int {
	if n <= 0 {
		return 0
	}
	if chunk < 1 {
		chunk = 1
	}
	return (n + chunk - 1) / chunk
}

// For calls fn(c, lo, hi) for every chunk c covering [lo, hi) of [0, n), using
// up to GOMAXPROCS goroutines. It stops handing out chunks after the first
// error or once ctx is done, and returns that error (ctx.Err() for
// cancellation). fn must only write state owned by its chunk.
func For(ctx context.Context, n, chunk int, fn func(c, lo, hi int) error) error {
	nc := Chunks(n, chunk)
	if nc == 0 {
		return ctx.Err()
	}
	if chunk < 1 {
		chunk = 1
	}
	workers := min(runtime.GOMAXPROCS(0), nc)
	var (
		next    atomic.Int64
		errOnce sync.Once
		first   error
		failed  atomic.Bool
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { first = err })
		failed.Store(true)
	}
	work := func() {
		defer wg.Done()
		for !failed.Load() {
			c := int(next.Add(1) - 1)
			if c >= nc {
				return
			}
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			lo := c * chunk
			hi := min(lo+chunk, n)
			if err := fn(c, lo, hi); err != nil {
				fail(err)
				return
			}
		}
	}
	wg.Add(workers)
	for w := 1; w < workers; w++ {
		go work()
	}
	work()
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// Ranges is For for loops that cannot fail and need no chunk number: it
// calls fn(lo, hi) for every chunk and returns ctx.Err().
func Ranges(ctx context.Context, n, chunk int, fn func(lo, hi int)) error {
	return For(ctx, n, chunk, func(_, lo, hi int) error {
		fn(lo, hi)
		return nil
	})
}
