// Package ring is the runtime of Ring kernels: durable, stateful actors
// around a kernel's fold handler (package kernels/fold).
//
// One goroutine owns each active ring. It takes messages from a bounded
// mailbox, gives each state-changing one the next seq (the ring's total
// order), journals the batch it took with one fsync (group commit, JOURNAL
// durability), applies them one at a time and replies. Retries are
// recognised by (client_id, client_seq) against an anti-replay window kept
// in the snapshot, so a retried message returns its original reply and is
// not applied twice. A handler panic fails only its message: the message is
// quarantined and the state rebuilt from the last snapshot and the messages
// after it; too many restarts in a window mark the ring FAILED.
package ring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Durability is what survives a crash.
type Durability int

// Durability modes.
const (
	// None keeps everything in memory: a crash or an idle eviction loses it.
	None Durability = iota + 1
	// Snapshot writes snapshots (every N messages, on passivation and drain);
	// a crash rolls back to the last one.
	Snapshot
	// Journal also appends every accepted message to a write-ahead log and
	// fsyncs it before replying: every replied message survives a crash.
	Journal
)

func (d Durability) String() string {
	switch d {
	case None:
		return "NONE"
	case Snapshot:
		return "SNAPSHOT"
	case Journal:
		return "JOURNAL"
	}
	return "UNSPECIFIED"
}

// State is a ring's lifecycle state.
type State int

// Ring states.
const (
	Active State = iota + 1
	Paused
	Passivated
	Failed
	Deleted
	stopping // the goroutine is finishing its mailbox (internal)
)

func (s State) String() string {
	switch s {
	case Active:
		return "ACTIVE"
	case Paused:
		return "PAUSED"
	case Passivated:
		return "PASSIVATED"
	case Failed:
		return "FAILED"
	case Deleted:
		return "DELETED"
	}
	return "UNSPECIFIED"
}

// Config is a ring's per-ring settings, fixed at creation.
type Config struct {
	Durability      Durability `json:"durability"`
	MailboxCapacity int        `json:"mailbox_capacity"`
	SnapshotEvery   int        `json:"snapshot_every"`
	Seed            uint64     `json:"seed"`
}

// Message is one request to a ring.
type Message struct {
	Kind      Kind
	ClientID  string // "" = no deduplication
	ClientSeq uint64
	TS        int64         // data messages: Unix seconds, non-decreasing
	Payload   proto.Message // the kernel's input message (data, configure)
	// Time is the acceptance time (Unix nanoseconds) recorded for the
	// message when an outer replicated log already fixed one (cluster
	// mode: the JetStream timestamp), so every replica that replays the
	// log gives handlers the same rc.Time; 0 = now.
	Time int64
}

// Reply is the one answer to a Message.
type Reply struct {
	Seq       uint64 // the message's seq (for Snapshot: the state's seq)
	ClientID  string
	ClientSeq uint64
	Err       *Error        // nil when applied
	Output    proto.Message // Snapshot: the Batch-equal result
	Duplicate bool          // a retry answered from the anti-replay window
	Events    []Event       // what the message emitted, in order
}

type request struct {
	msg     Message
	payload []byte
	done    func(Reply)
}

type tailItem struct {
	e   entry
	msg proto.Message
}

// Ring is one actor. Its exported methods are safe for concurrent use.
type Ring struct {
	rt      *Runtime
	Tenant  string
	ID      string
	Name    string // tenants/{tenant}/rings/{id}
	kernel  *registry.Kernel
	cfg     Config
	dir     string // "" when nothing goes to disk
	created time.Time

	mu         sync.RWMutex // guards state and the channels' lifetime
	state      State
	failReason string
	// paused survives passivation and restarts (ring.json): a paused ring
	// comes back paused, not active.
	paused   bool
	mailbox  chan *request
	ctl      chan func()
	quit     chan struct{}
	exited   chan struct{}
	stopDone chan struct{} // closed when a stop has finished

	lastActive atomic.Int64 // Unix nanoseconds
	appliedSeq atomic.Uint64
	// publishedSeq is the last seq whose events watchers have seen: it
	// trails appliedSeq while a batch waits for its fsync.
	publishedSeq atomic.Uint64
	restartsN    atomic.Int64
	quarN        atomic.Int64

	ev eventLog

	// The syncer (JOURNAL rings): batches written but not yet fsynced and
	// delivered, and the error of a failed fsync for the ring goroutine.
	syncq   chan *flush
	syncing sync.WaitGroup
	syncErr atomic.Pointer[string]
	// snapping: a periodic snapshot being written in the background.
	snapping sync.WaitGroup

	// Owned by the ring goroutine (or by whoever holds mu exclusively while
	// the goroutine is not running).
	h           fold.Handler
	seq         uint64 // last assigned
	applied     uint64 // last applied
	lastTS      int64
	hasTS       bool
	dataSeen    bool
	dd          *dedup
	quarantined map[uint64]bool
	base        []byte // latest snapshot (encoded), nil = initial state
	tail        []tailItem
	j           *journal
	restarts    []time.Time
	sinceSnap   int
	overLimit   bool
	failed      *Error
	pending     map[dedupKey]struct{}
	km          kernelMetrics
}

type dedupKey struct {
	id string
	cs uint64
}

// Info describes a ring.
type Info struct {
	Name, Tenant, ID, KernelID string
	Durability                 Durability
	State                      State
	FailReason                 string
	Seq                        uint64
	MailboxDepth, MailboxCap   int
	Restarts, Quarantined      int64
	Created, LastActive        time.Time
	SnapshotEvery              int
}

