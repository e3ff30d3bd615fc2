package service

// Admission (package admission before, too small to be one) bounds how many
// kernels run at once and how many requests may wait for a slot: the reference product's actor mailbox, with
// the back-pressure it promises. A full queue is refused at once (never a
// hang), and time spent waiting counts against the request's deadline
// because waiting selects on the request context.

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// ErrQueueFull is returned when MaxQueue requests are already waiting.
var ErrQueueFull = errors.New("admission queue is full")

// ErrMemoryBusy is returned by Reserve when the request fits the memory
// budget but not next to the requests running now: retry later.
var ErrMemoryBusy = errors.New("memory budget in use by running requests")

// ErrMemoryTooLarge is returned by Reserve when the request alone needs more
// than the whole memory budget: retrying cannot help.
var ErrMemoryTooLarge = errors.New("request needs more memory than the budget")

// Admission is a counting semaphore with a bounded wait queue.
type Admission struct {
	slots    chan struct{}
	maxQueue int64
	waiting  atomic.Int64
	running  atomic.Int64

	budget   int64 // bytes; 0 = memory is not accounted
	reserved atomic.Int64
}

// New returns a Admission admitting concurrency kernels at once with at most
// maxQueue waiting.
func NewAdmission(concurrency, maxQueue int) *Admission {
	if concurrency < 1 {
		concurrency = 1
	}
	return &Admission{slots: make(chan struct{}, concurrency), maxQueue: int64(maxQueue)}
}

// Acquire waits for a slot. It returns how long it waited and a release
// function to call exactly once when the kernel is done, or ErrQueueFull, or
// the context's error if it ends first.
func (c *Admission) Acquire(ctx context.Context) (time.Duration, func(), error) {
	// Fast path: a free slot and nobody queued ahead.
	if c.waiting.Load() == 0 {
		select {
		case c.slots <- struct{}{}:
			c.running.Add(1)
			return 0, c.release, nil
		default:
		}
	}
	if c.waiting.Add(1) > c.maxQueue {
		c.waiting.Add(-1)
		return 0, nil, ErrQueueFull
	}
	start := time.Now()
	defer c.waiting.Add(-1)
	select {
	case c.slots <- struct{}{}:
		c.running.Add(1)
		return time.Since(start), c.release, nil
	case <-ctx.Done():
		return time.Since(start), nil, ctx.Err()
	}
}

func (c *Admission) release() {
	c.running.Add(-1)
	<-c.slots
}

// SetMemoryBudget sets the bytes that the estimated working sets of running
// requests may add up to (0: no memory accounting). Call before serving.
func (c *Admission) SetMemoryBudget(bytes int64) { c.budget = bytes }

// MemoryBudget is the budget set by SetMemoryBudget.
func (c *Admission) MemoryBudget() int64 { return c.budget }

// Reserved is the memory reserved by running requests now.
func (c *Admission) Reserved() int64 { return c.reserved.Load() }

// Reserve accounts bytes of estimated working set against the budget, at
// once or not at all: a request never waits for memory (waiting while holding
// a worker slot could deadlock the pool), it is refused with ErrMemoryBusy or
// ErrMemoryTooLarge. The release function must be called exactly once.
func (c *Admission) Reserve(bytes int64) (func(), error) {
	if c.budget <= 0 || bytes <= 0 {
		return func() {}, nil
	}
	if bytes > c.budget {
		return nil, ErrMemoryTooLarge
	}
	for {
		cur := c.reserved.Load()
		if cur+bytes > c.budget {
			return nil, ErrMemoryBusy
		}
		if c.reserved.CompareAndSwap(cur, cur+bytes) {
			var once atomic.Bool
			return func() {
				if once.CompareAndSwap(false, true) {
					c.reserved.Add(-bytes)
				}
			}, nil
		}
	}
}

// Running is the number of kernels executing now.
func (c *Admission) Running() int { return int(c.running.Load()) }

// Waiting is the number of requests queued for a slot.
func (c *Admission) Waiting() int { return int(c.waiting.Load()) }

// Capacity is the maximum number of concurrent kernels.
func (c *Admission) Capacity() int { return cap(c.slots) }

// QueueCapacity is the maximum number of waiting requests.
func (c *Admission) QueueCapacity() int { return int(c.maxQueue) }
