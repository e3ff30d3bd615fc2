package cuda_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/cuda"
	"github.com/gokernels/gokernels/cuda/cudatest"
	"github.com/gokernels/gokernels/cuda/emu"
	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/observe"
	"github.com/gokernels/gokernels/server/service"
)

var (
	_ service.Backends  = (*cuda.Selector)(nil)
	_ service.GPUHealth = (*cuda.Selector)(nil)
)

const gib = 1 << 30

// setup returns a registry with GPU implementations attached over the
// given devices.
func setup(t *testing.T, o cuda.Options) (*registry.Registry, *cuda.Selector) {
	t.Helper()
	reg, err := cudatest.Registry()
	if err != nil {
		t.Fatal(err)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	sel := cuda.NewSelector(o)
	ids, err := sel.Register(reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 8 {
		t.Fatalf("attached %d GPU implementations, want 8: %v", len(ids), ids)
	}
	return reg, sel
}

func kernel(t *testing.T, reg *registry.Registry, id string) *registry.Kernel {
	t.Helper()
	k, ok := reg.Get(id)
	if !ok {
		t.Fatalf("kernel %s not registered", id)
	}
	return k
}

func testCtx() (context.Context, struct{}) {
	return limits.With(context.Background(), limits.Default()), struct{}{}
}

// ring is a 1000-edge cycle: big enough to cross a test threshold of 500.
func ring(n int) *graphv1.PageRankInput {
	in := &graphv1.PageRankInput{NumNodes: int32(n), Directed: true}
	for i := 0; i < n; i++ {
		in.Edges = append(in.Edges, graphinput.PairList([2]int32{int32(i), int32((i + 1) % n)})...)
	}
	return in
}

type fakeRecorder struct {
	mu     sync.Mutex
	counts map[string]int
}

func (f *fakeRecorder) GPUFallback(reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = map[string]int{}
	}
	f.counts[reason]++
}

func (f *fakeRecorder) get(reason string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[reason]
}

func code(err error) codes.Code { return status.Code(err) }

func reason(err error) string {
	st, _ := status.FromError(err)
	return errs.Reason(st)
}

func TestChoosePerBackend(t *testing.T) {
	dev := emu.New(0, 8*gib)
	reg, sel := setup(t, cuda.Options{Devices: []cuda.Device{dev}, Thresholds: map[string]int64{"graph/pagerank": 500}})
	pr := kernel(t, reg, "graph/pagerank")
	big, small := ring(1000), ring(10)

	cases := []struct {
		requested string
		in        proto.Message
		want      string
	}{
		{"", big, cuda.CUDA},
		{"AUTO", big, cuda.CUDA},
		{"auto", big, cuda.CUDA},
		{"AUTO", small, cuda.CPU}, // below the threshold
		{"", small, cuda.CPU},
		{"CPU", big, cuda.CPU},
		{"CUDA", small, cuda.CUDA}, // demanded: the threshold does not apply
		{"CUDA", big, cuda.CUDA},
	}
	for _, c := range cases {
		fn, backend, err := sel.Choose(pr, c.in, c.requested)
		if err != nil {
			t.Fatalf("%q: %v", c.requested, err)
		}
		if backend != c.want {
			t.Errorf("requested %q with %d edges: backend %s, want %s", c.requested, len(c.in.(*graphv1.PageRankInput).Edges), backend, c.want)
		}
		before := dev.Calls("PageRank")
		ctx, _ := testCtx()
		out, ranOn, err := fn(ctx, c.in)
		if err != nil {
			t.Fatalf("%q: run: %v", c.requested, err)
		}
		ranOnGPU := dev.Calls("PageRank") > before
		if ranOnGPU != (c.want == cuda.CUDA) || ranOn != c.want {
			t.Errorf("requested %q: ran on GPU = %v, backend said %s, runner reported %s", c.requested, ranOnGPU, backend, ranOn)
		}
		if got := len(out.(*graphv1.PageRankOutput).Scores); got != len(c.in.(*graphv1.PageRankInput).Edges) {
			t.Errorf("scores: %d", got)
		}
	}
}

func TestCUDAImpossibleIsFailedPrecondition(t *testing.T) {
	// No device at all.
	reg, sel := setup(t, cuda.Options{DiscoveryError: errors.New("cuInit: no CUDA-capable device is detected")})
	pr := kernel(t, reg, "graph/pagerank")
	_, _, err := sel.Choose(pr, ring(10), "CUDA")
	if code(err) != codes.FailedPrecondition || reason(err) != errs.ReasonNoGPU {
		t.Fatalf("no device: %v (reason %q)", err, reason(err))
	}
	if !strings.Contains(err.Error(), "no CUDA-capable device") {
		t.Errorf("the reason should carry the discovery error: %v", err)
	}
	// AUTO and CPU still work, on the CPU.
	for _, r := range []string{"", "AUTO", "CPU"} {
		if _, backend, err := sel.Choose(pr, ring(10), r); err != nil || backend != cuda.CPU {
			t.Errorf("%q without device: %s, %v", r, backend, err)
		}
	}

	reg, sel = setup(t, cuda.Options{Devices: []cuda.Device{emu.New(0, 8*gib)}})
	// A kernel without a GPU implementation.
	closeness := kernel(t, reg, "graph/closeness-centrality")
	_, _, err = sel.Choose(closeness, &graphv1.ClosenessCentralityInput{NumNodes: 2}, "CUDA")
	if code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "no CUDA implementation") {
		t.Errorf("kernel without GPU implementation: %v", err)
	}
	if _, backend, err := sel.Choose(closeness, &graphv1.ClosenessCentralityInput{NumNodes: 2}, "AUTO"); err != nil || backend != cuda.CPU {
		t.Errorf("AUTO on a CPU-only kernel: %s, %v", backend, err)
	}
	// An input the GPU implementation does not cover: weighted betweenness.
	bc := kernel(t, reg, "graph/betweenness-centrality")
	weighted := &graphv1.BetweennessCentralityInput{NumNodes: 3, PackedEdges: cudatest.UniformEdges(3, 3, 1), Weights: []float64{1, 2, 3}}
	_, _, err = sel.Choose(bc, weighted, "CUDA")
	if code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "weighted") {
		t.Errorf("weighted betweenness on CUDA: %v", err)
	}
	sel2 := cuda.NewSelector(cuda.Options{Devices: []cuda.Device{emu.New(0, 8*gib)}, Thresholds: map[string]int64{"graph/betweenness-centrality": 0}})
	if _, backend, _ := sel2.Choose(bc, weighted, "AUTO"); backend != cuda.CPU {
		t.Errorf("weighted betweenness on AUTO ran on %s", backend)
	}
}