// Info returns the ring's current description.
func (r *Ring) Info() Info {
	r.mu.RLock()
	st, reason, depth := r.state, r.failReason, 0
	if r.mailbox != nil {
		depth = len(r.mailbox)
	}
	r.mu.RUnlock()
	return Info{Name: r.Name, Tenant: r.Tenant, ID: r.ID, KernelID: r.kernel.ID, Durability: r.cfg.Durability,
		State: st, FailReason: reason, Seq: r.appliedSeq.Load(), MailboxDepth: depth, MailboxCap: r.cfg.MailboxCapacity,
		Restarts: r.restartsN.Load(), Quarantined: r.quarN.Load(), Created: r.created,
		LastActive: time.Unix(0, r.lastActive.Load()), SnapshotEvery: r.cfg.SnapshotEvery}
}

// KernelID is the ring's kernel.
func (r *Ring) KernelID() string { return r.kernel.ID }

// Kernel is the ring's kernel.
func (r *Ring) Kernel() *registry.Kernel { return r.kernel }

// Submit enqueues m without blocking; done is called exactly once with the
// reply, from the ring goroutine (keep it short). A full mailbox fails at
// once with ErrMailboxFull; an accepted message is applied even if the
// caller stops waiting.
func (r *Ring) Submit(m Message, done func(Reply)) error {
	if err := r.rt.admit(); err != nil {
		return err
	}
	if err := r.validate(&m); err != nil {
		return err
	}
	q := &request{msg: m, done: done}
	if r.cfg.Durability == Journal && m.Payload != nil {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.Payload)
		if err != nil {
			return errorf(codes.InvalidArgument, "", "payload: %v", err)
		}
		q.payload = b
	}
	for {
		r.mu.RLock()
		switch r.state {
		case Active:
			select {
			case r.mailbox <- q:
				r.mu.RUnlock()
				return nil
			default:
				r.mu.RUnlock()
				r.rt.metrics.rejected(r.kernel.ID, "mailbox_full")
				return ErrMailboxFull
			}
		case Passivated:
			r.mu.RUnlock()
			if err := r.activate(); err != nil {
				return err
			}
			continue
		case stopping:
			r.mu.RUnlock()
			r.waitStopped()
			continue
		case Paused:
			r.mu.RUnlock()
			return errorf(codes.FailedPrecondition, ReasonPaused, "ring %s is paused; resume it first", r.Name)
		case Failed:
			reason := r.failReason
			r.mu.RUnlock()
			return errorf(codes.FailedPrecondition, ReasonFailed, "ring %s has FAILED (%s); restore or delete it", r.Name, reason)
		default:
			r.mu.RUnlock()
			return errorf(codes.NotFound, ReasonNotFound, "ring %s was deleted", r.Name)
		}
	}
}

// Send submits m and waits for its reply. ctx bounds acceptance and the
// wait, never the effect: on DEADLINE_EXCEEDED the message may still be
// applied, and a retry with the same client_seq collects its reply.
func (r *Ring) Send(ctx context.Context, m Message) (Reply, error) {
	ch := make(chan Reply, 1)
	if err := r.Submit(m, func(rep Reply) { ch <- rep }); err != nil {
		return Reply{}, err
	}
	select {
	case rep := <-ch:
		return rep, nil
	case <-ctx.Done():
		return Reply{}, errorf(codes.DeadlineExceeded, "", "no reply within the deadline; the message was accepted and "+
			"will be applied: retry with the same client_id and client_seq to collect its reply")
	}
}

func (r *Ring) validate(m *Message) error {
	switch m.Kind {
	case KindData, KindConfigure:
		if m.Payload == nil {
			return errorf(codes.InvalidArgument, "", "%s message needs a payload (the kernel's input message %s)",
				m.Kind, r.kernel.Input.Descriptor().FullName())
		}
		if m.Payload.ProtoReflect().Descriptor() != r.kernel.Input.Descriptor() {
			return errorf(codes.InvalidArgument, "", "payload is %s; kernel %s takes %s",
				m.Payload.ProtoReflect().Descriptor().FullName(), r.kernel.ID, r.kernel.Input.Descriptor().FullName())
		}
		if err := validatePayload(r.kernel, m.Kind, m.Payload); err != nil {
			return err
		}
	case KindReset, KindSnapshot:
		m.Payload = nil
	default:
		return errorf(codes.InvalidArgument, "", "unknown message kind %d", m.Kind)
	}
	if m.ClientID == "" && m.ClientSeq != 0 {
		return errorf(codes.InvalidArgument, "", "client_seq needs a client_id")
	}
	if m.ClientID != "" && m.ClientSeq == 0 {
		return errorf(codes.InvalidArgument, "", "client_seq must be at least 1 when client_id is set")
	}
	if len(m.ClientID) > 128 {
		return errorf(codes.InvalidArgument, "", "client_id is longer than 128 bytes")
	}
	return nil
}

// loop is the ring goroutine.
func (r *Ring) loop(mailbox chan *request, ctl chan func(), quit chan struct{}, exited chan struct{}) {
	defer close(exited)
	batch := make([]*request, 0, r.rt.opts.GroupCommitMax)
	for {
		select {
		case q := <-mailbox:
			batch = append(batch[:0], q)
			batch = r.takeMore(mailbox, batch)
			r.process(batch)
		case f := <-ctl:
			r.barrier()
			f()
		case <-quit:
			for {
				batch = r.takeMore(mailbox, batch[:0])
				if len(batch) == 0 {
					r.barrier()
					if r.syncq != nil {
						close(r.syncq)
						r.syncq = nil
					}
					return
				}
				r.process(batch)
			}
		}
	}
}

func (r *Ring) takeMore(mailbox chan *request, batch []*request) []*request {
	for len(batch) < r.rt.opts.GroupCommitMax {
		select {
		case q := <-mailbox:
			batch = append(batch, q)
		default:
			return batch
		}
	}
	return batch
}

type item struct {
	q     *request
	e     entry
	read  bool // Snapshot: no seq, no journal
	later bool // a duplicate of an earlier message of this batch
}

