//go:build cuda || cudaemu

package gpu

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gokernels/gokernels/cuda"
	"github.com/gokernels/gokernels/cuda/cudatest"
	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/config"
)

// The real-GPU tests. With -tags cuda they need a CUDA device; without
// one every test skips and TestMain says so (scripts/device-check.sh runs
// them on a GPU machine). With -tags cudaemu (make test-cudaemu) the same
// tests run this package's host code against the .cu kernels compiled for
// the CPU, on the unit-scale inputs.
//
//	GOKERNELS_CHECK_SCALE  unit | check | target   (inputs; default check,
//	                       target for TestDeviceCheck)
//	GOKERNELS_DEVICE_CHECK=1  run TestDeviceCheck, the timing table
//	GOKERNELS_CHECK_E2E=0     leave out the end-to-end request columns
//	GOKERNELS_CHECK_ONLY      comma-separated case names to run
//	GOKERNELS_CHECK_OUT       also write the table to this file

var (
	devices   []cuda.Device
	noDevice  string
	tolerance = 1e-6
)

func TestMain(m *testing.M) {
	devs, err := Discover(Options{})
	switch {
	case len(devs) == 0 && err != nil:
		noDevice = "no usable CUDA device (" + err.Error() + "): the real-GPU tests are skipped"
	case len(devs) == 0:
		noDevice = "no CUDA device found: the real-GPU tests are skipped"
	}
	if noDevice != "" {
		fmt.Println("SKIP:", noDevice)
	} else {
		for _, d := range devs {
			i := d.Info()
			fmt.Printf("GPU %d: %s, compute capability %s, %s, %d SMs\n", i.Ordinal, i.Name, i.ComputeCapability(), cuda.Bytes(i.TotalMem), i.SMs)
		}
	}
	devices = devs
	code := m.Run()
	for _, d := range devs {
		_ = d.Close()
	}
	os.Exit(code)
}

func need(t testing.TB) {
	t.Helper()
	if noDevice != "" {
		t.Skip(noDevice)
	}
}

func scale(t testing.TB, def string) cudatest.Scale {
	v := os.Getenv("GOKERNELS_CHECK_SCALE")
	if v == "" {
		v = def
	}
	s, err := cudatest.ParseScale(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func selected(c cudatest.Case) bool {
	only := os.Getenv("GOKERNELS_CHECK_ONLY")
	if only == "" {
		return true
	}
	for _, name := range strings.Split(only, ",") {
		if strings.TrimSpace(name) == c.Name {
			return true
		}
	}
	return false
}

// setup attaches the real devices' GPU implementations to a fresh registry.
func setup(t testing.TB) (*registry.Registry, *cuda.Selector) {
	t.Helper()
	reg, err := cudatest.Registry()
	if err != nil {
		t.Fatal(err)
	}
	sel := cuda.NewSelector(cuda.Options{Devices: devices, Log: slog.New(slog.DiscardHandler)})
	if _, err := sel.Register(reg); err != nil {
		t.Fatal(err)
	}
	return reg, sel
}

func testCtx() context.Context { return limits.With(context.Background(), limits.Default()) }

// run executes a case on the CPU path or (forced) on the GPU.
func run(t testing.TB, reg *registry.Registry, sel *cuda.Selector, c cudatest.Case, backend string) (proto.Message, time.Duration) {
	t.Helper()
	k, _ := reg.Get(c.Kernel)
	fn, _, err := sel.Choose(k, c.Input, backend)
	if err != nil {
		t.Fatalf("%s on %s: %v", c.Name, backend, err)
	}
	start := time.Now()
	out, _, err := fn(testCtx(), c.Input)
	d := time.Since(start)
	if err != nil {
		t.Fatalf("%s on %s: %v", c.Name, backend, err)
	}
	return out, d
}

// TestDeviceMatchesCPU: every CUDA kernel on the device against the CPU
// path — floating point within 1e-6 relative, everything else equal.
func TestDeviceMatchesCPU(t *testing.T) {
	need(t)
	reg, sel := setup(t)
	for _, c := range cudatest.Cases(scale(t, defaultScale)) {
		if !selected(c) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			want, _ := run(t, reg, sel, c, cuda.CPU)
			got, _ := run(t, reg, sel, c, cuda.CUDA)
			rel, err := cuda.Compare(got, want)
			if err != nil {
				t.Fatalf("%s: %v", c.Size, err)
			}
			t.Logf("%s: max relative error %.3g", c.Size, rel)
			if rel > tolerance {
				t.Errorf("%s: max relative error %.3g > %g", c.Size, rel, tolerance)
			}
		})
	}
}

