package digitaltwin

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/kerr"
)

func run(t *testing.T, in *procintv1.DigitalTwinInput) *procintv1.DigitalTwinOutput {
	t.Helper()
	j, err := prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func constant(v float64) *procintv1.TwinDuration {
	return &procintv1.TwinDuration{Kind: Constant, Value: v}
}

func ptr[T any](v T) *T { return &v }

// A schedule worked out by hand. One clerk (capacity 1) serves "check"
// (2 s), then cases go to "file" on a pool of 2 (3 s). Arrivals 0, 0, 1:
// cases 0 and 1 arrive at the same instant and queue in case order.
//
//	case 0: check 0–2, file 2–5            cycle 5
//	case 1: waits 2, check 2–4, file 4–7   cycle 7
//	case 2: waits 3 (1→4), check 4–6, file 6–9 → cut by the horizon 8
//
// At t = 4 case 1's check completion and case 2's start coincide:
// completions first, then the clerk starts case 2.
func TestHandSchedule(t *testing.T) {
	out := run(t, &procintv1.DigitalTwinInput{
		Activities: []*procintv1.TwinActivity{
			{Name: "check", Pool: "clerk", Duration: constant(2)},
			{Name: "file", Pool: "shelf", Duration: constant(3)},
		},
		Pools:        []*procintv1.TwinPool{{Name: "shelf", Capacity: 2}, {Name: "clerk", Capacity: 1}},
		Transitions:  []*procintv1.TwinTransition{{Source: "check", Target: "file", Probability: 1}},
		Start:        "check",
		ArrivalTimes: []float64{0, 1, 0},
		Horizon:      8,
		ReturnTraces: true,
	})
	rep := out.GetReplications()[0]
	want := []*procintv1.TwinService{
		{Case: 0, Activity: "check", Pool: "clerk", Enqueue: 0, Start: 0, End: 2},
		{Case: 0, Activity: "file", Pool: "shelf", Enqueue: 2, Start: 2, End: 5},
		{Case: 1, Activity: "check", Pool: "clerk", Enqueue: 0, Start: 2, End: 4},
		{Case: 1, Activity: "file", Pool: "shelf", Enqueue: 4, Start: 4, End: 7},
		{Case: 2, Activity: "check", Pool: "clerk", Enqueue: 1, Start: 4, End: 6},
		{Case: 2, Activity: "file", Pool: "shelf", Enqueue: 6, Start: 6, End: 9},
	}
	if len(rep.GetServices()) != len(want) {
		t.Fatalf("%d services, want %d: %v", len(rep.GetServices()), len(want), rep.GetServices())
	}
	for i, w := range want {
		if !proto.Equal(rep.GetServices()[i], w) {
			t.Errorf("service %d = %v, want %v", i, rep.GetServices()[i], w)
		}
	}
	if rep.GetArrived() != 3 || rep.GetCompleted() != 2 {
		t.Errorf("arrived %d completed %d, want 3 and 2", rep.GetArrived(), rep.GetCompleted())
	}
	ct := rep.GetCycleTime()
	if ct.GetMean() != 6 || ct.GetStd() != math.Sqrt2 || ct.GetP50() != 6 || math.Abs(ct.GetP90()-6.8) > 1e-12 {
		t.Errorf("cycle time %v, want mean 6, std √2, p50 6, p90 6.8", ct)
	}
	// WIP: 2 cases on [0,1), 3 on [1,5), 2 on [5,7), 1 on [7,8] → 2+12+4+1 = 19 over 8.
	if rep.GetWipTimeAverage() != 19.0/8 {
		t.Errorf("wip %v, want 19/8", rep.GetWipTimeAverage())
	}
	if rep.GetThroughput() != 2.0/8 || rep.GetWipLittle() != 2.0/8*6 {
		t.Errorf("throughput %v little %v", rep.GetThroughput(), rep.GetWipLittle())
	}
	// check: waits 0, 2, 3; file: no wait. The clerk is busy 0–6 of 8;
	// the shelf 3 + 3 + 2 (cut at 8) = 8 of 2·8.
	acts := rep.GetActivities()
	if acts[0].GetActivity() != "check" || acts[0].GetCount() != 3 || acts[0].GetMeanWait() != 5.0/3 || acts[0].GetMeanService() != 2 {
		t.Errorf("check stats %v", acts[0])
	}
	if acts[1].GetCount() != 3 || acts[1].GetMeanWait() != 0 || acts[1].GetMeanService() != 3 {
		t.Errorf("file stats %v (the cut service is not a completed service)", acts[1])
	}
	if rep.GetBottleneck() != "check" {
		t.Errorf("bottleneck %q", rep.GetBottleneck())
	}
	pools := rep.GetPools()
	if pools[0].GetPool() != "clerk" || pools[0].GetUtilisation() != 6.0/8 || pools[1].GetUtilisation() != 8.0/16 {
		t.Errorf("pools %v", pools)
	}
}

// Routing with 0/1 probabilities follows the 1; warm-up excludes early
// cases from the KPIs but not from the WIP count.
func TestRoutingAndWarmup(t *testing.T) {
	out := run(t, &procintv1.DigitalTwinInput{
		Activities: []*procintv1.TwinActivity{
			{Name: "a", Pool: "p", Duration: constant(1)},
			{Name: "b", Pool: "p", Duration: constant(1)},
			{Name: "c", Pool: "p", Duration: constant(1)},
		},
		Pools: []*procintv1.TwinPool{{Name: "p", Capacity: 5}},
		Transitions: []*procintv1.TwinTransition{
			{Source: "a", Target: "b", Probability: 0}, {Source: "a", Target: "c", Probability: 1},
		},
		Start: "a", ArrivalTimes: []float64{0, 5}, Horizon: 10, Warmup: 1,
	})
	rep := out.GetReplications()[0]
	if rep.GetActivities()[1].GetCount() != 0 || rep.GetActivities()[2].GetCount() != 1 {
		t.Errorf("routing: %v", rep.GetActivities())
	}
	if rep.GetCompleted() != 1 || rep.GetCycleTime().GetMean() != 2 {
		t.Errorf("warm-up: completed %d, cycle %v", rep.GetCompleted(), rep.GetCycleTime())
	}
	// Case 0 is in the system on [0, 2): 1 s of it after warm-up; case 1 on [5, 7).
	if rep.GetWipTimeAverage() != 3.0/9 {
		t.Errorf("wip %v, want 3/9", rep.GetWipTimeAverage())
	}
}

type refEstimate struct {
	Mean     float64 `json:"mean"`
	StdError float64 `json:"std_error"`
}

type queueRef struct {
	Lambda       float64     `json:"lambda"`
	Mu           float64     `json:"mu"`
	C            int32       `json:"c"`
	Horizon      float64     `json:"horizon"`
	Warmup       float64     `json:"warmup"`
	Replications int32       `json:"replications"`
	Wq           float64     `json:"erlang_c_wq"`
	Util         float64     `json:"utilisation"`
	PyWait       refEstimate `json:"python_mean_wait"`
	PyUtil       refEstimate `json:"python_utilisation"`
}

func loadQueues(t *testing.T) (qs []queueRef, little queueRef) {
	t.Helper()
	b, err := os.ReadFile("testdata/queues.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Queues []queueRef `json:"queues"`
		Little queueRef   `json:"little"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Queues, doc.Little
}

func mmc(q queueRef, seed uint64) *procintv1.DigitalTwinInput {
	return &procintv1.DigitalTwinInput{
		Activities:  []*procintv1.TwinActivity{{Name: "serve", Pool: "servers", Duration: &procintv1.TwinDuration{Kind: Exponential, Mean: 1 / q.Mu}}},
		Pools:       []*procintv1.TwinPool{{Name: "servers", Capacity: q.C}},
		Start:       "serve",
		ArrivalRate: ptr(q.Lambda), Horizon: q.Horizon, Warmup: q.Warmup,
		Replications: ptr(q.Replications), Seed: seed,
	}
}

// Stochastic mode: over 16 replications the mean wait is within 4
// standard errors of Erlang C's Wq (M/M/c) and of a Python simulation of
// the same definition, and utilisation is within 4 standard errors of
// λ/(cμ).
func TestErlangC(t *testing.T) {
	qs, _ := loadQueues(t)
	for _, q := range qs {
		out := run(t, mmc(q, 7))
		w := out.GetSummary().GetActivities()[0].GetMeanWait()
		if d := math.Abs(w.GetMean() - q.Wq); d > 4*w.GetStdError() {
			t.Errorf("M/M/%d λ=%g: mean wait %.4f ± %.4f, Erlang C %.4f (%.1f SE)", q.C, q.Lambda, w.GetMean(), w.GetStdError(), q.Wq, d/w.GetStdError())
		}
		se := math.Hypot(w.GetStdError(), q.PyWait.StdError)
		if d := math.Abs(w.GetMean() - q.PyWait.Mean); d > 4*se {
			t.Errorf("M/M/%d λ=%g: mean wait %.4f, Python simulation %.4f (%.1f SE)", q.C, q.Lambda, w.GetMean(), q.PyWait.Mean, d/se)
		}
		u := out.GetSummary().GetPools()[0].GetUtilisation()
		if d := math.Abs(u.GetMean() - q.Util); d > 4*u.GetStdError() {
			t.Errorf("M/M/%d λ=%g: utilisation %.4f ± %.4f, λ/(cμ) %.4f", q.C, q.Lambda, u.GetMean(), u.GetStdError(), q.Util)
		}
		if w.GetStdError() <= 0 || w.GetStdError() > 0.1*q.Wq {
			t.Errorf("M/M/%d: standard error %.4f is not a usable bound", q.C, w.GetStdError())
		}
	}
}

// Little's law: on a long horizon the time-average WIP and λ·W agree
// within 2 % in every replication's aggregate.
func TestLittlesLaw(t *testing.T) {
	_, q := loadQueues(t)
	out := run(t, mmc(q, 11))
	s := out.GetSummary()
	a, b := s.GetWipTimeAverage().GetMean(), s.GetWipLittle().GetMean()
	if math.Abs(a-b) > 0.02*a {
		t.Errorf("time-average WIP %.4f, λW %.4f: differ by more than 2%%", a, b)
	}
	// And L = λ/μ + Lq of the M/M/1 queue: ρ/(1−ρ) = 9.
	if want := q.Lambda * (q.Wq + 1/q.Mu); math.Abs(a-want) > 4*s.GetWipTimeAverage().GetStdError()+0.05*want {
		t.Errorf("WIP %.4f ± %.4f, M/M/1 L = %.4f", a, s.GetWipTimeAverage().GetStdError(), want)
	}
}

// The same seed gives the same output; another seed gives another.
func TestSeeded(t *testing.T) {
	qs, _ := loadQueues(t)
	in := mmc(qs[1], 3)
	in.Horizon, in.Warmup, in.Replications = 200, 0, ptr(int32(2))
	in.Activities[0].Duration = &procintv1.TwinDuration{Kind: Triangular, Low: 0.2, Mode: 0.5, High: 2}
	a, b := run(t, in), run(t, in)
	if !proto.Equal(a, b) {
		t.Fatal("two runs with one seed differ")
	}
	in.Seed = 4
	if c := run(t, in); proto.Equal(a, c) {
		t.Fatal("another seed gave the same output")
	}
	if proto.Equal(a.GetReplications()[0].GetCycleTime(), a.GetReplications()[1].GetCycleTime()) {
		t.Fatal("two replications drew the same stream")
	}
}

// Each distribution's sample mean is near its mean, every draw >= 0.
func TestDistributions(t *testing.T) {
	for _, c := range []struct {
		d    Dist
		mean float64
	}{
		{Dist{Kind: Constant, Value: 2.5}, 2.5},
		{Dist{Kind: Uniform, Low: 1, High: 3}, 2},
		{Dist{Kind: Normal, Mean: 2, Std: 0.5}, 2},
		{Dist{Kind: Exponential, Mean: 1.5}, 1.5},
		{Dist{Kind: Triangular, Low: 0, Mode: 1, High: 5}, 2},
	} {
		out := run(t, &procintv1.DigitalTwinInput{
			Activities: []*procintv1.TwinActivity{{Name: "x", Pool: "p", Duration: &procintv1.TwinDuration{
				Kind: c.d.Kind, Value: c.d.Value, Low: c.d.Low, High: c.d.High, Mode: c.d.Mode, Mean: c.d.Mean, Std: c.d.Std}}},
			Pools: []*procintv1.TwinPool{{Name: "p", Capacity: 1_000_000}}, Start: "x",
			ArrivalRate: ptr(100.0), Horizon: 1000, MaxEvents: ptr(int64(500_000)),
		})
		got := out.GetReplications()[0].GetActivities()[0].GetMeanService()
		if math.Abs(got-c.mean) > 0.02*c.mean {
			t.Errorf("%s: mean service %.4f, want %.4f", c.d.Kind, got, c.mean)
		}
	}
}

// Bad input names its field; runaway runs stop at max_events; the
// context is honoured.
func TestBounds(t *testing.T) {
	base := func() *procintv1.DigitalTwinInput {
		return &procintv1.DigitalTwinInput{
			Activities: []*procintv1.TwinActivity{{Name: "a", Pool: "p", Duration: constant(1)}},
			Pools:      []*procintv1.TwinPool{{Name: "p", Capacity: 1}}, Start: "a",
			ArrivalTimes: []float64{0}, Horizon: 10,
		}
	}
	for _, c := range []struct {
		field string
		edit  func(in *procintv1.DigitalTwinInput)
	}{
		{"horizon", func(in *procintv1.DigitalTwinInput) { in.Horizon = math.NaN() }},
		{"horizon", func(in *procintv1.DigitalTwinInput) { in.Horizon = math.Inf(1) }},
		{"warmup", func(in *procintv1.DigitalTwinInput) { in.Warmup = 10 }},
		{"arrival_times[1]", func(in *procintv1.DigitalTwinInput) { in.ArrivalTimes = []float64{0, math.NaN()} }},
		{"arrival_rate", func(in *procintv1.DigitalTwinInput) { in.ArrivalTimes = nil; in.ArrivalRate = ptr(1e308) }},
		{"arrival_rate", func(in *procintv1.DigitalTwinInput) { in.ArrivalTimes = nil; in.ArrivalRate = ptr(-1.0) }},
		{"replications", func(in *procintv1.DigitalTwinInput) { in.Replications = ptr(int32(1001)) }},
		{"max_events", func(in *procintv1.DigitalTwinInput) { in.MaxEvents = ptr(int64(1) << 53) }},
		{"pools[0].capacity", func(in *procintv1.DigitalTwinInput) { in.Pools[0].Capacity = 0 }},
		{"pools[1].name", func(in *procintv1.DigitalTwinInput) {
			in.Pools = append(in.Pools, &procintv1.TwinPool{Name: "p", Capacity: 1})
		}},
		{"activities[0].duration", func(in *procintv1.DigitalTwinInput) { in.Activities[0].Duration = nil }},
		{"activities[0].duration.kind", func(in *procintv1.DigitalTwinInput) { in.Activities[0].Duration.Kind = "GAMMA" }},
		{"activities[0].duration.value", func(in *procintv1.DigitalTwinInput) { in.Activities[0].Duration.Value = -1 }},
		{"activities[0].duration.std", func(in *procintv1.DigitalTwinInput) { in.Activities[0].Duration.Std = 1 }},
		{"activities[0].duration.mean", func(in *procintv1.DigitalTwinInput) {
			in.Activities[0].Duration = &procintv1.TwinDuration{Kind: Exponential}
		}},
		{"activities[0].duration.mode", func(in *procintv1.DigitalTwinInput) {
			in.Activities[0].Duration = &procintv1.TwinDuration{Kind: Triangular, Low: 1, Mode: 0.5, High: 2}
		}},
		{"transitions[0].probability", func(in *procintv1.DigitalTwinInput) {
			in.Transitions = []*procintv1.TwinTransition{{Source: "a", Target: "a", Probability: math.NaN()}}
		}},
		{"transitions[0].target", func(in *procintv1.DigitalTwinInput) {
			in.Transitions = []*procintv1.TwinTransition{{Source: "a", Target: "b", Probability: 1}}
		}},
		{"transitions[1]", func(in *procintv1.DigitalTwinInput) {
			in.Transitions = []*procintv1.TwinTransition{{Source: "a", Target: "a", Probability: 0.5}, {Source: "a", Target: "a", Probability: 0.5}}
		}},
	} {
		in := base()
		c.edit(in)
		_, err := prepare(context.Background(), in)
		if got := fixture.ErrorField(err); got != c.field {
			t.Errorf("want a 400 on %s, got %v", c.field, err)
		}
	}
	// A loop of zero-time activities never advances the clock: max_events stops it.
	in := base()
	in.Activities[0].Duration = constant(0)
	in.Transitions = []*procintv1.TwinTransition{{Source: "a", Target: "a", Probability: 1}}
	in.MaxEvents = ptr(int64(10_000))
	j, err := prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), j); fixture.ErrorField(err) != "max_events" {
		t.Fatalf("zero-time loop: %v", err)
	}
	// A long run stops promptly when its context ends.
	qs, _ := loadQueues(t)
	big := mmc(qs[0], 1)
	big.Horizon, big.Warmup, big.MaxEvents, big.Replications = 1e6, 0, ptr(int64(1_000_000)), ptr(int32(1000))
	j, err = prepare(context.Background(), big)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err = Run(ctx, j)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the deadline, got %v", err)
	}
	if el := time.Since(t0); el > 2*time.Second {
		t.Fatalf("stopped %v after the deadline", el)
	}
	var fe *kerr.FieldError
	if errors.As(err, &fe) {
		t.Fatal("a deadline is not a field error")
	}
}
