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