func TestThresholds(t *testing.T) {
	_, sel := setup(t, cuda.Options{Devices: []cuda.Device{emu.New(0, 8*gib)}})
	for _, sp := range cuda.Specs() {
		if sel.Threshold(sp.ID) != sp.Threshold || sp.Threshold <= 0 {
			t.Errorf("%s: threshold %d (spec %d)", sp.ID, sel.Threshold(sp.ID), sp.Threshold)
		}
	}
	reg, sel := setup(t, cuda.Options{Devices: []cuda.Device{emu.New(0, 8*gib)}, Thresholds: map[string]int64{"graph/pagerank": 1000}})
	pr := kernel(t, reg, "graph/pagerank")
	for _, c := range []struct {
		edges int
		want  string
	}{{999, cuda.CPU}, {1000, cuda.CUDA}, {1001, cuda.CUDA}} {
		if _, backend, _ := sel.Choose(pr, ring(c.edges), ""); backend != c.want {
			t.Errorf("%d edges vs threshold 1000: %s, want %s", c.edges, backend, c.want)
		}
	}
	// Every spec measures its inputs.
	for _, c := range cudatest.Cases(cudatest.Unit) {
		var sp *cuda.Spec
		for _, s := range cuda.Specs() {
			if s.ID == c.Kernel {
				sp = s
			}
		}
		if sp.Size(c.Input) <= 0 || sp.Bytes(c.Input, emu.New(0, gib).Info()) <= 0 {
			t.Errorf("%s: size %d, bytes %d", c.Name, sp.Size(c.Input), sp.Bytes(c.Input, cuda.DeviceInfo{}))
		}
	}
}

