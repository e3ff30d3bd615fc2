package observe

import (
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// Stats keeps per-kernel execution statistics, like Triton's statistics
// extension: counts, totals, and latency percentiles over a recent window
// (the last `window` executions of each kernel, a fixed-size ring, so memory
// is bounded by the number of registered kernels).
type Stats struct {
	window int
	mu     sync.Mutex
	byID   map[string]*kernelStats
}

type kernelStats struct {
	success  uint64
	failures map[string]uint64
	compute  time.Duration
	queue    time.Duration
	last     time.Time
	recent   []float64 // seconds, ring buffer
	next     int
}

// KernelSnapshot is a copy of one kernel's statistics.
type KernelSnapshot struct {
	KernelID      string
	Success       uint64
	Failures      map[string]uint64
	ComputeTotal  time.Duration
	QueueTotal    time.Duration
	P50, P90, P99 time.Duration
	Last          time.Time
}

// NewStats keeps the last window latencies per kernel.
func NewStats(window int) *Stats {
	return &Stats{window: window, byID: map[string]*kernelStats{}}
}

// Record adds one execution.
func (s *Stats) Record(id, code string, compute, queue time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.byID[id]
	if k == nil {
		k = &kernelStats{failures: map[string]uint64{}}
		s.byID[id] = k
	}
	if code == "OK" {
		k.success++
	} else {
		k.failures[code]++
	}
	k.compute += compute
	k.queue += queue
	k.last = time.Now()
	if code != "OK" {
		return // percentiles describe successful executions, like Triton's
	}
	lat := (compute + queue).Seconds()
	if len(k.recent) < s.window {
		k.recent = append(k.recent, lat)
	} else {
		k.recent[k.next] = lat
		k.next = (k.next + 1) % s.window
	}
}

// Snapshot returns the statistics of every kernel that has run (or just id).
func (s *Stats) Snapshot(id string) []KernelSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []KernelSnapshot
	for kid, k := range s.byID {
		if id != "" && kid != id {
			continue
		}
		sorted := slices.Clone(k.recent)
		sort.Float64s(sorted)
		out = append(out, KernelSnapshot{
			KernelID: kid, Success: k.success, Failures: cloneMap(k.failures),
			ComputeTotal: k.compute, QueueTotal: k.queue, Last: k.last,
			P50: quantile(sorted, 0.50), P90: quantile(sorted, 0.90), P99: quantile(sorted, 0.99),
		})
	}
	slices.SortFunc(out, func(a, b KernelSnapshot) int {
		if a.KernelID < b.KernelID {
			return -1
		}
		if a.KernelID > b.KernelID {
			return 1
		}
		return 0
	})
	return out
}

func cloneMap(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// quantile is the nearest-rank quantile of sorted seconds.
func quantile(sorted []float64, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return time.Duration(sorted[i] * float64(time.Second))
}

// ErrorWindow is the fraction of server-side failures among executions over
// a sliding time window, in one-second buckets.
//
// Health degrades only on a sustained failure rate: a burst, such as one
// client sending ten requests that each crash a kernel within a second or
// two, is counted (as server errors in the metrics) but does not make the
// rate non-zero. The rate counts once the window holds at least minimum
// executions and failures fell in at least faultSeconds distinct seconds.
type ErrorWindow struct {
	mu           sync.Mutex
	buckets      []errBucket
	span         time.Duration
	minimum      int
	faultSeconds int
	now          func() time.Time
}

type errBucket struct {
	sec           int64
	total, faults int
}

// NewErrorWindow covers span; fewer than minimum executions in the window,
// or failures in fewer than faultSeconds distinct seconds of it, report a
// rate of 0 (a short burst of failures is not an outage).
func NewErrorWindow(span time.Duration, minimum, faultSeconds int) *ErrorWindow {
	n := int(span / time.Second)
	if n < 1 {
		n = 1
	}
	return &ErrorWindow{buckets: make([]errBucket, n), span: span, minimum: minimum,
		faultSeconds: faultSeconds, now: time.Now}
}

// Record adds one execution outcome.
func (w *ErrorWindow) Record(fault bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sec := w.now().Unix()
	b := &w.buckets[int(sec%int64(len(w.buckets)))]
	if b.sec != sec {
		*b = errBucket{sec: sec}
	}
	b.total++
	if fault {
		b.faults++
	}
}

// Rate returns the fault fraction and the number of executions in the window.
func (w *ErrorWindow) Rate() (float64, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sec := w.now().Unix()
	total, faults, faultSeconds := 0, 0, 0
	for _, b := range w.buckets {
		if sec-b.sec < int64(len(w.buckets)) {
			total += b.total
			faults += b.faults
			if b.faults > 0 {
				faultSeconds++
			}
		}
	}
	if total < w.minimum || total == 0 || faultSeconds < w.faultSeconds {
		return 0, total
	}
	return float64(faults) / float64(total), total
}