// outcome is one reply waiting for its batch's fsync, with the events to
// publish before it (pub: the message was applied live).
type outcome struct {
	done      func(Reply)
	rep       Reply
	pub       bool
	journaled bool
	read      bool // a Snapshot: it saw the batch's effects
	applied   Event
}

// flush is one group commit handed to the syncer: the journal its records
// go to and the replies that wait for them.
type flush struct {
	j    *journal
	data []byte // the batch's journal records, written by the syncer
	outs []outcome
}

// process is one group commit: assign seqs, write the journal, apply, and
// hand the replies to the syncer, which fsyncs and then delivers them. So
// the fsync of one batch overlaps the apply of the next, and nothing a
// message did (reply or event) is visible before its record is on disk.
func (r *Ring) process(batch []*request) {
	r.noteSyncErr()
	// One clock read per batch: acceptance time and the idle sweep's
	// activity mark (a clock read per message was a tenth of a NONE
	// ring's CPU on this VM).
	now := time.Now().UnixNano()
	r.lastActive.Store(now)
	items := make([]item, 0, len(batch))
	outs := make([]outcome, 0, len(batch))
	// Without a journal nothing waits for an fsync: each reply goes out as
	// soon as it exists, not at the end of its batch.
	put := func(o outcome) {
		if r.syncq == nil {
			r.deliver([]outcome{o}, nil)
			return
		}
		outs = append(outs, o)
	}
	refuse := func(q *request, rep Reply) { put(outcome{done: q.done, rep: rep}) }
	for _, q := range batch {
		m := &q.msg
		if r.failed != nil {
			refuse(q, Reply{ClientID: m.ClientID, ClientSeq: m.ClientSeq, Err: r.failed})
			continue
		}
		if m.Kind == KindSnapshot {
			items = append(items, item{q: q, read: true})
			continue
		}
		if m.ClientID != "" {
			switch r.dd.check(m.ClientID, m.ClientSeq) {
			case seen:
				refuse(q, r.duplicateReply(q))
				continue
			case tooOld:
				refuse(q, Reply{ClientID: m.ClientID, ClientSeq: m.ClientSeq, Err: errorf(codes.FailedPrecondition, ReasonTooOld,
					"client_seq %d is older than the anti-replay window of %d for client %q", m.ClientSeq, windowSize, m.ClientID)})
				continue
			}
			k := dedupKey{m.ClientID, m.ClientSeq}
			if _, ok := r.pending[k]; ok {
				items = append(items, item{q: q, later: true})
				continue
			}
			r.pending[k] = struct{}{}
		}
		r.seq++
		at := now
		if m.Time != 0 {
			at = m.Time
		}
		it := item{q: q, e: entry{Kind: m.Kind, Seq: r.seq, TS: m.TS, Time: at,
			ClientID: m.ClientID, ClientSeq: m.ClientSeq, Payload: q.payload}}
		if r.j != nil {
			r.j.add(&it.e)
		}
		items = append(items, it)
	}
	clear(r.pending)
	if r.j != nil && r.syncq == nil {
		if err := r.j.write(); err != nil {
			r.rt.log.Error("ring journal write failed", "ring", r.Name, "error", err)
			r.fail("journal write failed: " + err.Error())
			for _, it := range items {
				refuse(it.q, Reply{ClientID: it.q.msg.ClientID, ClientSeq: it.q.msg.ClientSeq, Err: errorf(codes.Unavailable, ReasonJournal,
					"the ring's journal could not be written; the message was not applied")})
			}
			r.dispatch(outs)
			return
		}
	}
	applied := 0
	t := time.Now()
	for i, it := range items {
		m := &it.q.msg
		switch {
		case r.failed != nil && !it.read && !it.later:
			// Journaled but not applied: quarantine it so recovery agrees.
			r.quarantine(it.e.Seq)
			refuse(it.q, Reply{Seq: it.e.Seq, ClientID: m.ClientID, ClientSeq: m.ClientSeq, Err: r.failed})
		case it.read:
			// A Snapshot is not sequenced or deduplicated, but its reply
			// still carries the request's correlation.
			rep := r.read()
			rep.ClientID, rep.ClientSeq = m.ClientID, m.ClientSeq
			put(outcome{done: it.q.done, rep: rep, read: true})
		case it.later:
			refuse(it.q, r.duplicateReply(it.q))
		default:
			var rep Reply
			rep, t = r.applyLive(&items[i].e, m.Payload, t)
			applied++
			code := uint32(codes.OK)
			if rep.Err != nil {
				code = uint32(rep.Err.Code)
			}
			e := &items[i].e
			put(outcome{done: it.q.done, rep: rep, pub: true, journaled: true,
				applied: Event{Seq: e.Seq, TS: e.TS, Kind: "applied", ClientID: e.ClientID, ClientSeq: e.ClientSeq, Code: code}})
		}
	}
	if r.j != nil && r.syncq == nil && len(r.j.buf) > 0 { // quarantine records
		if err := r.j.write(); err != nil {
			r.rt.log.Error("ring journal write failed", "ring", r.Name, "error", err)
		}
	}
	r.dispatch(outs)
	r.sinceSnap += applied
	if r.sinceSnap >= r.cfg.SnapshotEvery && r.failed == nil {
		// barrier also notes a failed sync: then the state holds messages
		// that are not durable, and no snapshot may make them so.
		if r.barrier(); r.failed == nil {
			if err := r.checkpointAt(true); err != nil {
				r.rt.log.Error("ring snapshot failed", "ring", r.Name, "error", err)
			}
		}
	}
}

// dispatch delivers a batch's replies: through the syncer when the ring
// journals (after the fsync that makes them durable), at once otherwise.
//
// The syncer also writes the batch's records: the ring goroutine makes no
// journal syscall, and one write and one fsync cover every batch that
// came while the previous fsync ran.
func (r *Ring) dispatch(outs []outcome) {
	if r.syncq == nil {
		if len(outs) > 0 {
			r.deliver(outs, nil)
		}
		return
	}
	if len(outs) == 0 && len(r.j.buf) == 0 {
		return
	}
	data := r.j.buf
	r.j.buf = nil
	r.syncing.Add(1)
	r.syncq <- &flush{j: r.j, data: data, outs: outs}
}

