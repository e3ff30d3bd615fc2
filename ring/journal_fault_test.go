package ring

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
)

// faultySegment passes writes and syncs through to the real segment until
// a fault is armed: then the next write fails before writing anything
// (failWrite), or the next sync fails after the write went through to the
// page cache (failSync) — the record is in the file, just not known to be
// durable. hold makes that sync wait until released, so batches queue up
// behind it.
type faultySegment struct {
	segFile
	fs *faults
}

type faults struct {
	mu        sync.Mutex
	failWrite bool
	failSync  bool
	hold      chan struct{}
	entered   chan struct{}
}

func (f faultySegment) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	fail := f.fs.failWrite
	f.fs.failWrite = false
	f.fs.mu.Unlock()
	if fail {
		return 0, syscall.ENOSPC
	}
	return f.segFile.WriteAt(p, off)
}

func (f faultySegment) Sync() error {
	f.fs.mu.Lock()
	fail, hold, entered := f.fs.failSync, f.fs.hold, f.fs.entered
	f.fs.failSync, f.fs.hold, f.fs.entered = false, nil, nil
	f.fs.mu.Unlock()
	if !fail {
		return f.segFile.Sync()
	}
	if entered != nil {
		close(entered)
	}
	if hold != nil {
		<-hold
	}
	return syscall.EIO
}

func faultyRuntime(t *testing.T, dir string, reg prometheus.Registerer) (*Runtime, *faults) {
	fs := &faults{}
	rt := newRuntime(t, dir, func(o *Options) { o.Metrics = reg })
	rt.segWrap = func(s segFile) segFile { return faultySegment{s, fs} }
	return rt, fs
}

// sendAll sends client_seq from..to of client c, each waiting for its reply.
func sendAll(t *testing.T, r *Ring, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if rep := send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: uint64(i), TS: int64(i), Payload: data(1)}); rep.Err != nil {
			t.Fatalf("client_seq %d: %v", i, rep.Err)
		}
	}
}

