// Package admission bounds how many kernels run at once and how many
// requests may wait for a slot: the reference product's actor mailbox, with
// the back-pressure it promises. A full queue is refused at once (never a
// hang), and time spent waiting counts against the request's deadline
// because waiting selects on the request context.
package admission

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// ErrQueueFull is returned when MaxQueue requests are already waiting.
var ErrQueueFull = errors.New("admission queue is full")

// Controller is a counting semaphore with a bounded wait queue.
type Controller struct {
	slots    chan struct{}
	maxQueue int64
	waiting  atomic.Int64
	running  atomic.Int64
}

// New returns a Controller admitting concurrency kernels at once with at most
// maxQueue waiting.
func New(concurrency, maxQueue int) *Controller {
	if concurrency < 1 {
		concurrency = 1
	}
	return &Controller{slots: make(chan struct{}, concurrency), maxQueue: int64(maxQueue)}
}

// Acquire waits for a slot. It returns how long it waited and a release
// function to call exactly once when the kernel is done, or ErrQueueFull, or
// the context's error if it ends first.
func (c *Controller) Acquire(ctx context.Context) (time.Duration, func(), error) {
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

func (c *Controller) release() {
	c.running.Add(-1)
	<-c.slots
}

// Running is the number of kernels executing now.
func (c *Controller) Running() int { return int(c.running.Load()) }

// Waiting is the number of requests queued for a slot.
func (c *Controller) Waiting() int { return int(c.waiting.Load()) }

// Capacity is the maximum number of concurrent kernels.
func (c *Controller) Capacity() int { return cap(c.slots) }

// QueueCapacity is the maximum number of waiting requests.
func (c *Controller) QueueCapacity() int { return int(c.maxQueue) }
