package ring

import (
	"sync"

	"google.golang.org/grpc/codes"
)

// EndReason says why a watch or session ended.
type EndReason int

// End reasons (mirrored in the API's SessionEnd.Reason).
const (
	EndClientClosed EndReason = iota + 1
	EndIdleEvicted
	EndDraining
	EndDeleted
	EndFailed
	EndSlowConsumer
)

func (e EndReason) String() string {
	return [...]string{"UNSPECIFIED", "CLIENT_CLOSED", "IDLE_EVICTED", "DRAINING", "DELETED", "RING_FAILED", "SLOW_CONSUMER"}[e]
}

const (
	eventRetention = 1024 // events kept for Watch(after_seq)
	watcherBuffer  = 1024 // events a watcher may fall behind before it is cut off
)

// eventLog retains recent events and fans them out to watchers. publish is
// called by the ring goroutine only; it never blocks: a watcher whose
// buffer is full is ended with SLOW_CONSUMER while the ring runs on.
type eventLog struct {
	mu       sync.Mutex
	buf      [eventRetention]Event
	n        uint64 // events ever published
	watchers map[*Watcher]struct{}
}

// Watcher receives a ring's events on C until it is closed; Reason then
// says why.
type Watcher struct {
	C      <-chan Event
	c      chan Event
	log    *eventLog
	reason EndReason
	closed bool
	// skip is a client whose events this watcher does not receive (a
	// session's own, which it gets with its replies); endOnly watchers
	// receive no events at all, only the close that says why the ring
	// went away. Neither fills the buffer, so neither can make a reader
	// that keeps up look slow.
	skip    string
	endOnly bool
	done    chan struct{}
}

// Done is closed when the watch ends, like C, for a goroutine that does
// not read C.
func (w *Watcher) Done() <-chan struct{} { return w.done }

// Reason is why the watch ended (valid after C is closed).
func (w *Watcher) Reason() EndReason {
	w.log.mu.Lock()
	defer w.log.mu.Unlock()
	return w.reason
}

// Close stops the watch.
func (w *Watcher) Close() {
	w.log.mu.Lock()
	defer w.log.mu.Unlock()
	w.log.closeLocked(w, EndClientClosed)
}

func (l *eventLog) closeLocked(w *Watcher, why EndReason) {
	if w.closed {
		return
	}
	w.closed, w.reason = true, why
	close(w.c)
	close(w.done)
	delete(l.watchers, w)
}

func (l *eventLog) publish(evs []Event, applied Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range evs {
		l.add(e)
	}
	l.add(applied)
}

func (l *eventLog) add(e Event) {
	l.buf[l.n%eventRetention] = e
	l.n++
	for w := range l.watchers {
		if w.endOnly || (w.skip != "" && e.ClientID == w.skip) {
			continue
		}
		select {
		case w.c <- e:
		default:
			l.closeLocked(w, EndSlowConsumer)
		}
	}
}

// WatchOptions choose what a watcher receives.
type WatchOptions struct {
	// AfterSeq with Replay: retained events with seq > AfterSeq come first.
	AfterSeq uint64
	Replay   bool
	// SkipClient's events are not delivered (a session's own client).
	SkipClient string
	// EndOnly delivers no events: C is only closed when the ring ends.
	EndOnly bool
}

func (l *eventLog) subscribe(o WatchOptions, applied uint64) (*Watcher, error) {
	after, replay := o.AfterSeq, o.Replay && !o.EndOnly
	l.mu.Lock()
	defer l.mu.Unlock()
	size := watcherBuffer
	if o.EndOnly {
		size = 0
	}
	c := make(chan Event, size)
	w := &Watcher{C: c, c: c, log: l, skip: o.SkipClient, endOnly: o.EndOnly, done: make(chan struct{})}
	first := uint64(0)
	if l.n > eventRetention {
		first = l.n - eventRetention
	}
	if replay && after < applied {
		// Retention must reach back to the event after after_seq.
		if l.n == 0 || l.buf[first%eventRetention].Seq > after+1 {
			return nil, errorf(codes.OutOfRange, "", "events after seq %d are no longer retained (the ring keeps its last %d events)",
				after, eventRetention)
		}
	}
	for i := first; i < l.n; i++ {
		if e := l.buf[i%eventRetention]; replay && e.Seq > after && (w.skip == "" || e.ClientID != w.skip) {
			c <- e
		}
	}
	if l.watchers == nil {
		l.watchers = map[*Watcher]struct{}{}
	}
	l.watchers[w] = struct{}{}
	return w, nil
}

// end closes every watcher with why.
func (l *eventLog) end(why EndReason) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for w := range l.watchers {
		l.closeLocked(w, why)
	}
}