func failedGauge(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gokernels_rings" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" && l.GetValue() == "FAILED" {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// restart reopens the ring's directory in a fresh runtime (no faults), as
// a process restart after the failure would.
func restart(t *testing.T, r *Ring) *Ring {
	t.Helper()
	crash(r)
	rt2 := newRuntime(t, r.rt.opts.Dir, nil)
	r2, err := rt2.Get(r.Tenant, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r2
}

// TestJournalSyncFailureFailsRingAtOnce: the fsync of a message's batch
// fails. Its reply is UNAVAILABLE naming the journal, and the ring is
// FAILED when that reply arrives — in Info, in the metrics, for watchers
// and for the next Submit — without another message having to come.
// After a restart every acknowledged message is there. The failed one's
// record had reached the file (only the fsync failed), so it is there too:
// not acknowledged does not mean not applied, and the client's retry with
// the same client_seq collects its reply instead of applying it twice.
func TestJournalSyncFailureFailsRingAtOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	rt, fs := faultyRuntime(t, t.TempDir(), reg)
	r, err := rt.Create(context.Background(), "acme", "wal", sumID, Config{Durability: Journal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sendAll(t, r, 1, 5)
	w, err := r.Watch(0, false)
	if err != nil {
		t.Fatal(err)
	}
	fs.mu.Lock()
	fs.failSync = true
	fs.mu.Unlock()

	rep := send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: 6, TS: 6, Payload: data(1)})
	if rep.Err == nil || rep.Err.Code != codes.Unavailable || rep.Err.Reason != ReasonJournal || !strings.Contains(rep.Err.Msg, "fsync") {
		t.Fatalf("reply of the message whose fsync failed: %+v", rep.Err)
	}
	// No other message: the ring is FAILED already.
	if in := r.Info(); in.State != Failed || !strings.Contains(in.FailReason, "fsync") {
		t.Fatalf("right after the failed fsync: state %v, reason %q", in.State, in.FailReason)
	}
	if n := failedGauge(t, reg); n != 1 {
		t.Fatalf("gokernels_rings{state=FAILED} = %v, want 1", n)
	}
	select {
	case <-w.Done():
		if w.Reason() != EndFailed {
			t.Fatalf("watch ended with %v, want %v", w.Reason(), EndFailed)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watch did not end when the ring failed")
	}
	err = r.Submit(Message{Kind: KindData, ClientID: "c", ClientSeq: 7, TS: 7, Payload: data(1)}, func(Reply) {})
	var re *Error
	if !errors.As(err, &re) || re.Code != codes.FailedPrecondition || re.Reason != ReasonFailed {
		t.Fatalf("submit to the failed ring: %v", err)
	}
	if _, _, err := r.SnapshotNow(context.Background()); err == nil {
		t.Fatal("SnapshotNow of a ring failed by its journal succeeded: it would make unacknowledged messages durable")
	}

	r2 := restart(t, r)
	if out := snapshotOut(t, r2); out.GetCount() != 6 {
		t.Fatalf("recovered %d messages, want the 5 acknowledged + the one whose record reached the file", out.GetCount())
	}
	rep = send(t, r2, Message{Kind: KindData, ClientID: "c", ClientSeq: 6, TS: 6, Payload: data(1)})
	if !rep.Duplicate || rep.Seq != 6 || rep.Err != nil {
		t.Fatalf("retry of the unacknowledged message: %+v", rep)
	}
	sendAll(t, r2, 7, 7)
	if out := snapshotOut(t, r2); out.GetCount() != 7 {
		t.Fatalf("after the retry and one more: %d messages, want 7 (nothing applied twice)", out.GetCount())
	}
}

// TestJournalWriteFailure: the write itself fails (nothing reaches the
// file). The message is refused, the ring FAILED at once, and after a
// restart the message is not there: its retry is applied, once.
func TestJournalWriteFailure(t *testing.T) {
	rt, fs := faultyRuntime(t, t.TempDir(), nil)
	r, err := rt.Create(context.Background(), "acme", "wal", sumID, Config{Durability: Journal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sendAll(t, r, 1, 3)
	fs.mu.Lock()
	fs.failWrite = true
	fs.mu.Unlock()
	rep := send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: 4, TS: 4, Payload: data(1)})
	if rep.Err == nil || rep.Err.Code != codes.Unavailable || !strings.Contains(rep.Err.Msg, "write") {
		t.Fatalf("reply of the message whose write failed: %+v", rep.Err)
	}
	if st := r.Info().State; st != Failed {
		t.Fatalf("state right after the failed write: %v", st)
	}
	r2 := restart(t, r)
	if out := snapshotOut(t, r2); out.GetCount() != 3 {
		t.Fatalf("recovered %d messages, want the 3 acknowledged", out.GetCount())
	}
	rep = send(t, r2, Message{Kind: KindData, ClientID: "c", ClientSeq: 4, TS: 4, Payload: data(1)})
	if rep.Duplicate || rep.Err != nil || rep.Seq != 4 {
		t.Fatalf("retry of the message that never reached the journal: %+v", rep)
	}
	if out := snapshotOut(t, r2); out.GetCount() != 4 {
		t.Fatalf("after the retry: %d messages, want 4", out.GetCount())
	}
}

// TestJournalSyncFailureFailsQueuedBatches: while the failing fsync runs,
// more batches are applied and queue behind it. None of them may be
// acknowledged — in particular not by a later fsync that succeeds, which
// would acknowledge records that follow a hole. After a restart and a
// retry of every unacknowledged message with its client_seq, each message
// is applied exactly once.
func TestJournalSyncFailureFailsQueuedBatches(t *testing.T) {
	rt, fs := faultyRuntime(t, t.TempDir(), nil)
	rt.opts.GroupCommitMax = 4 // several batches
	r, err := rt.Create(context.Background(), "acme", "wal", sumID, Config{Durability: Journal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sendAll(t, r, 1, 5)
	hold, entered := make(chan struct{}), make(chan struct{})
	fs.mu.Lock()
	fs.failSync, fs.hold, fs.entered = true, hold, entered
	fs.mu.Unlock()

	const n = 40
	replies := make(chan Reply, n)
	refused := 0
	submit := func(i int) {
		err := r.Submit(Message{Kind: KindData, ClientID: "c", ClientSeq: uint64(i), TS: int64(i), Payload: data(1)},
			func(rep Reply) { replies <- rep })
		if err != nil {
			refused++
		}
	}
	submit(6)
	<-entered // the first batch is in its (failing) fsync
	for i := 7; i < 6+n; i++ {
		submit(i)
	}
	if refused != 0 {
		t.Fatalf("%d submits refused before the fsync failed", refused)
	}
	close(hold)
	journalErrs := 0
	for range n {
		select {
		case rep := <-replies:
			if rep.Err == nil {
				t.Fatalf("client_seq %d acknowledged after the journal failed", rep.ClientSeq)
			}
			if rep.Err.Reason == ReasonJournal {
				journalErrs++
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a reply is missing")
		}
	}
	if journalErrs == 0 {
		t.Fatal("no reply named the journal failure")
	}
	if st := r.Info().State; st != Failed {
		t.Fatalf("state %v, want FAILED", st)
	}

	r2 := restart(t, r)
	got := int(snapshotOut(t, r2).GetCount())
	if got < 5 || got > 5+n {
		t.Fatalf("recovered %d messages, want the 5 acknowledged and at most the %d unacknowledged", got, n)
	}
	dups := 0
	for i := 6; i < 6+n; i++ {
		rep := send(t, r2, Message{Kind: KindData, ClientID: "c", ClientSeq: uint64(i), TS: int64(i), Payload: data(1)})
		if rep.Err != nil {
			t.Fatalf("retry %d: %v", i, rep.Err)
		}
		if rep.Duplicate {
			dups++
		}
	}
	if dups != got-5 {
		t.Fatalf("%d retries answered as duplicates, want the %d recovered ones", dups, got-5)
	}
	if out := snapshotOut(t, r2); int(out.GetCount()) != 5+n {
		t.Fatalf("after retrying everything: %d messages, want %d (each exactly once)", out.GetCount(), 5+n)
	}
}

// TestRestoreAfterJournalFailure: Restore brings a ring failed by its
// journal back on a fresh segment, and what it acknowledges then survives
// a restart.
func TestRestoreAfterJournalFailure(t *testing.T) {
	rt, fs := faultyRuntime(t, t.TempDir(), nil)
	r, err := rt.Create(context.Background(), "acme", "wal", sumID, Config{Durability: Journal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sendAll(t, r, 1, 3)
	snap, _, err := r.SnapshotNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fs.mu.Lock()
	fs.failSync = true
	fs.mu.Unlock()
	if rep := send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: 4, TS: 4, Payload: data(1)}); rep.Err == nil {
		t.Fatal("acknowledged despite the failed fsync")
	}
	if err := r.Restore(context.Background(), snap); err != nil {
		t.Fatal(err)
	}
	if st := r.Info().State; st != Active {
		t.Fatalf("state after Restore: %v", st)
	}
	sendAll(t, r, 10, 12)
	r2 := restart(t, r)
	if out := snapshotOut(t, r2); out.GetCount() != 6 {
		t.Fatalf("recovered %d messages, want 3 restored + 3 acknowledged after", out.GetCount())
	}
}