// TestDeviceRepeatable: a second run reuses pooled buffers and gives the
// same answer.
func TestDeviceRepeatable(t *testing.T) {
	need(t)
	reg, sel := setup(t)
	for _, c := range cudatest.Cases(cudatest.Unit) {
		a, _ := run(t, reg, sel, c, cuda.CUDA)
		b, _ := run(t, reg, sel, c, cuda.CUDA)
		if rel, err := cuda.Compare(a, b); err != nil || rel > 1e-12 {
			t.Errorf("%s: runs differ: %v %.3g", c.Name, err, rel)
		}
	}
	st := devices[0].Stats()
	if st.HtoDBytes == 0 || st.DtoHBytes == 0 || st.Launches == 0 {
		t.Errorf("device stats not counted: %+v", st)
	}
}

// TestDeviceCancel: a cancelled request stops with the context's error.
func TestDeviceCancel(t *testing.T) {
	need(t)
	reg, sel := setup(t)
	for _, c := range cudatest.Cases(cudatest.Unit) {
		k, _ := reg.Get(c.Kernel)
		fn, _, _ := sel.Choose(k, c.Input, cuda.CUDA)
		ctx, cancel := context.WithCancel(testCtx())
		cancel()
		if _, _, err := fn(ctx, c.Input); err == nil || cuda.IsDeviceError(err) {
			t.Errorf("%s: cancelled request: %v", c.Name, err)
		}
	}
}