// deliver publishes each applied message's events and calls its done, in
// batch order. After a failed write or fsync the journaled messages are
// answered UNAVAILABLE and their events are not published: a message is
// acknowledged only once its record is durable.
func (r *Ring) deliver(outs []outcome, syncErr error) {
	for i := range outs {
		o := &outs[i]
		switch {
		case syncErr != nil && o.journaled:
			o.rep.Err = errorf(codes.Unavailable, ReasonJournal, "the ring's journal failed (%v); the ring "+
				"FAILED and the message's effect is not durable", syncErr)
			o.rep.Events = nil
			o.pub = false
		case syncErr != nil && o.read:
			// It read effects that are not durable.
			o.rep = Reply{ClientID: o.rep.ClientID, ClientSeq: o.rep.ClientSeq, Err: errorf(codes.Unavailable, ReasonJournal,
				"the ring's journal failed (%v); the ring FAILED", syncErr)}
		}
		if o.pub {
			r.ev.publish(o.rep.Events, o.applied)
			r.publishedSeq.Store(o.applied.Seq)
		}
		o.done(o.rep)
	}
}

// syncer is the journal's fsync goroutine: it takes every flush waiting,
// writes and syncs them once (group commit across batches) and delivers
// their replies.
//
// A failed write or sync fails the ring at once, from here: its state
// becomes FAILED before any reply of the failed group goes out (so a client
// that sees the error and asks GetRing sees FAILED), every message of the
// group and of any batch still queued behind it is answered UNAVAILABLE,
// and nothing more is written to the segment — after a failed fsync the
// kernel may have dropped the dirty pages, and a later sync that succeeds
// must not acknowledge records that follow a hole. The ring goroutine
// picks the failure up (noteSyncErr) before its next batch or snapshot.
func (r *Ring) syncer(q chan *flush) {
	var fs []*flush
	for f := range q {
		fs = append(fs[:0], f)
	more:
		for {
			select {
			case f, ok := <-q:
				if !ok {
					break more
				}
				fs = append(fs, f)
			default:
				break more
			}
		}
		var err error
		if msg := r.syncErr.Load(); msg != nil {
			err = errors.New(*msg)
		} else {
			t0 := time.Now()
			// One write for every waiting batch (all go to one segment: the
			// ring goroutine rotates only when nothing is in flight).
			var data []byte
			if len(fs) == 1 {
				data = fs[0].data
			} else {
				for _, f := range fs {
					data = append(data, f.data...)
				}
			}
			j := fs[0].j
			if err = j.append(data); err != nil {
				err = fmt.Errorf("write: %w", err)
			} else if err = j.sync(); err != nil {
				err = fmt.Errorf("fsync: %w", err)
			}
			r.km.fsync.Observe(time.Since(t0).Seconds())
			if err != nil {
				j.broken = true
				msg := err.Error()
				r.syncErr.Store(&msg)
				r.markFailed("journal " + msg)
			}
		}
		for _, f := range fs {
			r.deliver(f.outs, err)
			r.syncing.Done()
		}
		if err != nil {
			r.endFailed()
		}
	}
}

// barrier waits until every dispatched batch is synced and delivered and
// a snapshot being written in the background is on disk (before a
// checkpoint rotates the journal, a control operation or a stop), then
// notes a sync failure it may have ended with.
func (r *Ring) barrier() {
	r.syncing.Wait()
	r.snapping.Wait()
	r.noteSyncErr()
}

// noteSyncErr makes a failure the syncer reported this ring goroutine's
// too (r.failed): every later message is refused, no snapshot is taken.
func (r *Ring) noteSyncErr() {
	if msg := r.syncErr.Load(); msg != nil && r.failed == nil {
		r.fail("journal " + *msg)
	}
}

// syncNow makes everything written so far durable at once (after a
// quarantine record, which must not be lost with the message it marks).
func (r *Ring) syncNow() {
	r.barrier()
	if r.j == nil || r.failed != nil {
		return
	}
	err := r.j.write()
	if err == nil {
		err = r.j.sync()
	}
	if err != nil {
		r.j.broken = true
		msg := "sync: " + err.Error()
		r.syncErr.Store(&msg)
		r.rt.log.Error("ring journal sync failed", "ring", r.Name, "error", err)
		r.fail("journal " + msg)
	}
}

func (r *Ring) duplicateReply(q *request) Reply {
	m := &q.msg
	rep := Reply{ClientID: m.ClientID, ClientSeq: m.ClientSeq, Duplicate: true}
	r.rt.metrics.duplicate(r.kernel.ID)
	if c, ok := r.dd.reply(m.ClientID, m.ClientSeq); ok {
		rep.Seq = c.Seq
		switch {
		case c.code() != codes.OK:
			rep.Err = &Error{Code: c.code(), Reason: c.Reason, Msg: c.Msg}
		case c.Out != nil:
			a := &anypb.Any{}
			if err := proto.Unmarshal(c.Out, a); err == nil {
				rep.Output, err = a.UnmarshalNew()
				if err != nil {
					rep.Output = nil
				}
			}
		}
		if rep.Err == nil && rep.Output == nil && (c.Dropped || c.Out != nil) {
			rep.Err = errorf(codes.AlreadyExists, ReasonDuplicate, "client_seq %d of client %q was already applied (seq %d); "+
				"its reply's output is no longer cached", m.ClientSeq, m.ClientID, c.Seq)
		}
	} else {
		rep.Err = errorf(codes.AlreadyExists, ReasonDuplicate,
			"client_seq %d of client %q was already applied; its reply is no longer cached", m.ClientSeq, m.ClientID)
	}
	return rep
}

