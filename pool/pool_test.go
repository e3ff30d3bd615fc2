package pool_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/pool"
)

func testPool(t *testing.T, cfg pool.Config) *pool.Pool {
	reg := registry.New()
	if err := testkernels.Register(reg); err != nil {
		t.Fatal(err)
	}
	p, err := pool.New(reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

func TestExecuteTypedAndJSON(t *testing.T) {
	p := testPool(t, pool.Config{Workers: 2})
	out, err := pool.Run[*testingv1.EchoInput, *testingv1.EchoOutput](context.Background(), p, testkernels.Echo, &testingv1.EchoInput{Count: 7})
	if err != nil || out.GetCount() != 7 {
		t.Fatalf("typed: %v %v", out, err)
	}
	js, err := p.ExecuteJSON(context.Background(), testkernels.Echo, []byte(`{"count": 3, "pairs": [[1, 2.5]]}`))
	if err != nil || string(js) == "" || !strings.Contains(string(js), `"count":3`) || !strings.Contains(string(js), `"pairs":[[1,2.5]]`) {
		t.Fatalf("json: %s %v", js, err)
	}
	if _, err := p.ExecuteJSON(context.Background(), testkernels.Echo, []byte(`{"count": 5000}`)); err == nil {
		t.Fatal("invalid input accepted")
	}
	if _, err := p.Execute(context.Background(), "nope/nope", &testingv1.EchoInput{}); !errors.Is(err, pool.ErrKernelNotFound) {
		t.Fatalf("unknown kernel: %v", err)
	}
	if _, err := p.Execute(context.Background(), testkernels.Ring, &testingv1.EchoInput{}); !errors.Is(err, pool.ErrNotBatch) {
		t.Fatalf("ring-only kernel: %v", err)
	}
	if s := p.Stats(); s.Succeeded != 2 || s.Failed != 1 || s.Workers != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFullMailboxFailsAtOnce(t *testing.T) {
	p := testPool(t, pool.Config{Workers: 1, MailboxCapacity: 2})
	var wg sync.WaitGroup
	slow := &testingv1.EchoInput{SleepMs: 300}
	for range 3 { // one running, two waiting
		wg.Add(1)
		go func() { defer wg.Done(); p.Execute(context.Background(), testkernels.Echo, slow) }()
	}
	deadline := time.Now().Add(2 * time.Second)
	for p.Stats().Waiting < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	_, err := p.Execute(context.Background(), testkernels.Echo, slow)
	if !errors.Is(err, pool.ErrMailboxFull) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("full mailbox: %v after %s", err, time.Since(start))
	}
	wg.Wait()
	if s := p.Stats(); s.Rejected != 1 || s.Succeeded != 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPanicsFailOnlyTheirCallAndQuarantine(t *testing.T) {
	p := testPool(t, pool.Config{Workers: 1, QuarantineAfter: 3, QuarantineFor: time.Hour})
	for i := 0; i < 2; i++ {
		_, err := p.Execute(context.Background(), testkernels.Echo, &testingv1.EchoInput{Panic: true})
		var pe *pool.PanicError
		if !errors.As(err, &pe) || pe.KernelID != testkernels.Echo || len(pe.Stack) == 0 {
			t.Fatalf("panic %d: %v", i, err)
		}
		// The one worker survived.
		if out, err := p.Execute(context.Background(), testkernels.Echo, &testingv1.EchoInput{Count: 1}); err != nil || out == nil {
			t.Fatalf("after a panic: %v", err)
		}
	}
	p.Execute(context.Background(), testkernels.Echo, &testingv1.EchoInput{Panic: true})
	if _, err := p.Execute(context.Background(), testkernels.Echo, &testingv1.EchoInput{Count: 1}); !errors.Is(err, pool.ErrKernelQuarantined) {
		t.Fatalf("after 3 panics: %v", err)
	}
	if s := p.Stats(); s.Panics != 3 {
		t.Fatalf("stats %+v", s)
	}
}

// fakeClock is a settable clock for the quarantine.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestQuarantineWindowAndExpiry: panics count only within the window; the
// quarantine names the kernel, the panic count, the window and the time
// left, refuses only that kernel, and ends after QuarantineFor.
func TestQuarantineWindowAndExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	p := testPool(t, pool.Config{Workers: 1, QuarantineAfter: 2, QuarantineWindow: 10 * time.Second,
		QuarantineFor: 30 * time.Second, Now: clock.Now})
	ctx := context.Background()
	boom := &testingv1.EchoInput{Panic: true}
	var pe *pool.PanicError
	if _, err := p.Execute(ctx, testkernels.Echo, boom); !errors.As(err, &pe) {
		t.Fatalf("panic 1: %v", err)
	}
	clock.Advance(11 * time.Second) // the first panic leaves the window
	if _, err := p.Execute(ctx, testkernels.Echo, boom); !errors.As(err, &pe) {
		t.Fatalf("panic 2: %v", err)
	}
	if _, err := p.Execute(ctx, testkernels.Echo, &testingv1.EchoInput{Count: 1}); err != nil {
		t.Fatalf("two panics 11 s apart (window 10 s) quarantined the kernel: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := p.Execute(ctx, testkernels.Echo, boom); !errors.As(err, &pe) {
		t.Fatalf("panic 3: %v", err)
	}
	clock.Advance(5 * time.Second)
	_, err := p.Execute(ctx, testkernels.Echo, &testingv1.EchoInput{Count: 1})
	var qe *pool.QuarantineError
	if !errors.Is(err, pool.ErrKernelQuarantined) || !errors.As(err, &qe) {
		t.Fatalf("two panics within 10 s: %v, want a quarantine", err)
	}
	if qe.KernelID != testkernels.Echo || qe.Panics != 2 || qe.Window != 10*time.Second || qe.Left != 25*time.Second {
		t.Errorf("quarantine %+v, want echo, 2 panics, 10s window, 25s left", qe)
	}
	if msg := err.Error(); !strings.Contains(msg, testkernels.Echo) || !strings.Contains(msg, "25s") {
		t.Errorf("message %q does not name the kernel and the time left", msg)
	}
	if s := p.Stats(); s.Rejected != 1 || s.Panics != 3 {
		t.Errorf("stats %+v, want 1 rejected and 3 panics", s)
	}
	clock.Advance(25*time.Second - time.Millisecond)
	if _, err := p.Execute(ctx, testkernels.Echo, &testingv1.EchoInput{Count: 1}); !errors.Is(err, pool.ErrKernelQuarantined) {
		t.Fatalf("1 ms before the end of the quarantine: %v", err)
	}
	clock.Advance(time.Millisecond)
	if out, err := p.Execute(ctx, testkernels.Echo, &testingv1.EchoInput{Count: 4}); err != nil || out.(*testingv1.EchoOutput).GetCount() != 4 {
		t.Fatalf("after the quarantine: %v %v", out, err)
	}
}

func TestTimeoutAndClose(t *testing.T) {
	base := runtime.NumGoroutine()
	p := testPool(t, pool.Config{Workers: 2, DefaultTimeout: 50 * time.Millisecond})
	_, err := p.Execute(context.Background(), testkernels.Echo, &testingv1.EchoInput{SleepMs: 2000})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("default timeout: %v", err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Execute(context.Background(), testkernels.Echo, &testingv1.EchoInput{}); !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	if n := runtime.NumGoroutine(); n > base+1 {
		t.Fatalf("goroutines %d after Close, %d before New", n, base)
	}
}

// TestAdmitRunDone: the admission the server uses, step by step: a slot per
// call, the mailbox bound (none with a negative capacity), a panic in Run
// fails only its call, and no quarantine with QuarantineAfter < 0.
func TestAdmitRunDone(t *testing.T) {
	p := testPool(t, pool.Config{Workers: 1, MailboxCapacity: -1, QuarantineAfter: -1})
	ctx := context.Background()
	a, err := p.Admit(ctx, testkernels.Echo)
	if err != nil || p.Running() != 1 {
		t.Fatalf("admit: %v, running %d", err, p.Running())
	}
	if _, err := p.Admit(ctx, testkernels.Echo); !errors.Is(err, pool.ErrMailboxFull) {
		t.Fatalf("second call with the slot taken and no mailbox: %v", err)
	}
	a.Done(nil)
	a.Done(errors.New("ignored")) // a second Done does nothing
	for i := range 10 {
		s, err := p.Admit(ctx, testkernels.Echo)
		if err != nil {
			t.Fatalf("admit %d after %d panics: %v", i, i, err)
		}
		err = s.Run(func() error { panic("boom") })
		var pe *pool.PanicError
		if !errors.As(err, &pe) || pe.Value != "boom" || pe.KernelID != testkernels.Echo {
			t.Fatalf("panic %d: %v", i, err)
		}
		s.Done(err)
	}
	if st := p.Stats(); st.Submitted != 11 || st.Succeeded != 1 || st.Failed != 10 || st.Panics != 10 || st.Rejected != 1 || st.Running != 0 {
		t.Fatalf("stats %+v", st)
	}
	// A caller whose deadline ends while it waits gets the deadline error.
	hold, _ := p.Admit(ctx, testkernels.Echo)
	defer hold.Done(nil)
	q := testPool(t, pool.Config{Workers: 1, MailboxCapacity: 1})
	hold2, _ := q.Admit(ctx, testkernels.Echo)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := q.Admit(short, testkernels.Echo); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the deadline: %v", err)
	}
	hold2.Done(nil)
}

// TestMemoryBudget: Reserve refuses at once, never waits, and a release
// makes room again.
func TestMemoryBudget(t *testing.T) {
	p := testPool(t, pool.Config{MemoryBudget: 100})
	if _, err := p.Reserve(101); !errors.Is(err, pool.ErrMemoryTooLarge) {
		t.Fatalf("over the budget: %v", err)
	}
	free, err := p.Reserve(60)
	if err != nil || p.Reserved() != 60 {
		t.Fatalf("reserve 60: %v, reserved %d", err, p.Reserved())
	}
	if _, err := p.Reserve(50); !errors.Is(err, pool.ErrMemoryBusy) {
		t.Fatalf("60 + 50 of 100: %v", err)
	}
	free()
	free() // once only
	if p.Reserved() != 0 {
		t.Fatalf("reserved %d after release", p.Reserved())
	}
	if free, err := p.Reserve(100); err != nil {
		t.Fatalf("the whole budget after release: %v", err)
	} else {
		free()
	}
}
