// Package parallel runs index ranges on all cores in fixed-size chunks.
//
// Chunk boundaries depend only on the problem size and the chunk size, never
// on the number of cores, so a kernel that keeps one partial result per chunk
// and combines them in chunk order gets bit-identical results on every
// machine.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

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