func TestFallbackOnGPUError(t *testing.T) {
	dev := emu.New(0, 8*gib)
	reg, sel := setup(t, cuda.Options{Devices: []cuda.Device{dev}, Thresholds: map[string]int64{"graph/pagerank": 0}})
	rec := &fakeRecorder{}
	sel.SetRecorder(rec)
	pr := kernel(t, reg, "graph/pagerank")
	in := ring(100)
	ctx, _ := testCtx()
	want, err := pr.RunCPU(ctx, in)
	if err != nil {
		t.Fatal(err)
	}

	dev.Fail("PageRank", errors.New("CUDA_ERROR_LAUNCH_FAILED"))
	fn, backend, err := sel.Choose(pr, in, "AUTO")
	if err != nil || backend != cuda.CUDA {
		t.Fatalf("AUTO: %s, %v", backend, err)
	}
	ctx = limits.With(context.Background(), limits.Default())
	out, ranOn, err := fn(ctx, in)
	if err != nil {
		t.Fatalf("AUTO with a failing GPU should rerun on the CPU: %v", err)
	}
	if !proto.Equal(out, want) {
		t.Error("the CPU rerun's output differs from the CPU path")
	}
	if ranOn != cuda.CPU {
		t.Errorf("ran on %q, want CPU after the fallback", ranOn)
	}
	if dev.Calls("PageRank") != 1 {
		t.Errorf("GPU tried %d times, want once", dev.Calls("PageRank"))
	}
	if rec.get(cuda.FallbackGPUError) != 1 || sel.Fallbacks()[cuda.FallbackGPUError] != 1 {
		t.Errorf("fallback not counted once: recorder %d, selector %v", rec.get(cuda.FallbackGPUError), sel.Fallbacks())
	}

	// Demanded CUDA: no silent CPU run; UNAVAILABLE.
	fn, _, err = sel.Choose(pr, in, "CUDA")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fn(ctx, in); code(err) != codes.Unavailable {
		t.Errorf("CUDA with a failing GPU: %v, want UNAVAILABLE", err)
	}
	if rec.get(cuda.FallbackGPUError) != 1 {
		t.Error("a demanded CUDA run must not count a fallback")
	}

	// Input errors are not GPU failures: same error as the CPU, no fallback.
	dev.Fail("PageRank", nil)
	bad := &graphv1.PageRankInput{NumNodes: 2, Edges: graphinput.PairList([2]int32{0, 5})}
	fn, _, _ = sel.Choose(pr, bad, "AUTO")
	_, _, gerr := fn(ctx, bad)
	_, cerr := pr.RunCPU(ctx, bad)
	if gerr == nil || gerr.Error() != cerr.Error() {
		t.Errorf("invalid input: GPU path %v, CPU path %v", gerr, cerr)
	}
	if rec.get(cuda.FallbackGPUError) != 1 {
		t.Error("an input error counted as a fallback")
	}
}

func TestStickyErrorTakesDeviceOutOfService(t *testing.T) {
	dev := emu.New(0, 8*gib)
	reg, sel := setup(t, cuda.Options{Devices: []cuda.Device{dev}, Thresholds: map[string]int64{"graph/pagerank": 0}})
	pr := kernel(t, reg, "graph/pagerank")
	dev.Fail("", &cuda.DeviceError{Device: 0, Op: "launch", Err: errors.New("CUDA_ERROR_ILLEGAL_ADDRESS"), Sticky: true})
	fn, _, _ := sel.Choose(pr, ring(50), "")
	ctx, _ := testCtx()
	if _, _, err := fn(ctx, ring(50)); err != nil {
		t.Fatalf("fallback: %v", err)
	}
	// Now AUTO goes straight to the CPU and CUDA is refused.
	if _, backend, _ := sel.Choose(pr, ring(50), ""); backend != cuda.CPU {
		t.Errorf("after a sticky error AUTO chose %s", backend)
	}
	if _, _, err := sel.Choose(pr, ring(50), "CUDA"); code(err) != codes.FailedPrecondition {
		t.Errorf("after a sticky error CUDA: %v", err)
	}
	h := sel.Health()
	if h.Status != "degraded" || h.Details["state"] != "out_of_service" || !strings.Contains(h.Details["last_error"], "ILLEGAL_ADDRESS") {
		t.Errorf("health after a sticky error: %s %q %v", h.Status, h.Message, h.Details)
	}
}

func TestBudget(t *testing.T) {
	b := cuda.NewBudget(1000)
	r1, ok := b.TryReserve(600)
	if !ok || b.Available() != 400 {
		t.Fatal("reserve 600")
	}
	if _, ok := b.TryReserve(500); ok {
		t.Fatal("500 more fit into 400")
	}
	r2, ok := b.TryReserve(400)
	if !ok || b.Available() != 0 {
		t.Fatal("reserve the rest")
	}
	r1.Release()
	r1.Release() // idempotent
	if b.Available() != 600 || b.Peak() != 1000 {
		t.Errorf("after release: available %d, peak %d", b.Available(), b.Peak())
	}
	r2.Release()
	if b.Reserved() != 0 || !b.Fits(1000) || b.Fits(1001) {
		t.Error("accounting")
	}
	if cuda.DefaultLimit(0, 80*gib) != 72*gib || cuda.DefaultLimit(5*gib, 80*gib) != 5*gib {
		t.Error("default limit is 90% of the device, or the configured value")
	}
}

