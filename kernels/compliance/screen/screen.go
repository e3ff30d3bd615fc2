// Package screen is the list screening shared by sanctions-screening and
// pep-screening: each entry's [name]+aliases prepared once, and a scan that
// scores a query against every entry with the names comparator, skipping
// names whose bound (lengths, shared code points, common prefix;
// names.Matcher.CompareMin) cannot reach the minimum score (lossless: the result
// equals a brute-force scan).
package screen

import (
	"context"
	"runtime"
	"sync"

	"github.com/gokernels/gokernels/kernels/finance/names"
)

// List is a prepared screening list.
type List struct {
	names []names.Name
	first []int32 // first name of each entry; len = entries+1
}

// NewList prepares the entries' names; names[i] is entry i's [name]+aliases.
func NewList(ctx context.Context, entries [][]string) (*List, error) {
	l := &List{first: make([]int32, 0, len(entries)+1)}
	for i, ns := range entries {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		l.first = append(l.first, int32(len(l.names)))
		for _, n := range ns {
			l.names = append(l.names, names.Prepare(n))
		}
	}
	l.first = append(l.first, int32(len(l.names)))
	return l, nil
}

// Append adds entries to the end of the list (the ring's upserts),
// preparing only their names.
func (l *List) Append(entries [][]string) {
	if len(l.first) == 0 {
		l.first = append(l.first, 0)
	}
	for _, ns := range entries {
		for _, n := range ns {
			l.names = append(l.names, names.Prepare(n))
		}
		l.first = append(l.first, int32(len(l.names)))
	}
}

// Remove deletes the entries at the given indexes (ascending, distinct,
// in range); the others keep their order and are renumbered 0.. in it.
// Their prepared names move, nothing is prepared again, and no bound is
// kept outside the names, so the scan stays lossless over the rest.
func (l *List) Remove(entries []int) {
	if len(entries) == 0 {
		return
	}
	n, k := 0, 0 // names kept, next removal
	first := l.first[:0]
	for old := 0; old+1 < len(l.first); old++ {
		lo, hi := l.first[old], l.first[old+1]
		if k < len(entries) && entries[k] == old {
			k++
			continue
		}
		first = append(first, int32(n))
		n += copy(l.names[n:], l.names[lo:hi])
	}
	first = append(first, int32(n))
	clear(l.names[n:]) // drop the removed names' text for the collector
	l.names, l.first = l.names[:n], first
}

// RemoveAt returns xs without the elements at positions at (ascending,
// distinct), the others in order, reusing xs: a kernel's per-entry data
// kept alongside a List, removed with List.Remove.
func RemoveAt[T any](xs []T, at []int) []T {
	keep, k := 0, 0
	for i := range xs {
		if k < len(at) && at[k] == i {
			k++
			continue
		}
		xs[keep] = xs[i]
		keep++
	}
	clear(xs[keep:])
	return xs[:keep]
}

// Len is the number of entries.
func (l *List) Len() int { return max(len(l.first)-1, 0) }

// Match is one entry scoring at least the minimum.
type Match struct {
	Entry int     // entry index
	Name  int     // index within the entry's [name]+aliases of the first name attaining Score
	Score float64 // the comparator maxed over the entry's names
}

// Name returns the prepared name i of entry e.
func (l *List) Name(e, i int) names.Name { return l.names[int(l.first[e])+i] }

// Scan returns the entries scoring >= minScore for q, in entry order.
// noPrefilter disables the length bound (tests use it to show the
// prefilter is lossless).
func (l *List) Scan(q names.Name, minScore float64, noPrefilter bool) []Match {
	var out []Match
	var m names.Matcher
	ok := false
	for e := 0; e+1 < len(l.first); e++ {
		best, at := -1.0, -1
		for i := l.first[e]; i < l.first[e+1]; i++ {
			var s float64
			if noPrefilter {
				s = m.Compare(q, l.names[i])
			} else if s, ok = m.CompareMin(&q, &l.names[i], minScore); !ok {
				continue
			}
			if s > best {
				best, at = s, int(i-l.first[e])
			}
		}
		if at >= 0 && best >= minScore {
			out = append(out, Match{Entry: e, Name: at, Score: best})
		}
	}
	return out
}

// ScanAll runs Scan for every query on GOMAXPROCS goroutines; results are
// in query order.
func (l *List) ScanAll(ctx context.Context, queries []names.Name, minScore float64, noPrefilter bool) ([][]Match, error) {
	out := make([][]Match, len(queries))
	var next int64
	var mu sync.Mutex
	workers := min(runtime.GOMAXPROCS(0), max(1, len(queries)))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if int(i) >= len(queries) {
					return
				}
				out[i] = l.Scan(queries[i], minScore, noPrefilter)
			}
		}()
	}
	wg.Wait()
	return out, ctx.Err()
}
