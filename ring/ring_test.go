package ring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring/ringtest"
)

const sumID = ringtest.ID

func testRegistry(t testing.TB) *registry.Registry {
	reg := registry.New()
	if err := ringtest.Register(reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

func newRuntime(t testing.TB, dir string, mod func(*Options)) *Runtime {
	opts := Options{Dir: dir, IdleTimeout: -1, Logger: quiet}
	if mod != nil {
		mod(&opts)
	}
	rt, err := New(testRegistry(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	return rt
}

var quiet = slog.New(slog.DiscardHandler)

func data(b float64) *testingv1.EchoInput {
	return &testingv1.EchoInput{Pairs: []*testingv1.Pair{{A: 1, B: b}}}
}

func send(t testing.TB, r *Ring, m Message) Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := r.Send(ctx, m)
	if err != nil {
		t.Fatalf("send %+v: %v", m, err)
	}
	return rep
}

func snapshotOut(t testing.TB, r *Ring) *testingv1.EchoOutput {
	t.Helper()
	rep := send(t, r, Message{Kind: KindSnapshot})
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	return rep.Output.(*testingv1.EchoOutput)
}

func TestOrderSeqAndIdempotency(t *testing.T) {
	rt := newRuntime(t, t.TempDir(), nil)
	r, err := rt.Create(context.Background(), "default", "r1", sumID, Config{Durability: Journal},
		&testingv1.EchoInput{Scale: proto.Float64(2)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		rep := send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: uint64(i), TS: int64(i), Payload: data(float64(i))})
		if rep.Err != nil || rep.Seq != uint64(i+1) || rep.Duplicate {
			t.Fatalf("msg %d: %+v", i, rep)
		}
	}
	// A retry returns the original reply (same seq) and is not applied.
	rep := send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: 4, TS: 10, Payload: data(1000)})
	if !rep.Duplicate || rep.Seq != 5 || rep.Err != nil {
		t.Fatalf("retry: %+v", rep)
	}
	if out := snapshotOut(t, r); out.GetCount() != 10 || out.GetScale() != 2*55 {
		t.Fatalf("snapshot %v, want count 10 sum 110", out)
	}
	// Every reply carries its request's correlation, a Snapshot's too (a
	// Session client matches replies by it), and a Snapshot uses no seq.
	if rep := send(t, r, Message{Kind: KindSnapshot, ClientID: "c", ClientSeq: 11}); rep.Err != nil || rep.ClientID != "c" || rep.ClientSeq != 11 || rep.Seq != 11 {
		t.Fatalf("snapshot reply %+v, want client c/11 at seq 11", rep)
	}
	// Older than the window: refused, not applied.
	for i := 11; i <= 11+windowSize; i++ {
		send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: uint64(i), TS: 20, Payload: data(0)})
	}
	rep = send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: 3, TS: 20, Payload: data(1)})
	if rep.Err == nil || rep.Err.Code != codes.FailedPrecondition {
		t.Fatalf("seq behind the window: %+v", rep)
	}
}

