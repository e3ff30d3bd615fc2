package anomaly

import (
	"context"
	"math"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/simuser"
)

func prepare(t testing.TB, in *behavioralv1.AnomalyInput) *Job {
	t.Helper()
	j, err := Kernel.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// Replay law and the score invariants: scores in [0,100]; a user's first
// min_events events are cold and never anomalous; each event's result is
// the one Apply returned when it arrived.
func TestReplayLawAndInvariants(t *testing.T) {
	in := &behavioralv1.AnomalyInput{Events: simuser.Events(3, 4, 700, 20)}
	j := prepare(t, in)
	want, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	s := NewState(j.P)
	seen := map[string]int64{}
	anomalies := 0
	for i, e := range j.Events {
		r, err := s.Apply(e)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(r, want.Events[i]) {
			t.Fatalf("event %d: ring %v, batch %v", i, r, want.Events[i])
		}
		if r.Score < 0 || r.Score > 100 || math.IsNaN(r.Score) {
			t.Fatalf("score %g", r.Score)
		}
		if seen[e.UserId] < j.P.MinEvents && (r.IsAnomaly || !r.ColdStart || r.Score != 0) {
			t.Fatalf("event %d of %s during cold start: %v", seen[e.UserId], e.UserId, r)
		}
		if r.IsAnomaly {
			anomalies++
		}
		seen[e.UserId]++
	}
	if anomalies == 0 {
		t.Fatal("the burst raised no anomaly")
	}
	if err := func() error { _, err := s.Apply(&behavioralv1.UserEvent{Id: "x", UserId: "u", Ts: 0}); return err }(); err != ErrOutOfOrder {
		t.Fatalf("older event: %v", err)
	}
	if !proto.Equal(s.Snapshot(), want) {
		t.Fatal("ring snapshot differs from Batch")
	}
}

// PoissonCDF agrees with direct summation where that is exact, and with
// its limits.
func TestPoissonCDF(t *testing.T) {
	for _, lam := range []float64{0.01, 0.5, 3, 40} {
		term, sum := math.Exp(-lam), 0.0
		for k := 0; k < 60; k++ {
			sum += term
			if got := PoissonCDF(k, lam); math.Abs(got-sum) > 1e-12*math.Max(1, sum) {
				t.Fatalf("cdf(%d, %g) = %.17g, want %.17g", k, lam, got, sum)
			}
			term *= lam / float64(k+1)
		}
	}
	if PoissonCDF(-1, 2) != 0 || PoissonCDF(10_000, 2) != 1 {
		t.Fatal("limits")
	}
	if v := PoissonCDF(5000, 4000); v <= 0.999999 || v > 1 {
		t.Fatalf("cdf(5000, 4000) = %g", v)
	}
}

// BenchmarkFold measures the ring fold (Apply per event, in-process).
func BenchmarkFold(b *testing.B) {
	j := prepare(b, &behavioralv1.AnomalyInput{Events: simuser.Events(1, 1000, 200_000, 30)})
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := NewState(j.P)
		for _, e := range j.Events {
			if _, err := s.Apply(e); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(j.Events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// On a shared machine wall time counts other processes' load too; the
	// process's CPU time is what the fold itself costs.
	b.ReportMetric(float64(len(j.Events))*float64(b.N)/(cpuSeconds()-cpu0), "events/cpu-s")
}

// cpuSeconds is the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
