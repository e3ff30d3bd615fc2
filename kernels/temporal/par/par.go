// Package par runs independent index ranges on all cores.
//
// Chunk boundaries depend only on n and the chunk size, so work that writes
// one result per index is identical whatever the number of cores.
package par

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls fn(lo, hi) for consecutive chunks [lo, hi) of [0, n) on up to
// GOMAXPROCS goroutines. It stops handing out chunks once ctx is done and
// then returns ctx.Err(). fn must only write state owned by its range.
func For(ctx context.Context, n, chunk int, fn func(lo, hi int)) error {
	if chunk < 1 {
		chunk = 1
	}
	chunks := (n + chunk - 1) / chunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		for lo := 0; lo < n; lo += chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			fn(lo, min(lo+chunk, n))
		}
		return ctx.Err()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				lo := c * chunk
				fn(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}