func TestBudgetExceeded(t *testing.T) {
	dev := emu.New(0, 8*gib)
	// A 4 MiB budget: the unit-test MC input needs more than that.
	reg, sel := setup(t, cuda.Options{Devices: []cuda.Device{dev}, MemoryLimit: 4 << 20,
		Thresholds: map[string]int64{"risk/monte-carlo-var": 0, "graph/pagerank": 0}})
	rec := &fakeRecorder{}
	sel.SetRecorder(rec)
	var mc cudatest.Case
	for _, c := range cudatest.Cases(cudatest.Unit) {
		if c.Kernel == "risk/monte-carlo-var" {
			mc = c
		}
	}
	k := kernel(t, reg, mc.Kernel)

	// AUTO: the CPU, counted.
	fn, backend, err := sel.Choose(k, mc.Input, "AUTO")
	if err != nil || backend != cuda.CPU {
		t.Fatalf("AUTO over budget: %s, %v", backend, err)
	}
	ctx, _ := testCtx()
	if _, _, err := fn(ctx, mc.Input); err != nil {
		t.Fatal(err)
	}
	if rec.get(cuda.FallbackMemory) != 1 || dev.Calls("MonteCarlo") != 0 {
		t.Errorf("over budget on AUTO: fallbacks %d, GPU calls %d", rec.get(cuda.FallbackMemory), dev.Calls("MonteCarlo"))
	}
	// CUDA: RESOURCE_EXHAUSTED (429), without Retry-After (it never fits).
	_, _, err = sel.Choose(k, mc.Input, "CUDA")
	if code(err) != codes.ResourceExhausted || reason(err) != cuda.ReasonGPUMemory {
		t.Fatalf("CUDA over budget: %v", err)
	}
	if !strings.Contains(err.Error(), "GPU memory budget") {
		t.Errorf("message: %v", err)
	}

	// Budget held by concurrent executions: decided at run time.
	sp := specByID("graph/pagerank")
	hold := make(chan struct{})
	started := make(chan struct{})
	blocker := &cuda.Spec{ID: sp.ID, Size: sp.Size, Threshold: 0,
		Bytes: func(proto.Message, cuda.DeviceInfo) int64 { return 60 << 20 },
		Run: func(ctx context.Context, d any, job any) (proto.Message, error) {
			close(started)
			<-hold
			return sp.Run(ctx, d, job)
		}}
	regB, selB := setup(t, cuda.Options{Devices: []cuda.Device{dev}, MemoryLimit: 64 << 20,
		Specs: append(otherSpecs(sp.ID), blocker), Thresholds: map[string]int64{"graph/pagerank": 0}})
	selB.SetRecorder(rec)
	prB := kernel(t, regB, "graph/pagerank")
	go func() {
		fn, _, _ := selB.Choose(prB, ring(10), "CUDA")
		ctx, _ := testCtx()
		_, _, _ = fn(ctx, ring(10))
	}()
	<-started
	// The blocker holds 60 of 64 MiB; a second 60 MiB run cannot start.
	fn, backend, err = selB.Choose(prB, ring(10), "AUTO")
	if err != nil || backend != cuda.CUDA {
		t.Fatalf("AUTO while busy: %s %v", backend, err)
	}
	before := rec.get(cuda.FallbackMemory)
	ctx = limits.With(context.Background(), limits.Default())
	_, ranOn, err := fn(ctx, ring(10))
	if err != nil {
		t.Fatalf("AUTO while the budget is held should run on the CPU: %v", err)
	}
	if rec.get(cuda.FallbackMemory) != before+1 || ranOn != cuda.CPU {
		t.Errorf("busy budget on AUTO: fallbacks %d→%d, backend %q", before, rec.get(cuda.FallbackMemory), ranOn)
	}
	fn, _, err = selB.Choose(prB, ring(10), "CUDA")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = fn(ctx, ring(10))
	if code(err) != codes.ResourceExhausted || reason(err) != cuda.ReasonGPUMemory {
		t.Errorf("CUDA while the budget is held: %v", err)
	}
	close(hold)
}