// read answers a Snapshot control message with the derived result.
func (r *Ring) read() (rep Reply) {
	rep = Reply{Seq: r.applied}
	defer func() {
		if p := recover(); p != nil {
			r.rt.log.Error("ring snapshot panicked", "ring", r.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			rep.Err = errorf(codes.Internal, ReasonPanic, "the kernel's snapshot failed (a bug, logged); state is unchanged")
		}
	}()
	out, err := r.h.Snapshot(r.rt.ctx)
	if err != nil {
		rep.Err = handlerError(err)
		return rep
	}
	rep.Output = out
	return rep
}

// applyLive applies one journaled entry, turning a panic into INTERNAL for
// this message, quarantining it and rebuilding the state.
//
// t0 is when the apply started (the previous apply's end: one clock read
// per message); it returns when this one ended.
func (r *Ring) applyLive(e *entry, msg proto.Message, t0 time.Time) (Reply, time.Time) {
	r.tail = append(r.tail, tailItem{e: *e, msg: msg})
	rep, panicked := r.applyOne(e, msg, true)
	end := time.Now()
	r.rt.metrics.applied(r.km, r.kernel.ID, rep.Err, end.Sub(t0))
	if !panicked {
		return rep, end
	}
	r.quarantine(e.Seq)
	r.syncNow()
	now := time.Now()
	r.restarts = slices.DeleteFunc(r.restarts, func(t time.Time) bool { return now.Sub(t) > r.rt.opts.RestartWindow })
	// The state may be half-changed: rebuild it without the message, even
	// when the ring is about to fail, so Snapshot still reads a consistent one.
	if err := r.rebuild(); err != nil {
		r.fail("rebuild after a panic failed: " + err.Error())
	} else if len(r.restarts) >= r.rt.opts.MaxRestarts {
		r.fail(fmt.Sprintf("%d handler panics within %s", len(r.restarts)+1, r.rt.opts.RestartWindow))
	} else {
		r.restarts = append(r.restarts, now)
		r.restartsN.Add(1)
		r.rt.metrics.restart(r.kernel.ID)
	}
	rep.Err = errorf(codes.Internal, ReasonPanic, "the kernel panicked on this message (a bug, logged); "+
		"the message is quarantined and the ring's state was rebuilt without it")
	return rep, time.Now()
}

func (r *Ring) quarantine(seq uint64) {
	if r.quarantined[seq] {
		return
	}
	r.quarantined[seq] = true
	r.quarN.Add(1)
	r.rt.metrics.quarantine(r.kernel.ID)
	if r.j != nil {
		r.j.add(&entry{Kind: kindQuarantine, Seq: seq})
	}
}

// applyOne is the deterministic step shared by live apply and replay.
func (r *Ring) applyOne(e *entry, msg proto.Message, live bool) (rep Reply, panicked bool) {
	rep = Reply{Seq: e.Seq, ClientID: e.ClientID, ClientSeq: e.ClientSeq}
	r.applied = e.Seq
	r.appliedSeq.Store(e.Seq)
	var ac *applyCtx
	if r.quarantined[e.Seq] {
		rep.Err = errorf(codes.Internal, ReasonPanic, "the kernel panicked on this message (a bug, logged); "+
			"the message is quarantined and the ring's state was rebuilt without it")
	} else {
		ac = &applyCtx{Context: r.rt.ctx, e: e, seed: r.cfg.Seed}
		func() {
			defer func() {
				if p := recover(); p != nil {
					panicked = true
					r.rt.log.Error("ring handler panicked", "ring", r.Name, "kernel_id", r.kernel.ID, "seq", e.Seq,
						"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				}
			}()
			rep.Err = r.step(ac, e, msg)
		}()
		if panicked {
			return rep, true
		}
	}
	if rep.Err == nil && ac != nil && ac.output != nil {
		rep.Output = ac.output
	}
	if e.ClientID != "" {
		c := cachedReply{Seq: e.Seq}
		if rep.Err != nil {
			c.Code, c.Reason, c.Msg = uint32(rep.Err.Code), rep.Err.Reason, rep.Err.Msg
		}
		if rep.Output != nil {
			// Kept for a retry's reply; a replay recomputes the same bytes.
			if a, err := anypb.New(rep.Output); err == nil {
				if b, err := (proto.MarshalOptions{Deterministic: true}).Marshal(a); err == nil {
					c.Out = b
				}
			}
			c.Dropped = c.Out == nil
		}
		r.dd.mark(e.ClientID, e.ClientSeq, e.Seq, c)
	}
	if live && ac != nil {
		rep.Events = ac.events // published by deliver, after the fsync
	}
	return rep, false
}

func (r *Ring) step(ac *applyCtx, e *entry, msg proto.Message) *Error {
	switch e.Kind {
	case KindData:
		if r.overLimit {
			return errorf(codes.ResourceExhausted, ReasonStateLimit,
				"the ring's state exceeds the server's limit of %d bytes; send Reset or delete the ring", r.rt.opts.MaxStateBytes)
		}
		if r.hasTS && e.TS < r.lastTS {
			return errorf(codes.OutOfRange, ReasonOutOfOrder, "ts %d is before the ring's latest ts %d; data messages "+
				"must carry non-decreasing ts (state unchanged)", e.TS, r.lastTS)
		}
		if err := r.h.Apply(ac, msg); err != nil {
			return handlerError(err)
		}
		r.lastTS, r.hasTS, r.dataSeen = e.TS, true, true
	case KindConfigure:
		if r.dataSeen {
			return errorf(codes.FailedPrecondition, ReasonConfigured, "Configure is accepted only before the first data "+
				"message or after Reset")
		}
		if err := r.h.Configure(ac, msg); err != nil {
			return handlerError(err)
		}
	case KindReset:
		r.h.Reset()
		r.lastTS, r.hasTS, r.dataSeen, r.overLimit = 0, false, false, false
	}
	return nil
}

func handlerError(err error) *Error {
	var re *Error
	if errors.As(err, &re) {
		return re
	}
	if fe, ok := kerr.AsField(err); ok {
		return &Error{Code: codes.InvalidArgument, Msg: fe.Error()}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: codes.Unavailable, Msg: "the ring runtime is stopping"}
	}
	return &Error{Code: codes.FailedPrecondition, Msg: err.Error()}
}

// encode returns the ring's snapshot in its on-disk format.
func (r *Ring) encode() ([]byte, error) {
	st, err := r.h.MarshalState()
	if err != nil {
		return nil, err
	}
	q := make([]uint64, 0, len(r.quarantined))
	for s := range r.quarantined {
		q = append(q, s)
	}
	slices.Sort(q)
	return json.Marshal(snapshotFile{Version: snapshotVersion, KernelID: r.kernel.ID, Seq: r.applied,
		LastTS: r.lastTS, HasTS: r.hasTS, DataSeen: r.dataSeen, State: st, Clients: r.dd.list(), Quarantined: q})
}

// restore loads an encoded snapshot into a fresh handler.
func (r *Ring) restore(data []byte) error {
	h, _ := r.kernel.RingHandler()
	r.h, r.dd = h, newDedup()
	r.applied, r.lastTS, r.hasTS, r.dataSeen, r.overLimit = 0, 0, false, false, false
	if data == nil {
		return nil
	}
	var s snapshotFile
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("snapshot version %d, want %d", s.Version, snapshotVersion)
	}
	if s.KernelID != r.kernel.ID {
		return fmt.Errorf("snapshot is of kernel %s, this ring runs %s", s.KernelID, r.kernel.ID)
	}
	if err := r.h.UnmarshalState(s.State); err != nil {
		return fmt.Errorf("snapshot state: %w", err)
	}
	r.applied, r.lastTS, r.hasTS, r.dataSeen = s.Seq, s.LastTS, s.HasTS, s.DataSeen
	r.appliedSeq.Store(s.Seq)
	r.dd.load(s.Clients)
	for _, q := range s.Quarantined {
		if !r.quarantined[q] {
			r.quarantined[q] = true
			r.quarN.Add(1)
		}
	}
	if n := int64(len(s.State)); r.rt.opts.MaxStateBytes > 0 && n > r.rt.opts.MaxStateBytes {
		r.overLimit = true
	}
	return nil
}

// rebuild replaces the state by the last snapshot plus the messages since.
func (r *Ring) rebuild() error {
	if err := r.restore(r.base); err != nil {
		return err
	}
	for i := range r.tail {
		t := &r.tail[i]
		if _, panicked := r.applyOne(&t.e, t.msg, false); panicked {
			r.quarantine(t.e.Seq)
		}
	}
	return nil
}

// checkpoint takes a snapshot: in memory always (the base of rebuilds), on
// disk for durable rings, and starts a new journal segment after it.
func (r *Ring) checkpoint() error { return r.checkpointAt(false) }

// checkpointAt with background set writes the snapshot file on its own
// goroutine (the periodic snapshot of a running ring), so that the ring
// goroutine, and the replies waiting behind it, pay only for encoding the
// state and switching to the next (preallocated) segment. That is safe in
// either order of completion: the caller has synced every record up to
// the snapshot's seq (barrier), the new segment starts right after it, and
// the old segments are pruned only once the new snapshot is durable — a
// crash before then recovers from the previous snapshot and replays them.
// barrier waits for the writer, so snapshot writes never overlap.
func (r *Ring) checkpointAt(background bool) error {
	t0 := time.Now()
	data, err := r.encode()
	if err != nil {
		return err
	}
	r.base, r.tail, r.sinceSnap = data, r.tail[:0], 0
	if max := r.rt.opts.MaxStateBytes; max > 0 {
		var s struct {
			State []byte `json:"state"`
		}
		if json.Unmarshal(data, &s) == nil {
			r.overLimit = int64(len(s.State)) > max
		}
	}
	if r.dir == "" || r.cfg.Durability == None {
		return nil
	}
	var rotErr error
	if r.j != nil {
		j, err := r.j.rotate(r.applied + 1)
		if j != nil {
			r.j = j
		} else {
			// The broken segment is closed and no new one opened.
			r.j = &journal{dir: r.dir, broken: true, wrap: r.rt.segWrap}
		}
		rotErr = err
	}
	dir, seq, prune := r.dir, r.applied, r.j != nil
	write := func() error {
		older, err := writeSnapshot(dir, data, seq)
		if err != nil {
			return err
		}
		r.rt.metrics.snapshot(r.kernel.ID, time.Since(t0), len(data))
		if prune {
			return pruneSegments(dir, older)
		}
		return nil
	}
	if !background {
		return errors.Join(rotErr, write())
	}
	if rotErr != nil {
		r.rt.log.Error("ring journal rotation failed", "ring", r.Name, "error", rotErr)
	}
	r.snapping.Add(1)
	go func() {
		defer r.snapping.Done()
		if err := write(); err != nil {
			r.rt.log.Error("ring snapshot failed", "ring", r.Name, "error", err)
		}
	}()
	return nil
}

// fail marks the ring FAILED (on the ring goroutine); it keeps its data
// for Restore or Delete.
func (r *Ring) fail(reason string) {
	r.failed = errorf(codes.FailedPrecondition, ReasonFailed, "ring %s has FAILED (%s); restore or delete it", r.Name, reason)
	if r.markFailed(reason) {
		r.endFailed()
	}
}

// markFailed makes the ring's state FAILED for everyone (Submit, GetRing,
// metrics) from any goroutine. The first reason is kept; it reports
// whether this call was the first.
func (r *Ring) markFailed(reason string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failReason != "" {
		return false
	}
	if r.state != stopping && r.state != Deleted {
		r.state = Failed
	}
	r.failReason = reason
	r.rt.log.Error("ring failed", "ring", r.Name, "kernel_id", r.kernel.ID, "reason", reason)
	return true
}

// endFailed ends the ring's watchers and sessions with RING_FAILED.
func (r *Ring) endFailed() { r.ev.end(EndFailed) }

// do runs f on the ring goroutine and waits (control operations).
func (r *Ring) do(ctx context.Context, f func() error) error {
	for {
		r.mu.RLock()
		st, ctl, exited := r.state, r.ctl, r.exited
		r.mu.RUnlock()
		switch st {
		case Passivated:
			if err := r.activate(); err != nil {
				return err
			}
			continue
		case stopping:
			r.waitStopped()
			continue
		case Deleted:
			return errorf(codes.NotFound, ReasonNotFound, "ring %s was deleted", r.Name)
		}
		errc := make(chan error, 1)
		select {
		case ctl <- func() { errc <- f() }:
		case <-exited:
			continue
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// SnapshotNow takes a snapshot (persisted for durable rings) and returns
// it with its seq.
func (r *Ring) SnapshotNow(ctx context.Context) (data []byte, seq uint64, err error) {
	err = r.do(ctx, func() error {
		// A ring FAILED by handler panics had its state rebuilt without the
		// message that broke it, so its snapshot is consistent too. One
		// FAILED by its journal holds messages that were never
		// acknowledged: no snapshot of it (on disk or returned) may pass
		// them off as durable.
		if r.syncErr.Load() != nil {
			return r.failed
		}
		if err := r.checkpoint(); err != nil {
			return err
		}
		data, seq = r.base, r.applied
		return nil
	})
	return data, seq, err
}

// Restore replaces the ring's state with a snapshot from SnapshotNow (of
// this or another ring of the same kernel). A FAILED ring becomes ACTIVE.
func (r *Ring) Restore(ctx context.Context, data []byte) error {
	return r.do(ctx, func() error {
		prev := r.base
		applied := r.applied
		if err := r.restore(data); err != nil {
			_ = r.restore(prev)
			return errorf(codes.InvalidArgument, "", "%v", err)
		}
		// Keep seqs increasing across a restore: the journal and events go on.
		if r.applied < applied {
			r.applied = applied
			r.appliedSeq.Store(applied)
		}
		if r.seq < r.applied {
			r.seq = r.applied
		}
		r.tail = r.tail[:0]
		failed, restarts := r.failed, r.restarts
		r.failed, r.restarts = nil, nil
		r.publishedSeq.Store(r.applied)
		// After a journal failure the checkpoint starts a fresh segment
		// (the broken one is never written again) and the syncer resumes.
		if err := r.checkpoint(); err != nil {
			r.failed, r.restarts = failed, restarts
			return err
		}
		r.syncErr.Store(nil)
		r.mu.Lock()
		if r.state == Failed {
			r.state = Active
		}
		r.failReason = ""
		r.mu.Unlock()
		return nil
	})
}

// Pause stops accepting messages (FAILED_PRECONDITION) until Resume.
func (r *Ring) Pause() error { return r.setPaused(true) }

// Resume accepts messages again.
func (r *Ring) Resume() error { return r.setPaused(false) }

func (r *Ring) setPaused(p bool) error {
	if err := r.do(context.Background(), func() error { return nil }); err != nil { // activates a passivated ring
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.state == Failed:
		return errorf(codes.FailedPrecondition, ReasonFailed, "ring %s has FAILED (%s)", r.Name, r.failReason)
	case p && r.state == Active:
		r.state = Paused
	case !p && r.state == Paused:
		r.state = Active
	}
	if r.paused == p {
		return nil
	}
	r.paused = p
	// Persist it, so a restart or reactivation does not silently resume.
	if err := r.writeMeta(); err != nil {
		r.paused = !p
		if p {
			r.state = Active
		} else {
			r.state = Paused
		}
		return fmt.Errorf("recording the pause: %w", err)
	}
	return nil
}

// Watch streams the ring's new events; with replay, the retained events
// with seq > afterSeq come first (OUT_OF_RANGE when no longer retained).
func (r *Ring) Watch(afterSeq uint64, replay bool) (*Watcher, error) {
	return r.Subscribe(WatchOptions{AfterSeq: afterSeq, Replay: replay})
}

// Subscribe is Watch with options: a session follows the other clients'
// events (SkipClient) or only the ring's end (EndOnly).
func (r *Ring) Subscribe(o WatchOptions) (*Watcher, error) {
	r.mu.RLock()
	st := r.state
	r.mu.RUnlock()
	if st == Passivated {
		if err := r.activate(); err != nil {
			return nil, err
		}
	}
	if st == Deleted {
		return nil, errorf(codes.NotFound, ReasonNotFound, "ring %s was deleted", r.Name)
	}
	return r.ev.subscribe(o, r.publishedSeq.Load())
}

// start launches the ring goroutine (state ACTIVE).
func (r *Ring) start() {
	r.mailbox = make(chan *request, r.cfg.MailboxCapacity)
	r.ctl = make(chan func())
	r.quit = make(chan struct{})
	r.exited = make(chan struct{})
	r.state = Active
	if r.paused {
		r.state = Paused
	}
	r.lastActive.Store(time.Now().UnixNano())
	r.syncq = nil
	if r.j != nil {
		r.syncq = make(chan *flush, 4)
		go r.syncer(r.syncq)
	}
	go r.loop(r.mailbox, r.ctl, r.quit, r.exited)
}

// stop ends the ring goroutine after it has applied its mailbox, takes a
// final snapshot of durable rings and leaves the ring in state next. Submits
// arriving meanwhile wait for it and then see the new state.
func (r *Ring) stop(next State) {
	r.mu.Lock()
	if r.state == stopping {
		done := r.stopDone
		r.mu.Unlock()
		<-done
		r.mu.Lock()
	}
	if r.quit == nil { // not running
		if next == Deleted || r.state != Failed {
			r.state = next
		}
		r.mu.Unlock()
		return
	}
	quit, exited := r.quit, r.exited
	r.state, r.stopDone = stopping, make(chan struct{})
	r.mu.Unlock()

	close(quit)
	<-exited
	if r.failed == nil && r.cfg.Durability != None && next != Deleted {
		if err := r.checkpoint(); err != nil {
			r.rt.log.Error("ring final snapshot failed", "ring", r.Name, "error", err)
		}
	}
	_ = r.j.close()
	r.j, r.h, r.base, r.tail = nil, nil, nil, nil

	r.mu.Lock()
	r.quit, r.mailbox, r.ctl = nil, nil, nil
	switch {
	case next == Deleted:
		r.state = Deleted
	case r.failed != nil:
		r.state = Failed
	default:
		r.state = next
	}
	close(r.stopDone)
	r.mu.Unlock()
	if next == Passivated || next == Deleted {
		r.rt.releaseActive()
	}
}

// waitStopped waits for a stop in progress (call without mu).
func (r *Ring) waitStopped() {
	r.mu.RLock()
	done := r.stopDone
	r.mu.RUnlock()
	if done != nil {
		<-done
	}
}

// Load activates a passivated ring (snapshot + journal replay), so that
// its Info reports the recovered seq; it does nothing to an active ring.
func (r *Ring) Load() error {
	r.mu.RLock()
	st := r.state
	r.mu.RUnlock()
	if st != Passivated {
		return nil
	}
	return r.activate()
}

// activate loads a passivated ring from disk and starts it.
func (r *Ring) activate() error {
	if err := r.rt.reserveActive(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != Passivated {
		r.rt.releaseActive()
		return nil
	}
	if r.dir == "" { // a NONE ring is never passivated; nothing to load
		r.rt.releaseActive()
		return errorf(codes.NotFound, ReasonEvicted, "ring %s was evicted", r.Name)
	}
	t0 := time.Now()
	if err := r.recover(); err != nil {
		r.rt.releaseActive()
		r.state, r.failReason = Failed, "recovery failed: "+err.Error()
		return errorf(codes.FailedPrecondition, ReasonFailed, "ring %s could not be recovered: %v", r.Name, err)
	}
	r.rt.metrics.activation(r.kernel.ID, time.Since(t0))
	r.start()
	return nil
}

// recover rebuilds the state from the ring's directory: the newest
// snapshot, then the journal after it (quarantined seqs skipped).
func (r *Ring) recover() error {
	r.quarantined, r.pending, r.failed, r.restarts = map[uint64]bool{}, map[dedupKey]struct{}{}, nil, nil
	if err := r.restore(nil); err != nil {
		return err
	}
	if r.dir == "" {
		r.seq, r.base, r.tail = r.applied, nil, nil
		r.publishedSeq.Store(r.applied)
		return nil
	}
	snap, ok, err := loadSnapshot(r.dir)
	if err != nil {
		return err
	}
	if ok {
		data, _ := json.Marshal(snap)
		if err := r.restore(data); err != nil {
			return err
		}
		r.base = data
	}
	r.seq = r.applied
	r.tail = nil
	r.publishedSeq.Store(r.applied)
	if r.cfg.Durability != Journal {
		return nil
	}
	var entries []entry
	good, err := replay(r.dir, r.applied, func(e entry) error {
		if e.Kind == kindQuarantine {
			if !r.quarantined[e.Seq] {
				r.quarantined[e.Seq] = true
				r.quarN.Add(1)
			}
			return nil
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range entries {
		e := &entries[i]
		var msg proto.Message
		if len(e.Payload) > 0 || e.Kind == KindData || e.Kind == KindConfigure {
			msg = r.kernel.NewInput()
			if err := proto.Unmarshal(e.Payload, msg); err != nil {
				return fmt.Errorf("journal seq %d: %w", e.Seq, err)
			}
		}
		if _, panicked := r.applyOne(e, msg, false); panicked {
			return fmt.Errorf("journal seq %d panics on replay: the handler is not deterministic", e.Seq)
		}
		r.tail = append(r.tail, tailItem{e: *e, msg: msg})
		r.seq = e.Seq
	}
	r.publishedSeq.Store(r.applied)
	r.rt.metrics.replayed(r.kernel.ID, len(entries))
	segs, err := segments(r.dir)
	if err != nil {
		return err
	}
	removeSpares(r.dir)
	if len(segs) == 0 {
		r.j, err = openJournal(r.dir, r.applied+1, initialPrealloc, r.rt.segWrap)
	} else {
		// openJournal finds the last segment's intact end again and cuts
		// the torn tail (if any) there.
		last := segs[len(segs)-1]
		r.j, err = openJournal(r.dir, last, preallocFor(good[last]), r.rt.segWrap)
	}
	if err != nil {
		return err
	}
	r.j.next = prepareSpare(r.dir, preallocFor(r.j.size))
	return nil
}

// writeMeta records the ring's identity and config next to its data.
func (r *Ring) writeMeta() error {
	if r.dir == "" {
		return nil
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	m := ringMeta{Tenant: r.Tenant, ID: r.ID, KernelID: r.kernel.ID, Config: r.cfg, Created: r.created, Paused: r.paused}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(r.dir, ".ring.json.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(r.dir, "ring.json")); err != nil {
		return err
	}
	return syncDir(r.dir)
}

type ringMeta struct {
	Tenant   string    `json:"tenant"`
	ID       string    `json:"id"`
	KernelID string    `json:"kernel_id"`
	Config   Config    `json:"config"`
	Created  time.Time `json:"created"`
	Paused   bool      `json:"paused,omitempty"`
}
