// Command bench is `make bench-serve`: the serving-overhead measurement of
// issue 10. It starts gokernels (the real binary, production preset: auth
// with an API key, rate limits on but far above the load, metrics and
// tracing on without an exporter) and a bare baseline (a grpc-go server
// with no interceptors and a net/http JSON handler, running the same kernel
// functions), drives both with ghz (gRPC) and vegeta (REST) at concurrency
// 1, 16 and 64 in interleaved runs, and prints throughput and latency as
// ratios to the baseline, the server-side overhead and a memory soak.
//
// Everything listens on and connects to 127.0.0.1 only; every run is
// bounded by a request count or a duration.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bin     string
	scale   float64
	rounds  int
	soak    time.Duration
	docs    string
	profile string
	probeN  int
	before  string
	mid     bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "baseline" {
		if err := runBaseline(); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.bin, "bin", "bin/gokernels", "gokernels binary to measure")
	flag.Float64Var(&o.scale, "scale", 1, "multiply every request count by this")
	flag.IntVar(&o.rounds, "rounds", 2, "measure every cell this many times, alternating the order of gokernels and the baseline")
	flag.DurationVar(&o.soak, "soak", 60*time.Second, "memory soak duration (0 skips it)")
	flag.StringVar(&o.docs, "docs", "", "replace the bench-serve section of this markdown file with the results")
	flag.StringVar(&o.profile, "profile", "", "instead of the benchmark, write CPU and allocation profiles of gokernels under load into this folder (needs GOKERNELS_PPROF_ADDR support)")
	flag.IntVar(&o.probeN, "probe", 2000, "sequential requests of the concurrency-1 overhead probe, per target")
	flag.BoolVar(&o.mid, "mid", true, "also measure the mid-size kernel (betweenness, 1,000 nodes)")
	flag.StringVar(&o.before, "before", "", "also measure these gokernels binaries (comma-separated, e.g. built before a change), interleaved, and add a before/after table for each")
	flag.Parse()

	// Children die with us (Pdeathsig); this also stops them on Ctrl-C.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	var h *harness
	go func() {
		<-sig
		if h != nil {
			h.close()
		}
		os.Exit(130)
	}()

	var err error
	h, err = newHarness(o)
	if err == nil {
		if o.profile != "" {
			err = h.runProfile()
		} else {
			err = h.runBench()
		}
	}
	if err != nil && h != nil && h.gk != nil {
		fmt.Fprintf(os.Stderr, "gokernels log tail:\n%s\n", h.gk.lastLogs())
	}
	if h != nil {
		h.close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-serve:", err)
		os.Exit(1)
	}
}

type harness struct {
	o      options
	dir    string
	apiKey string
	set    []byte
	gk     *proc
	others []*proc // optional: binaries before a change (-before)
	bare   *proc
	ws     []*workload

	pprofAddr string
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func newHarness(o options) (*harness, error) {
	h := &harness{o: o, ws: workloads(o.scale)}
	if !o.mid {
		h.ws = h.ws[:1]
	}
	var err error
	if h.dir, err = os.MkdirTemp("", "bench-serve-"); err != nil {
		return nil, err
	}
	var k [32]byte
	_, _ = rand.Read(k[:])
	h.apiKey = hex.EncodeToString(k[:])
	keys := filepath.Join(h.dir, "api-keys")
	if err := os.WriteFile(keys, []byte(h.apiKey+" executor bench\n"), 0o600); err != nil {
		return nil, err
	}
	if h.set, err = protoset(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(o.bin); err != nil {
		return nil, fmt.Errorf("gokernels binary: %v (run `make build`)", err)
	}
	var env []string
	if o.profile != "" {
		h.pprofAddr = freeAddr()
		env = append(env, "GOKERNELS_PPROF_ADDR="+h.pprofAddr)
	}
	if h.gk, err = startGokernels(o.bin, keys, h.apiKey, env...); err != nil {
		return h, err
	}
	if o.before != "" {
		for i, bin := range strings.Split(o.before, ",") {
			p, err := startGokernels(bin, keys, h.apiKey)
			if err != nil {
				return h, fmt.Errorf("-before %s: %v", bin, err)
			}
			p.name, p.bin = fmt.Sprintf("%s%d", before, i+1), bin
			h.others = append(h.others, p)
			logf("%s: %s pid %d", p.name, bin, p.cmd.Process.Pid)
		}
	}
	if h.bare, err = startBaseline(); err != nil {
		return h, err
	}
	h.bare.apiKey = h.apiKey
	logf("gokernels pid %d grpc %s http %s; baseline pid %d grpc %s http %s",
		h.gk.cmd.Process.Pid, h.gk.grpcAddr, h.gk.httpAddr, h.bare.cmd.Process.Pid, h.bare.grpcAddr, h.bare.httpAddr)
	return h, nil
}

func (h *harness) close() {
	h.gk.stop()
	for _, p := range h.others {
		p.stop()
	}
	h.bare.stop()
	if h.dir != "" {
		os.RemoveAll(h.dir)
	}
}

// machine describes where the run happened.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, model, _ = strings.Cut(l, ":")
				model = strings.TrimSpace(model)
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s %s/%s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