func specByID(id string) *cuda.Spec {
	for _, s := range cuda.Specs() {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func otherSpecs(id string) []*cuda.Spec {
	var out []*cuda.Spec
	for _, s := range cuda.Specs() {
		if s.ID != id {
			out = append(out, s)
		}
	}
	return out
}

func TestPanicFallsBack(t *testing.T) {
	sp := specByID("graph/pagerank")
	panicky := *sp
	panicky.Run = func(context.Context, any, any) (proto.Message, error) { panic("boom") }
	reg, sel := setup(t, cuda.Options{Devices: []cuda.Device{emu.New(0, gib)},
		Specs: append(otherSpecs(sp.ID), &panicky), Thresholds: map[string]int64{"graph/pagerank": 0}})
	pr := kernel(t, reg, "graph/pagerank")
	fn, _, _ := sel.Choose(pr, ring(20), "")
	ctx, _ := testCtx()
	if _, _, err := fn(ctx, ring(20)); err != nil {
		t.Fatalf("a panic in the GPU path should fall back: %v", err)
	}
	if sel.Fallbacks()[cuda.FallbackGPUError] != 1 {
		t.Errorf("fallbacks %v", sel.Fallbacks())
	}
}

func TestHealth(t *testing.T) {
	// Built with CUDA, no device.
	sel := cuda.NewSelector(cuda.Options{})
	h := sel.Health()
	if h.Status != "healthy" || h.Details["present"] != "false" {
		t.Errorf("no device: %+v", h)
	}
	sel = cuda.NewSelector(cuda.Options{DiscoveryError: errors.New("driver too old")})
	if h := sel.Health(); h.Status != "degraded" || h.Details["error"] != "driver too old" {
		t.Errorf("discovery error: %+v", h)
	}

	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	dev := emu.New(0, 80*gib)
	dev.SetUsed(3 * gib)
	reg, sel := setup(t, cuda.Options{Devices: []cuda.Device{dev, emu.New(1, 80*gib)}, MemoryLimit: 10 * gib,
		Now: func() time.Time { return clock }, Thresholds: map[string]int64{"graph/pagerank": 0}})
	h = sel.Health()
	want := map[string]string{
		"present": "true", "devices": "2", "device": "Emulated GPU", "compute_capability": "9.0",
		"memory_used_bytes": "3221225472", "memory_total_bytes": "85899345920", "budget_bytes": "10737418240",
		"budget_reserved_bytes": "0", "last_error": "", "state": "ok", "gpu1_device": "Emulated GPU", "gpu1_state": "ok",
	}
	if h.Status != "healthy" {
		t.Errorf("status %s: %s", h.Status, h.Message)
	}
	for k, v := range want {
		if h.Details[k] != v {
			t.Errorf("details[%s] = %q, want %q", k, h.Details[k], v)
		}
	}

	dev.Fail("PageRank", errors.New("CUDA_ERROR_OUT_OF_MEMORY"))
	pr := kernel(t, reg, "graph/pagerank")
	// Both devices have the same free budget; the first is picked.
	fn, _, _ := sel.Choose(pr, ring(30), "")
	ctx, _ := testCtx()
	if _, _, err := fn(ctx, ring(30)); err != nil {
		t.Fatal(err)
	}
	h = sel.Health()
	if h.Status != "degraded" || !strings.Contains(h.Details["last_error"], "OUT_OF_MEMORY") || h.Details["last_error_time"] == "" ||
		h.Details["fallbacks_gpu_error"] != "1" || h.Details["state"] != "recent_error" {
		t.Errorf("after an error: %s %q %v", h.Status, h.Message, h.Details)
	}
	clock = now.Add(cuda.RecentError + time.Second)
	if h := sel.Health(); h.Status != "healthy" || h.Details["last_error"] == "" {
		t.Errorf("an old error should not degrade, but stay visible: %s %v", h.Status, h.Details)
	}
}

func TestBindMetrics(t *testing.T) {
	rec := observe.New(observe.Options{CUDA: true})
	_, sel := setup(t, cuda.Options{Devices: []cuda.Device{emu.New(0, 8*gib)}})
	if err := sel.Bind(rec); err != nil {
		t.Fatal(err)
	}
	mfs, err := rec.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		seen[mf.GetName()] = true
	}
	for _, name := range []string{"gokernels_gpu_memory_used_bytes", "gokernels_gpu_memory_total_bytes",
		"gokernels_gpu_budget_bytes", "gokernels_gpu_transfer_bytes_total", "gokernels_gpu_kernel_launches_total"} {
		if !seen[name] {
			t.Errorf("metric %s not exported", name)
		}
	}
}
