package digitaltwin

import (
	"container/heap"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Duration kinds.
const (
	Constant    = "CONSTANT"
	Uniform     = "UNIFORM"
	Normal      = "NORMAL"
	Exponential = "EXPONENTIAL"
	Triangular  = "TRIANGULAR"
)

// Dist is a service-time distribution (seconds).
type Dist struct {
	Kind                              string
	Value, Low, High, Mode, Mean, Std float64
}

// Draw samples one duration. Only CONSTANT draws nothing, so the
// deterministic mode consumes no randomness.
func (d Dist) Draw(rng *rand.Rand) float64 {
	switch d.Kind {
	case Uniform:
		return d.Low + (d.High-d.Low)*rng.Float64()
	case Normal:
		// Truncation at 0 by redrawing; mean >= 0 makes each draw succeed
		// with probability >= 1/2.
		for {
			if x := d.Mean + d.Std*rng.NormFloat64(); x >= 0 {
				return x
			}
		}
	case Exponential:
		return d.Mean * rng.ExpFloat64()
	case Triangular:
		if d.High == d.Low {
			return d.Low
		}
		u := rng.Float64()
		w := d.High - d.Low
		if u < (d.Mode-d.Low)/w {
			return d.Low + math.Sqrt(u*w*(d.Mode-d.Low))
		}
		return d.High - math.Sqrt((1-u)*w*(d.High-d.Mode))
	default:
		return d.Value
	}
}

// Route is one outgoing transition.
type Route struct {
	Target int
	P      float64
}

// Activity is an activity of the model (codes index Model.Acts, sorted by
// name).
type Activity struct {
	Name   string
	Pool   int
	Dur    Dist
	Routes []Route // sorted by target name; empty = the case completes
}

// Pool is a resource pool (codes index Model.Pools, sorted by name).
type Pool struct {
	Name     string
	Capacity int
}

// Model is a validated simulation model with its run control.
type Model struct {
	Acts      []Activity
	Pools     []Pool
	Start     int
	Rate      float64   // Poisson rate, or 0 with Arrivals
	Arrivals  []float64 // explicit arrival times, sorted
	Horizon   float64
	Warmup    float64
	MaxEvents int64
	Traces    bool
}

// Service is one service record.
type Service struct {
	Case                int64
	Act                 int
	Enqueue, Start, End float64
}

// Replica is the raw result of one replication.
type Replica struct {
	Arrived    int64
	Cycle      []float64 // cycle times of the KPI cases, in completion order
	WIPArea    float64   // ∫ N(t) dt over [warmup, horizon]
	ActCount   []int64
	ActWait    []float64
	ActServed  []int64 // services of KPI cases that ended by the horizon
	ActService []float64
	PoolBusy   []float64
	Services   []Service
}

// ErrTooManyEvents reports a run that exceeded Model.MaxEvents.
type ErrTooManyEvents struct{ Max int64 }

func (e ErrTooManyEvents) Error() string { return "too many events" }

const (
	kindCompletion = 0 // processed before arrivals at one instant
	kindArrival    = 1
)

type event struct {
	t    float64
	kind int8
	c    int64 // case
	act  int   // completions: the activity that ends
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.t != b.t {
		return a.t < b.t
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	return a.c < b.c
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type request struct {
	c       int64
	act     int
	enqueue float64
}

// fifo is a queue of requests; the head index advances and the slice is
// compacted when half of it is consumed.
type fifo struct {
	items []request
	head  int
}

func (q *fifo) push(r request) { q.items = append(q.items, r) }
func (q *fifo) len() int       { return len(q.items) - q.head }
func (q *fifo) pop() request {
	r := q.items[q.head]
	q.head++
	if q.head > 1024 && q.head*2 > len(q.items) {
		q.items = append(q.items[:0], q.items[q.head:]...)
		q.head = 0
	}
	return r
}

// Simulate runs one replication drawing from rng. It polls ctx every 4096
// events and stops with ErrTooManyEvents past MaxEvents (arrivals plus
// services started).
func (m *Model) Simulate(ctx context.Context, rng *rand.Rand) (*Replica, error) {
	nA, nP := len(m.Acts), len(m.Pools)
	run := &Replica{
		ActCount: make([]int64, nA), ActWait: make([]float64, nA),
		ActServed: make([]int64, nA), ActService: make([]float64, nA),
		PoolBusy: make([]float64, nP),
	}
	var (
		h        eventHeap
		arrival  []float64 // per case
		queues   = make([]fifo, nP)
		busy     = make([]int, nP)
		events   int64 // arrivals plus services started
		polled   int64
		inSys    int64
		lastT    = m.Warmup
		reqs     []request
		explicit = m.Rate == 0
	)
	// WIP: integrate N(t) over [warmup, horizon]; changes before warmup
	// only move N.
	step := func(t float64, dn int64) {
		if t > m.Warmup {
			run.WIPArea += float64(inSys) * (t - lastT)
			lastT = t
		}
		inSys += dn
	}
	next := 0 // next explicit arrival
	pushArrival := func(t float64) {
		heap.Push(&h, event{t: t, kind: kindArrival, c: int64(len(arrival))})
		arrival = append(arrival, t)
	}
	if explicit {
		if len(m.Arrivals) > 0 {
			pushArrival(m.Arrivals[0])
			next = 1
		}
	} else {
		pushArrival(rng.ExpFloat64() / m.Rate)
	}
	for h.Len() > 0 {
		t := h[0].t
		if t > m.Horizon {
			break
		}
		reqs = reqs[:0]
		for h.Len() > 0 && h[0].t == t {
			ev := heap.Pop(&h).(event)
			if polled++; polled&4095 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			switch ev.kind {
			case kindCompletion:
				a := &m.Acts[ev.act]
				busy[a.Pool]--
				kpi := arrival[ev.c] >= m.Warmup
				nxt := route(a.Routes, rng)
				if nxt < 0 {
					step(t, -1)
					if kpi {
						run.Cycle = append(run.Cycle, t-arrival[ev.c])
					}
					continue
				}
				reqs = append(reqs, request{c: ev.c, act: nxt, enqueue: t})
			case kindArrival:
				if events++; events > m.MaxEvents {
					return nil, ErrTooManyEvents{m.MaxEvents}
				}
				run.Arrived++
				step(t, +1)
				reqs = append(reqs, request{c: ev.c, act: m.Start, enqueue: t})
				if explicit {
					if next < len(m.Arrivals) {
						pushArrival(m.Arrivals[next])
						next++
					}
				} else {
					pushArrival(t + rng.ExpFloat64()/m.Rate)
				}
			}
		}
		// Completions were handled in case order, then arrivals in case
		// order: requests join their queues in case order overall.
		slices.SortStableFunc(reqs, func(a, b request) int {
			switch {
			case a.c < b.c:
				return -1
			case a.c > b.c:
				return 1
			}
			return 0
		})
		for _, r := range reqs {
			queues[m.Acts[r.act].Pool].push(r)
		}
		for p := range m.Pools {
			q := &queues[p]
			for busy[p] < m.Pools[p].Capacity && q.len() > 0 {
				r := q.pop()
				events++
				if events > m.MaxEvents {
					return nil, ErrTooManyEvents{m.MaxEvents}
				}
				a := &m.Acts[r.act]
				d := a.Dur.Draw(rng)
				end := t + d
				busy[p]++
				run.PoolBusy[p] += math.Min(end, m.Horizon) - t
				if arrival[r.c] >= m.Warmup {
					run.ActCount[r.act]++
					run.ActWait[r.act] += t - r.enqueue
					if end <= m.Horizon {
						run.ActServed[r.act]++
						run.ActService[r.act] += d
					}
				}
				if m.Traces {
					run.Services = append(run.Services, Service{Case: r.c, Act: r.act, Enqueue: r.enqueue, Start: t, End: end})
				}
				heap.Push(&h, event{t: end, kind: kindCompletion, c: r.c, act: r.act})
			}
		}
	}
	step(m.Horizon, 0)
	if m.Traces {
		sort.SliceStable(run.Services, func(i, j int) bool {
			a, b := run.Services[i], run.Services[j]
			if a.Start != b.Start {
				return a.Start < b.Start
			}
			if a.Case != b.Case {
				return a.Case < b.Case
			}
			return a.End < b.End
		})
	}
	return run, nil
}

// route draws the next activity, or -1 at an activity without routes. A
// single route of probability 1 draws nothing.
func route(rs []Route, rng *rand.Rand) int {
	pos := -1
	for i, r := range rs {
		if r.P > 0 {
			if pos >= 0 {
				pos = -2
				break
			}
			pos = i
		}
	}
	switch {
	case pos == -1:
		return -1
	case pos >= 0 && rs[pos].P >= 1:
		return rs[pos].Target
	}
	u := rng.Float64()
	var cum float64
	last := -1
	for _, r := range rs {
		if r.P <= 0 {
			continue
		}
		cum += r.P
		last = r.Target
		if u < cum {
			return r.Target
		}
	}
	return last // Σp rounded just below u
}
