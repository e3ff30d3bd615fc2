package pool

// The admission core: a counting semaphore of Workers slots with a bounded
// wait queue (the mailbox), and a memory budget. Pool.Execute and the
// server's Execute (and its typed RPCs) both go through Admit, so an
// embedded pool and the server bound their kernels the same way: a full
// queue is refused at once (never a hang), and time spent waiting counts
// against the caller's deadline because waiting selects on its context.

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// ErrMemoryBusy is returned by Reserve when the request fits the memory
// budget but not next to the requests running now: retry later.
var ErrMemoryBusy = errors.New("memory budget in use by running requests")

// ErrMemoryTooLarge is returned by Reserve when the request alone needs more
// than the whole memory budget: retrying cannot help.
var ErrMemoryTooLarge = errors.New("request needs more memory than the budget")

// Slot is an admitted call: it holds one of the Workers slots until Done.
type Slot struct {
	p  *Pool
	id string
	// Queued is how long the call waited for its slot.
	Queued time.Duration
	done   atomic.Bool
}

// Admit admits a call of kernel id: it waits for a free slot unless
// MailboxCapacity calls already wait (ErrMailboxFull, at once), the pool is
// closed (ErrClosed), the kernel is quarantined (ErrKernelQuarantined) or
// ctx ends first (its error). The caller runs the kernel with Slot.Run on
// its own goroutine and must call Slot.Done exactly once.
func (p *Pool) Admit(ctx context.Context, id string) (*Slot, error) {
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return nil, ErrClosed
	}
	if p.nquarantined.Load() > 0 {
		if until, ok := p.until[id]; ok {
			if now := p.cfg.Now(); now.Before(until) {
				p.mu.RUnlock()
				p.rejected.Add(1)
				return nil, &QuarantineError{KernelID: id, Panics: p.cfg.QuarantineAfter, Window: p.cfg.QuarantineWindow, Left: until.Sub(now)}
			}
		}
	}
	p.calls.Add(1) // under the read lock: Close waits for it
	p.mu.RUnlock()

	queued, err := p.acquire(ctx)
	if err != nil {
		p.calls.Done()
		if errors.Is(err, ErrMailboxFull) {
			p.rejected.Add(1)
		} else {
			p.failed.Add(1)
			p.timedOut.Add(1)
		}
		return nil, err
	}
	p.submitted.Add(1)
	return &Slot{p: p, id: id, Queued: queued}, nil
}

// Run runs fn, the kernel, in the slot. A panic in fn fails only this call:
// it returns a *PanicError and counts towards the kernel's quarantine.
func (s *Slot) Run(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{KernelID: s.id, Value: v, Stack: stack()}
			s.p.npanics.Add(1)
			s.p.notePanic(s.id)
		}
	}()
	return fn()
}

// Done releases the slot and counts the call's outcome (err: how it ended).
// Calls after the first do nothing.
func (s *Slot) Done(err error) {
	if !s.done.CompareAndSwap(false, true) {
		return
	}
	p := s.p
	switch {
	case err == nil:
		p.succeeded.Add(1)
	case errors.Is(err, context.DeadlineExceeded):
		p.failed.Add(1)
		p.timedOut.Add(1)
	default:
		p.failed.Add(1)
	}
	p.running.Add(-1)
	<-p.slots
	p.calls.Done()
}

// acquire waits for a slot. Fast path: a free slot and nobody queued ahead.
func (p *Pool) acquire(ctx context.Context) (time.Duration, error) {
	if p.waiting.Load() == 0 {
		select {
		case p.slots <- struct{}{}:
			p.running.Add(1)
			return 0, nil
		default:
		}
	}
	if p.waiting.Add(1) > int64(p.cfg.MailboxCapacity) {
		p.waiting.Add(-1)
		return 0, ErrMailboxFull
	}
	start := time.Now()
	defer p.waiting.Add(-1)
	select {
	case p.slots <- struct{}{}:
		p.running.Add(1)
		return time.Since(start), nil
	case <-ctx.Done():
		return time.Since(start), ctx.Err()
	}
}

// Reserve accounts bytes of estimated working set against the memory
// budget (Config.MemoryBudget), at once or not at all: a call never waits
// for memory (waiting while holding a slot could deadlock the pool), it is
// refused with ErrMemoryBusy or ErrMemoryTooLarge. The release function
// must be called; calls after the first do nothing.
func (p *Pool) Reserve(bytes int64) (func(), error) {
	budget := p.cfg.MemoryBudget
	if budget <= 0 || bytes <= 0 {
		return func() {}, nil
	}
	if bytes > budget {
		return nil, ErrMemoryTooLarge
	}
	for {
		cur := p.reserved.Load()
		if cur+bytes > budget {
			return nil, ErrMemoryBusy
		}
		if p.reserved.CompareAndSwap(cur, cur+bytes) {
			var once atomic.Bool
			return func() {
				if once.CompareAndSwap(false, true) {
					p.reserved.Add(-bytes)
				}
			}, nil
		}
	}
}

// MemoryBudget is Config.MemoryBudget (0: memory is not accounted).
func (p *Pool) MemoryBudget() int64 { return p.cfg.MemoryBudget }

// Reserved is the memory reserved by running calls now.
func (p *Pool) Reserved() int64 { return p.reserved.Load() }

// Running is the number of kernels executing now.
func (p *Pool) Running() int { return int(p.running.Load()) }

// Waiting is the number of calls queued for a slot.
func (p *Pool) Waiting() int { return int(p.waiting.Load()) }
