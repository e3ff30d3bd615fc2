package observe

import (
	"testing"
	"time"
)

// fakeClock is a settable now for ErrorWindow.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// TestErrorWindowIgnoresBursts: ten crashing requests within two seconds
// (issue 13: ten of them turned /health 503 for 60 s) leave the health rate
// at 0; failures sustained over HealthFaultSeconds distinct seconds count.
func TestErrorWindowIgnoresBursts(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	w := NewErrorWindow(60*time.Second, HealthMinExecutions, HealthFaultSeconds)
	w.now = clock.now
	for i := range 30 { // healthy traffic spread over 30 s
		clock.t = time.Unix(1_000_000+int64(i), 0)
		w.Record(false)
	}
	for i := range 10 { // a burst of panics in two seconds
		clock.t = time.Unix(1_000_030+int64(i/5), 0)
		w.Record(true)
	}
	if rate, total := w.Rate(); rate != 0 || total != 40 {
		t.Fatalf("after a 2 s burst: rate %v over %d executions, want 0 over 40", rate, total)
	}

	// The same failures sustained: one per second for HealthFaultSeconds.
	for i := range HealthFaultSeconds {
		clock.t = time.Unix(1_000_032+int64(i), 0)
		w.Record(true)
		w.Record(true)
	}
	rate, total := w.Rate()
	want := float64(10+2*HealthFaultSeconds) / float64(total)
	if rate != want || rate < 0.5 {
		t.Fatalf("sustained failures: rate %v over %d, want %v (≥ 0.5: unhealthy)", rate, total, want)
	}

	// A minute later the window has forgotten them.
	clock.t = clock.t.Add(61 * time.Second)
	if rate, total := w.Rate(); rate != 0 || total != 0 {
		t.Fatalf("after the window: rate %v over %d", rate, total)
	}

	// Sustained failures on too little traffic are not a rate either.
	few := NewErrorWindow(60*time.Second, HealthMinExecutions, HealthFaultSeconds)
	few.now = clock.now
	for range HealthFaultSeconds {
		clock.t = clock.t.Add(time.Second)
		few.Record(true)
	}
	if rate, total := few.Rate(); rate != 0 || total != HealthFaultSeconds {
		t.Fatalf("%d executions: rate %v, want 0 below %d executions", total, rate, HealthMinExecutions)
	}
}