// TestDeviceCheck prints the table of scripts/device-check.sh: kernel,
// input size, CPU time (all host cores), GPU time including transfers and
// host-side preparation, speedup, max relative error, and end-to-end
// request latency through a server on both backends.
func TestDeviceCheck(t *testing.T) {
	if os.Getenv("GOKERNELS_DEVICE_CHECK") != "1" {
		t.Skip("set GOKERNELS_DEVICE_CHECK=1 (scripts/device-check.sh does)")
	}
	need(t)
	reg, sel := setup(t)
	e2e := os.Getenv("GOKERNELS_CHECK_E2E") != "0"
	var client gokernelsv1.KernelServiceClient
	if e2e {
		client = startServer(t, reg, sel)
	}
	var b strings.Builder
	info := devices[0].Info()
	fmt.Fprintf(&b, "GPU: %s (compute capability %s, %s); CPU: %d cores (GOMAXPROCS); %s\n\n",
		info.Name, info.ComputeCapability(), cuda.Bytes(info.TotalMem), runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	b.WriteString("| kernel | case | input size | CPU ms | GPU ms (incl. transfers) | speedup | max rel. error |")
	if e2e {
		b.WriteString(" e2e CPU ms | e2e GPU ms |")
	}
	b.WriteString("\n|---|---|---|---:|---:|---:|---:|")
	if e2e {
		b.WriteString("---:|---:|")
	}
	b.WriteString("\n")
	failed := false
	for _, c := range cudatest.Cases(scale(t, "target")) {
		if !selected(c) {
			continue
		}
		t.Logf("%s (%s)…", c.Name, c.Size)
		run(t, reg, sel, c, cuda.CUDA) // warm-up: PTX JIT, buffer pool
		gotGPU, gpu := run(t, reg, sel, c, cuda.CUDA)
		want, cpu := run(t, reg, sel, c, cuda.CPU)
		rel, err := cuda.Compare(gotGPU, want)
		errCol := fmt.Sprintf("%.2g", rel)
		if err != nil {
			errCol = "MISMATCH: " + err.Error()
			failed = true
		} else if rel > tolerance {
			failed = true
		}
		row := fmt.Sprintf("| %s | %s | %s | %.1f | %.1f | %.1f× | %s |", c.Kernel, c.Name, c.Size, ms(cpu), ms(gpu), cpu.Seconds()/gpu.Seconds(), errCol)
		if e2e {
			row += fmt.Sprintf(" %.1f | %.1f |", ms(execute(t, client, c, cuda.CPU)), ms(execute(t, client, c, cuda.CUDA)))
		}
		// Each row as soon as it is measured: a run cut short by its time
		// limit on a lent machine still reports what it measured.
		fmt.Println("ROW", row)
		b.WriteString(row + "\n")
	}
	fmt.Println()
	fmt.Println(b.String())
	if out := os.Getenv("GOKERNELS_CHECK_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if failed {
		t.Errorf("some GPU results differ from the CPU path by more than %g (see the table)", tolerance)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// startServer serves reg through a real server (gRPC on a local port) with
// the CUDA backend, and returns a client for it.
func startServer(t testing.TB, reg *registry.Registry, sel *cuda.Selector) gokernelsv1.KernelServiceClient {
	t.Helper()
	env := map[string]string{
		"GOKERNELS_HTTP_ADDR": "127.0.0.1:0", "GOKERNELS_GRPC_ADDR": "127.0.0.1:0",
		"GOKERNELS_MAX_REQUEST_BYTES": strconv.Itoa(1 << 30), "GOKERNELS_DEFAULT_TIMEOUT": "30m", "GOKERNELS_MAX_TIMEOUT": "30m",
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, reg, server.Options{Backends: sel, GPU: sel, CUDA: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return gokernelsv1.NewKernelServiceClient(conn)
}

// execute times one Execute call with typed input and output.
func execute(t testing.TB, client gokernelsv1.KernelServiceClient, c cudatest.Case, backend string) time.Duration {
	t.Helper()
	a, err := anypb.New(c.Input)
	if err != nil {
		t.Fatal(err)
	}
	req := &gokernelsv1.ExecuteRequest{KernelId: c.Kernel, Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: a},
		Metadata: &gokernelsv1.ExecuteOptions{Backend: backend, TypedOutput: true}}
	start := time.Now()
	resp, err := client.Execute(context.Background(), req)
	d := time.Since(start)
	if err != nil {
		t.Fatalf("%s e2e on %s: %v", c.Name, backend, err)
	}
	if resp.GetMetadata().GetBackend() != backend {
		t.Errorf("%s e2e: ran on %s, want %s", c.Name, resp.GetMetadata().GetBackend(), backend)
	}
	return d
}

// Benchmarks at the check scale: go test -bench . (device-check.sh -bench).
func BenchmarkGPU(b *testing.B) { benchmark(b, cuda.CUDA) }
func BenchmarkCPU(b *testing.B) { benchmark(b, cuda.CPU) }

func benchmark(b *testing.B, backend string) {
	need(b)
	reg, sel := setup(b)
	for _, c := range cudatest.Cases(scale(b, defaultScale)) {
		if !selected(c) {
			continue
		}
		b.Run(c.Name, func(b *testing.B) {
			for b.Loop() {
				run(b, reg, sel, c, backend)
			}
		})
	}
}

// bestOfTwo runs a case twice on a backend: the second output and the
// shorter time.
func bestOfTwo(t testing.TB, reg *registry.Registry, sel *cuda.Selector, c cudatest.Case, backend string) (proto.Message, time.Duration) {
	t.Helper()
	_, a := run(t, reg, sel, c, backend)
	out, b := run(t, reg, sel, c, backend)
	return out, min(a, b)
}

// TestDeviceSweep times every kernel on both backends at sizes from 1/3000
// to 1/10 of the target inputs and prints one SWEEP line per run:
// kernel, case, the AUTO size (Spec.Size, the number the threshold is
// compared with), CPU ms and GPU ms (best of two, transfers included).
// The thresholds in cuda/*.go are the smallest sizes where the GPU won.
// Run by scripts/device-check.sh --sweep (GOKERNELS_DEVICE_SWEEP=1).
func TestDeviceSweep(t *testing.T) {
	if os.Getenv("GOKERNELS_DEVICE_SWEEP") != "1" {
		t.Skip("set GOKERNELS_DEVICE_SWEEP=1 (scripts/device-check.sh --sweep does)")
	}
	need(t)
	reg, sel := setup(t)
	specs := map[string]*cuda.Spec{}
	for _, sp := range cuda.Specs() {
		specs[sp.ID] = sp
	}
	for _, c := range cudatest.Cases(cudatest.Unit) { // PTX JIT and pools
		if selected(c) {
			run(t, reg, sel, c, cuda.CUDA)
		}
	}
	for _, f := range []float64{1.0 / 3000, 1.0 / 1000, 1.0 / 300, 1.0 / 100, 1.0 / 30, 1.0 / 10} {
		for _, c := range cudatest.Scaled(f) {
			if !selected(c) {
				continue
			}
			_, gpu := bestOfTwo(t, reg, sel, c, cuda.CUDA)
			_, cpu := bestOfTwo(t, reg, sel, c, cuda.CPU)
			fmt.Printf("SWEEP | %s | %s | %s | %d | %.2f | %.2f | %.2f×\n", c.Kernel, c.Name, c.Size,
				specs[c.Kernel].Size(c.Input), ms(cpu), ms(gpu), cpu.Seconds()/gpu.Seconds())
		}
	}
}

// TestDevicePhases splits the GPU time of the two kernels that miss their
// speed goals into phases, by running their target inputs with fewer
// iterations and with given initial centres: k-means with n_init 1 and
// max_iterations 1 or 50, with and without init (k-means++ skipped), and
// PageRank with max_iterations 1 and its default. Each line: case, CPU ms,
// GPU ms (best of two), iterations run. Run by GOKERNELS_DEVICE_PHASES=1.
func TestDevicePhases(t *testing.T) {
	if os.Getenv("GOKERNELS_DEVICE_PHASES") != "1" {
		t.Skip("set GOKERNELS_DEVICE_PHASES=1")
	}
	need(t)
	reg, sel := setup(t)
	report := func(c cudatest.Case) {
		out, gpu := bestOfTwo(t, reg, sel, c, cuda.CUDA)
		_, cpu := bestOfTwo(t, reg, sel, c, cuda.CPU)
		iters := "-"
		switch o := out.(type) {
		case *mlv1.KMeansClusterOutput:
			iters = fmt.Sprint(o.GetIterations())
		case *graphv1.PageRankOutput:
			iters = fmt.Sprint(o.GetIterations())
		}
		fmt.Printf("PHASE | %s | %.2f | %.2f | %s\n", c.Name, ms(cpu), ms(gpu), iters)
	}
	for _, c := range cudatest.Cases(cudatest.Target) {
		switch in := c.Input.(type) {
		case *mlv1.KMeansClusterInput:
			init := slices.Clone(in.GetData()[:in.GetK()*in.GetNFeatures()])
			for _, v := range []struct {
				name    string
				iters   int32
				withIni bool
			}{{"kmeans ++ iter1", 1, false}, {"kmeans ++ iter50", 50, false}, {"kmeans init iter1", 1, true}, {"kmeans init iter50", 50, true}} {
				x := proto.Clone(in).(*mlv1.KMeansClusterInput)
				x.MaxIterations = proto.Int32(v.iters)
				x.Tolerance = proto.Float64(0)
				if v.withIni {
					x.Init = init
					x.NInit = nil
				}
				report(cudatest.Case{Name: v.name, Kernel: c.Kernel, Size: c.Size, Input: x})
			}
		case *graphv1.PageRankInput:
			if c.Name != "pagerank" {
				continue
			}
			for _, iters := range []int32{1, 0} {
				x := proto.Clone(in).(*graphv1.PageRankInput)
				name := "pagerank default iterations"
				if iters > 0 {
					x.MaxIterations = proto.Int32(iters)
					name = fmt.Sprintf("pagerank iter%d", iters)
				}
				report(cudatest.Case{Name: name, Kernel: c.Kernel, Size: c.Size, Input: x})
			}
		}
	}
}