func TestTSOrderAndConfigureRules(t *testing.T) {
	rt := newRuntime(t, "", nil)
	r, err := rt.Create(context.Background(), "default", "r1", sumID, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if send(t, r, Message{Kind: KindData, TS: 5, Payload: data(1)}).Err != nil {
		t.Fatal("first data message refused")
	}
	rep := send(t, r, Message{Kind: KindData, TS: 4, Payload: data(100)})
	if rep.Err == nil || rep.Err.Code != codes.OutOfRange {
		t.Fatalf("decreasing ts: %+v", rep)
	}
	rep = send(t, r, Message{Kind: KindConfigure, Payload: &testingv1.EchoInput{Scale: proto.Float64(3)}})
	if rep.Err == nil || rep.Err.Code != codes.FailedPrecondition {
		t.Fatalf("configure after data: %+v", rep)
	}
	if out := snapshotOut(t, r); out.GetScale() != 1 || out.GetCount() != 1 {
		t.Fatalf("state changed by refused messages: %v", out)
	}
	if rep := send(t, r, Message{Kind: KindReset}); rep.Err != nil {
		t.Fatal(rep.Err)
	}
	if rep := send(t, r, Message{Kind: KindConfigure, Payload: &testingv1.EchoInput{Scale: proto.Float64(3)}}); rep.Err != nil {
		t.Fatal(rep.Err)
	}
	send(t, r, Message{Kind: KindData, TS: 1, Payload: data(2)})
	if out := snapshotOut(t, r); out.GetScale() != 6 || out.GetCount() != 1 {
		t.Fatalf("after reset+configure: %v", out)
	}
	// A handler error is replied and leaves the state as it was.
	rep = send(t, r, Message{Kind: KindData, TS: 2, Payload: &testingv1.EchoInput{Mode: "exact"}})
	if rep.Err == nil || rep.Err.Code != codes.FailedPrecondition {
		t.Fatalf("handler error: %+v", rep)
	}
	// protovalidate runs before acceptance.
	err = r.Submit(Message{Kind: KindData, TS: 3, Payload: &testingv1.EchoInput{Count: -1}}, func(Reply) {})
	if CodeOf(err) != codes.InvalidArgument {
		t.Fatalf("invalid payload: %v", err)
	}
}

// TestCrashRecovery stops a JOURNAL ring without a final snapshot (as a
// kill would), reopens the directory and checks every acknowledged message
// is in the state and retries are recognised.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	rt := newRuntime(t, dir, func(o *Options) { o.SnapshotEvery = 7 })
	r, err := rt.Create(context.Background(), "acme", "book", sumID, Config{Durability: Journal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 30; i++ {
		send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: uint64(i), TS: int64(i), Payload: data(float64(i))})
	}
	live, _ := r.stateBytes(t)
	crash(r)
	// A torn record at the end of the journal (after its last intact
	// record, inside the preallocated zeros), as a crash mid-write leaves.
	segs, _ := segments(r.dir)
	path := filepath.Join(r.dir, segmentName(segs[len(segs)-1]))
	end, err := readSegment(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(path, os.O_WRONLY, 0)
	f.WriteAt([]byte{50, 0, 0, 0, 1, 2, 3}, end)
	f.Close()

	rt2, err := New(testRegistry(t), Options{Dir: dir, IdleTimeout: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer rt2.Shutdown(context.Background())
	r2, err := rt2.Get("acme", "book")
	if err != nil {
		t.Fatal(err)
	}
	if st := r2.Info().State; st != Passivated {
		t.Fatalf("state after restart %v", st)
	}
	if out := snapshotOut(t, r2); out.GetCount() != 30 || out.GetScale() != 465 {
		t.Fatalf("recovered %v, want 30 messages summing to 465", out)
	}
	if got, _ := r2.stateBytes(t); !bytes.Equal(got, live) {
		t.Fatalf("recovered state differs:\n%s\n%s", got, live)
	}
	rep := send(t, r2, Message{Kind: KindData, ClientID: "c", ClientSeq: 30, TS: 31, Payload: data(99)})
	if !rep.Duplicate || rep.Seq != 30 {
		t.Fatalf("retry after restart: %+v", rep)
	}
	rep = send(t, r2, Message{Kind: KindData, ClientID: "c", ClientSeq: 31, TS: 31, Payload: data(1)})
	if rep.Err != nil || rep.Seq != 31 {
		t.Fatalf("next message after restart: %+v", rep)
	}
	if snaps, _ := snapshots(r.dir); len(snaps) > 2 {
		t.Fatalf("%d snapshots kept, want at most 2", len(snaps))
	}
}

// crash stops the goroutine and closes the journal without a snapshot.
func crash(r *Ring) {
	r.mu.Lock()
	quit, exited := r.quit, r.exited
	r.mu.Unlock()
	close(quit)
	<-exited // not under mu: a ring goroutine finishing may take it
	r.mu.Lock()
	_ = r.j.close()
	r.state = Deleted
	r.mu.Unlock()
	r.rt.mu.Lock()
	delete(r.rt.rings, r.Name)
	r.rt.mu.Unlock()
}

// stateBytes reads the encoded snapshot on the ring goroutine.
func (r *Ring) stateBytes(t testing.TB) ([]byte, uint64) {
	t.Helper()
	var b []byte
	var seq uint64
	if err := r.do(context.Background(), func() error {
		var err error
		b, err = r.encode()
		seq = r.applied
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return b, seq
}

func TestDeterministicReplay(t *testing.T) {
	dir := t.TempDir()
	rt := newRuntime(t, dir, nil)
	r, err := rt.Create(context.Background(), "default", "d", sumID, Config{Durability: Journal, Seed: 42}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		send(t, r, Message{Kind: KindData, ClientID: fmt.Sprint("c", i%3), ClientSeq: uint64(i), TS: int64(i), Payload: data(math.Sqrt(float64(i)))})
	}
	live, _ := r.stateBytes(t)
	crash(r)
	rt2, err := New(testRegistry(t), Options{Dir: dir, IdleTimeout: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer rt2.Shutdown(context.Background())
	r2, _ := rt2.Get("default", "d")
	got, _ := r2.stateBytes(t)
	if !bytes.Equal(got, live) {
		t.Fatalf("replayed state differs:\nlive   %s\nreplay %s", live, got)
	}
}

func TestPanicQuarantineAndFailure(t *testing.T) {
	dir := t.TempDir()
	rt := newRuntime(t, dir, nil)
	r, err := rt.Create(context.Background(), "default", "p", sumID, Config{Durability: Journal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	send(t, r, Message{Kind: KindData, TS: 1, Payload: data(5)})
	rep := send(t, r, Message{Kind: KindData, ClientID: "x", ClientSeq: 1, TS: 2, Payload: &testingv1.EchoInput{Panic: true, Pairs: []*testingv1.Pair{{B: 100}}}})
	if rep.Err == nil || rep.Err.Code != codes.Internal || rep.Err.Reason != ReasonPanic {
		t.Fatalf("panic reply: %+v", rep)
	}
	send(t, r, Message{Kind: KindData, TS: 3, Payload: data(7)})
	if out := snapshotOut(t, r); out.GetScale() != 12 || out.GetCount() != 2 {
		t.Fatalf("after quarantine: %v", out)
	}
	// The retry of the panicked message is answered, not re-run.
	rep = send(t, r, Message{Kind: KindData, ClientID: "x", ClientSeq: 1, TS: 4, Payload: &testingv1.EchoInput{Panic: true}})
	if !rep.Duplicate || rep.Err.Code != codes.Internal {
		t.Fatalf("retry of a quarantined message: %+v", rep)
	}
	// Recovery skips the quarantined message too.
	live, _ := r.stateBytes(t)
	crash(r)
	rt2, _ := New(testRegistry(t), Options{Dir: dir, IdleTimeout: -1, Logger: quiet})
	defer rt2.Shutdown(context.Background())
	r2, _ := rt2.Get("default", "p")
	if got, _ := r2.stateBytes(t); !bytes.Equal(got, live) {
		t.Fatalf("recovered state differs:\n%s\n%s", got, live)
	}
	// Three restarts are allowed within the window; the fourth panic fails the ring.
	for i := 0; i < 3; i++ {
		send(t, r2, Message{Kind: KindData, TS: 10, Payload: &testingv1.EchoInput{Panic: true}})
	}
	if st := r2.Info().State; st != Active {
		t.Fatalf("state after 1+3 panics (1 before restart): %v", st)
	}
	send(t, r2, Message{Kind: KindData, TS: 10, Payload: &testingv1.EchoInput{Panic: true}})
	if in := r2.Info(); in.State != Failed || in.Restarts != 3 {
		t.Fatalf("after too many panics: %+v", in)
	}
	err = r2.Submit(Message{Kind: KindData, TS: 11, Payload: data(1)}, func(Reply) {})
	if CodeOf(err) != codes.FailedPrecondition {
		t.Fatalf("send to a FAILED ring: %v", err)
	}
	// Restore from a snapshot brings it back.
	snap, _, err := r2.SnapshotNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Restore(context.Background(), snap); err != nil {
		t.Fatal(err)
	}
	if st := r2.Info().State; st != Active {
		t.Fatalf("after restore: %v", st)
	}
	if out := snapshotOut(t, r2); out.GetScale() != 12 {
		t.Fatalf("restored state %v", out)
	}
}

func TestMailboxFullFailsFast(t *testing.T) {
	rt := newRuntime(t, "", func(o *Options) { o.MailboxCapacity = 8 })
	r, err := rt.Create(context.Background(), "default", "m", sumID, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	// Block the ring goroutine so the mailbox fills.
	// (Wait until it is blocked: a fixed sleep was not enough on a loaded
	// machine, and the ring then applied some of the messages below.)
	release, blocked := make(chan struct{}), make(chan struct{})
	go r.do(context.Background(), func() error { close(blocked); <-release; return nil })
	<-blocked
	var wg sync.WaitGroup
	accepted, full := 0, 0
	for i := 0; i < 100; i++ {
		start := time.Now()
		wg.Add(1)
		err := r.Submit(Message{Kind: KindData, TS: 1, Payload: data(1)}, func(Reply) { wg.Done() })
		if time.Since(start) > time.Second {
			t.Fatal("Submit blocked")
		}
		switch {
		case err == nil:
			accepted++
		case CodeOf(err) == codes.ResourceExhausted:
			full++
			wg.Done()
		default:
			t.Fatal(err)
		}
	}
	close(release)
	wg.Wait()
	if accepted != 8 || full != 92 {
		t.Fatalf("accepted %d, refused %d; want 8 and 92", accepted, full)
	}
	if out := snapshotOut(t, r); out.GetCount() != 8 {
		t.Fatalf("applied %d, want every accepted message", out.GetCount())
	}
	time.Sleep(20 * time.Millisecond)
	if n := runtime.NumGoroutine(); n > base+1 {
		t.Fatalf("goroutines %d, baseline %d", n, base)
	}
}

func TestWatchEventsBeforeReply(t *testing.T) {
	rt := newRuntime(t, "", nil)
	r, _ := rt.Create(context.Background(), "default", "w", sumID, Config{}, nil)
	w, err := r.Watch(0, false)
	if err != nil {
		t.Fatal(err)
	}
	rep := send(t, r, Message{Kind: KindData, TS: 1, Payload: &testingv1.EchoInput{Flag: true, Pairs: []*testingv1.Pair{{B: 1}}}})
	if len(rep.Events) != 1 || rep.Events[0].Kind != "flag" {
		t.Fatalf("reply events %+v", rep.Events)
	}
	e1, e2 := <-w.C, <-w.C
	if e1.Kind != "flag" || e2.Kind != "applied" || e1.Seq != rep.Seq || e2.Seq != rep.Seq {
		t.Fatalf("watch got %+v then %+v", e1, e2)
	}
	// Resuming after a seq replays the retained events after it.
	send(t, r, Message{Kind: KindData, TS: 2, Payload: data(1)})
	w2, err := r.Watch(rep.Seq, true)
	if err != nil {
		t.Fatal(err)
	}
	if e := <-w2.C; e.Kind != "applied" || e.Seq != rep.Seq+1 {
		t.Fatalf("resume got %+v", e)
	}
	if err := rt.Delete("default", "w"); err != nil {
		t.Fatal(err)
	}
	for range w.C {
	}
	if w.Reason() != EndDeleted {
		t.Fatalf("watch ended with %v", w.Reason())
	}
}

func TestPassivationAndDrain(t *testing.T) {
	dir := t.TempDir()
	rt := newRuntime(t, dir, func(o *Options) { o.IdleTimeout = 50 * time.Millisecond })
	dur, _ := rt.Create(context.Background(), "default", "durable", sumID, Config{Durability: Snapshot}, nil)
	mem, _ := rt.Create(context.Background(), "default", "mem", sumID, Config{Durability: None}, nil)
	send(t, dur, Message{Kind: KindData, TS: 1, Payload: data(3)})
	send(t, mem, Message{Kind: KindData, TS: 1, Payload: data(3)})
	deadline := time.Now().Add(5 * time.Second)
	for dur.Info().State != Passivated && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if dur.Info().State != Passivated {
		t.Fatal("durable ring not passivated")
	}
	if _, err := rt.Get("default", "mem"); CodeOf(err) != codes.NotFound || !errors.Is(err, err) || err.(*Error).Reason != ReasonEvicted {
		t.Fatalf("evicted NONE ring: %v", err)
	}
	if out := snapshotOut(t, dur); out.GetScale() != 3 {
		t.Fatalf("reactivated %v", out)
	}
	send(t, dur, Message{Kind: KindData, TS: 2, Payload: data(4)})
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := dur.Submit(Message{Kind: KindData, TS: 3, Payload: data(1)}, func(Reply) {}); CodeOf(err) != codes.Unavailable {
		t.Fatalf("send while draining: %v", err)
	}
	rt2 := newRuntime(t, dir, nil)
	r2, err := rt2.Get("default", "durable")
	if err != nil {
		t.Fatal(err)
	}
	if out := snapshotOut(t, r2); out.GetScale() != 7 {
		t.Fatalf("after drain and restart %v (SNAPSHOT durability keeps what the drain snapshot saw)", out)
	}
}

func TestLimits(t *testing.T) {
	rt := newRuntime(t, "", func(o *Options) { o.MaxRingsPerTenant = 2; o.MaxRings = 3 })
	for _, id := range []string{"a", "b"} {
		if _, err := rt.Create(context.Background(), "t1", id, sumID, Config{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rt.Create(context.Background(), "t1", "c", sumID, Config{}, nil); CodeOf(err) != codes.ResourceExhausted {
		t.Fatalf("per-tenant limit: %v", err)
	}
	rt.Create(context.Background(), "t2", "a", sumID, Config{}, nil)
	if _, err := rt.Create(context.Background(), "t3", "a", sumID, Config{}, nil); CodeOf(err) != codes.ResourceExhausted {
		t.Fatalf("total limit: %v", err)
	}
	if _, err := rt.Create(context.Background(), "t3", "Bad_ID", sumID, Config{}, nil); CodeOf(err) != codes.InvalidArgument {
		t.Fatalf("bad id: %v", err)
	}
	if got := len(rt.List("t1")); got != 2 {
		t.Fatalf("t1 sees %d rings", got)
	}
}

// TestPauseSurvivesPassivationAndRestart: a paused ring stays paused when it
// is passivated and reactivated, and after a restart of the runtime; Resume
// is recorded too.
func TestPauseSurvivesPassivationAndRestart(t *testing.T) {
	dir := t.TempDir()
	rt := newRuntime(t, dir, func(o *Options) { o.IdleTimeout = 50 * time.Millisecond })
	r, err := rt.Create(context.Background(), "default", "held", sumID, Config{Durability: Journal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	send(t, r, Message{Kind: KindData, TS: 1, Payload: data(3)})
	if err := r.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := func(r *Ring, when string) {
		t.Helper()
		err := r.Submit(Message{Kind: KindData, TS: 2, Payload: data(1)}, func(Reply) {})
		if CodeOf(err) != codes.FailedPrecondition || err.(*Error).Reason != ReasonPaused {
			t.Fatalf("%s: send to a paused ring: %v, want %s", when, err, ReasonPaused)
		}
	}
	paused(r, "paused")
	deadline := time.Now().Add(5 * time.Second)
	for r.Info().State != Passivated && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if r.Info().State != Passivated {
		t.Fatal("paused ring not passivated while idle")
	}
	paused(r, "after passivation")
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	rt2 := newRuntime(t, dir, nil)
	r2, err := rt2.Get("default", "held")
	if err != nil {
		t.Fatal(err)
	}
	paused(r2, "after restart")
	if err := r2.Resume(); err != nil {
		t.Fatal(err)
	}
	if rep := send(t, r2, Message{Kind: KindData, TS: 2, Payload: data(4)}); rep.Err != nil {
		t.Fatalf("after resume: %+v", rep)
	}
	if err := rt2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	rt3 := newRuntime(t, dir, nil)
	r3, err := rt3.Get("default", "held")
	if err != nil {
		t.Fatal(err)
	}
	if out := snapshotOut(t, r3); out.GetScale() != 7 {
		t.Fatalf("resumed ring after restart: %v, want sum 7 (resume recorded, nothing lost)", out)
	}
}
