package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	tGRPC  = "gRPC"
	tREST  = "REST"
	gk     = "gokernels"
	bare   = "bare"
	before = "before"
)

var concurrencies = []int{1, 16, 64}

type cellKey struct {
	w, c   int
	api    string
	target string
}

// overhead accumulates metric deltas of gokernels runs.
type overhead struct {
	handling, handled float64 // grpc_server_handling_seconds{Execute} sum, count
	compute, computed float64 // gokernels_kernel_duration_seconds sum, count
	queue             float64 // gokernels_queue_duration_seconds sum
}

// perRequest is the mean server-side time per request outside the kernel
// and outside the admission queue.
func (o *overhead) perRequest() time.Duration {
	if o == nil || o.handled == 0 || o.computed == 0 {
		return 0
	}
	s := o.handling/o.handled - o.compute/o.computed - o.queue/o.handled
	return time.Duration(s * float64(time.Second))
}

type soakResult struct {
	rate, achieved   float64
	rss              []int64 // kB, one per second
	warm             int     // samples skipped as warm-up
	g0, gAfter       float64
	gWait            time.Duration
	errors, requests int
	firstErr         string
}

type probeResult struct {
	// per request, minus compute: from the server's log line (gokernels
	// only) and the client's round trip
	gkServer, gkClient []time.Duration
	n                  int
}

type results struct {
	start, end   time.Time
	load0, load1 string
	cells        map[cellKey]*sample
	ovh          map[cellKey]*overhead
	probe        map[string]*probeResult // by gokernels target
	soak         *soakResult
}

func (h *harness) runBench() error {
	r := &results{start: time.Now(), load0: loadavg(), cells: map[cellKey]*sample{}, ovh: map[cellKey]*overhead{}, probe: map[string]*probeResult{}}
	if err := h.sanity(); err != nil {
		return err
	}
	if err := h.warmup(); err != nil {
		return err
	}
	ci := 0
	for round := 0; round < h.o.rounds; round++ {
		for wi, w := range h.ws {
			for _, c := range concurrencies {
				n := w.NHigh
				if c == 1 {
					n = w.NC1
				}
				var seq []cellKey
				for _, api := range []string{tGRPC, tREST} {
					for _, p := range h.procs() {
						seq = append(seq, cellKey{wi, c, api, p.name})
					}
				}
				if ci%2 == 1 {
					slices.Reverse(seq)
				}
				ci++
				for _, k := range seq {
					if err := h.runCell(r, k, n); err != nil {
						return err
					}
				}
			}
		}
		ci++ // the next round starts with the other order
	}
	if err := h.runProbe(r); err != nil {
		return err
	}
	if h.o.soak > 0 {
		if err := h.runSoak(r); err != nil {
			return err
		}
	}
	r.end, r.load1 = time.Now(), loadavg()
	md := h.report(r)
	fmt.Print(md)
	if h.o.docs != "" {
		if err := writeSection(h.o.docs, md); err != nil {
			return err
		}
		logf("wrote the bench-serve section of %s", h.o.docs)
	}
	return nil
}

func (h *harness) target(name string) *proc {
	for _, p := range h.procs() {
		if p.name == name {
			return p
		}
	}
	panic("no target " + name)
}

// procs are the targets: the baseline first, then the gokernels binaries.
func (h *harness) procs() []*proc {
	return append([]*proc{h.bare}, h.gkProcs()...)
}

func (h *harness) gkProcs() []*proc {
	return append(append([]*proc{}, h.others...), h.gk)
}

func (h *harness) load(p *proc, w *workload, api string, c, n int) (*sample, error) {
	if api == tGRPC {
		return ghzRun(p.grpcAddr, h.set, w.grpcReq, h.apiKey, c, n, 0, 0)
	}
	return vegetaRun(p.httpAddr, w.restBody, h.apiKey, c, n, 0)
}

func (h *harness) runCell(r *results, k cellKey, n int) error {
	w := h.ws[k.w]
	p := h.target(k.target)
	var prev metrics
	var err error
	if k.target != bare {
		if prev, err = p.scrape(); err != nil {
			return err
		}
	}
	cpu0 := p.cpuTime()
	s, err := h.load(p, w, k.api, k.c, n)
	if s != nil {
		s.CPU = p.cpuTime() - cpu0
	}
	if err != nil {
		return fmt.Errorf("%s %s %s c%d: %v", k.target, k.api, w.Kernel, k.c, err)
	}
	if s.Errors > 0 {
		return fmt.Errorf("%s %s %s c%d: %d of %d requests failed, e.g. %s", k.target, k.api, w.Kernel, k.c, s.Errors, s.N, s.FirstErr)
	}
	if k.target != bare {
		after, err := p.scrape()
		if err != nil {
			return err
		}
		o := r.ovh[k]
		if o == nil {
			o = &overhead{}
			r.ovh[k] = o
		}
		ex := []string{`grpc_method="Execute"`}
		kid := []string{`kernel_id="` + w.Kernel + `"`}
		o.handling += after.sum("grpc_server_handling_seconds_sum", ex...) - prev.sum("grpc_server_handling_seconds_sum", ex...)
		o.handled += after.sum("grpc_server_handling_seconds_count", ex...) - prev.sum("grpc_server_handling_seconds_count", ex...)
		o.compute += after.sum("gokernels_kernel_duration_seconds_sum", kid...) - prev.sum("gokernels_kernel_duration_seconds_sum", kid...)
		o.computed += after.sum("gokernels_kernel_duration_seconds_count", kid...) - prev.sum("gokernels_kernel_duration_seconds_count", kid...)
		o.queue += after.sum("gokernels_queue_duration_seconds_sum") - prev.sum("gokernels_queue_duration_seconds_sum")
	}
	if r.cells[k] == nil {
		r.cells[k] = &sample{}
	}
	r.cells[k].add(s)
	logf("%-9s %s %-30s c%-2d n=%-6d %8.0f req/s  p50 %-9v p99 %-9v cpu/req %-7v (load %s)", k.target, k.api, w.Kernel, k.c, n, s.rps(),
		s.pct(0.5).Round(time.Microsecond), s.pct(0.99).Round(time.Microsecond), s.cpuPerReq().Round(time.Microsecond), loadavg())
	return nil
}

// sanity checks that every target answers every workload on both APIs with
// the same scores.
func (h *harness) sanity() error {
	for _, w := range h.ws {
		var ref []float64
		for _, p := range h.procs() {
			g, err := grpcScores(p.grpcAddr, w, h.apiKey)
			if err != nil {
				return fmt.Errorf("%s gRPC %s: %v", p.name, w.Kernel, err)
			}
			rs, err := restScores(p.httpAddr, w, h.apiKey)
			if err != nil {
				return fmt.Errorf("%s REST %s: %v", p.name, w.Kernel, err)
			}
			if ref == nil {
				ref = g
			}
			if !sameScores(ref, g) || !sameScores(ref, rs) {
				return fmt.Errorf("%s %s: scores differ between targets or APIs", p.name, w.Kernel)
			}
		}
		if len(ref) != w.Nodes {
			return fmt.Errorf("%s: %d scores for %d nodes", w.Kernel, len(ref), w.Nodes)
		}
	}
	logf("sanity: both targets give the same scores on gRPC and REST")
	return nil
}

func sameScores(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12*math.Max(1, math.Abs(a[i])) {
			return false
		}
	}
	return true
}

func restScores(addr string, w *workload, apiKey string) ([]float64, error) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/execute", strings.NewReader(string(w.restBody)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var out struct {
		Output struct {
			Scores []float64 `json:"scores"`
		} `json:"output"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out.Output.Scores, nil
}

func (h *harness) warmup() error {
	for _, w := range h.ws {
		n := max(10, w.NHigh/10)
		for _, p := range h.procs() {
			for _, api := range []string{tGRPC, tREST} {
				s, err := h.load(p, w, api, 16, n)
				if err != nil {
					return err
				}
				if s.Errors > 0 {
					return fmt.Errorf("warm-up %s %s %s: %s", p.name, api, w.Kernel, s.FirstErr)
				}
			}
		}
	}
	logf("warm-up done (load %s)", loadavg())
	return nil
}

// runProbe: sequential Execute calls of the cheapest workload, alternating
// gokernels and the baseline in chunks. For each gokernels request the
// server's own log line gives its handling time, so the server-side
// overhead is that minus the compute time the response reports.
func (h *harness) runProbe(r *results) error {
	w := h.ws[0]
	chunk := max(50, h.o.probeN/4)
	for _, form := range []string{"", typedSuffix} {
		req := w.request()
		if form == typedSuffix {
			req = w.typedRequest()
		}
		for _, p := range h.procs() {
			r.probe[p.name+form] = &probeResult{}
		}
		for done := 0; done < h.o.probeN; done += chunk {
			for _, p := range h.procs() {
				pr := r.probe[p.name+form]
				if p != h.bare {
					p.startCapture()
				}
				probes, err := probeRun(p.grpcAddr, req, h.apiKey, chunk)
				if err != nil {
					if p != h.bare {
						p.stopCapture()
					}
					return err
				}
				pr.n += chunk
				if p == h.bare {
					for _, x := range probes {
						pr.gkClient = append(pr.gkClient, x.Client-x.Compute)
					}
					continue
				}
				ids := make([]string, len(probes))
				for i, x := range probes {
					ids[i] = x.RequestID
				}
				for t := 0; t < 50 && !p.captured(ids); t++ {
					time.Sleep(20 * time.Millisecond)
				}
				logged := p.stopCapture()
				for _, x := range probes {
					pr.gkClient = append(pr.gkClient, x.Client-x.Compute)
					if d, ok := logged[x.RequestID]; ok {
						pr.gkServer = append(pr.gkServer, time.Duration(d)-x.Compute)
					}
				}
			}
		}
		for _, p := range h.procs() {
			pr := r.probe[p.name+form]
			logf("probe %-9s %-6s: server-side p50 %v, client-side p50 %v", p.name, form, median(pr.gkServer), median(pr.gkClient))
		}
	}
	return nil
}

// typedSuffix marks the probe results of typed_input requests.
const typedSuffix = "/typed"

// runSoak runs the cheapest gRPC workload at 80% of the maximum throughput
// measured above (concurrency 64) and samples the gokernels process's RSS
// every second; afterwards it waits for go_goroutines to return to its
// value before the soak.
func (h *harness) runSoak(r *results) error {
	w := h.ws[0]
	max := r.cells[cellKey{0, 64, tGRPC, gk}].rps()
	s := &soakResult{rate: 0.8 * max, warm: 10}
	if h.o.soak < 20*time.Second {
		s.warm = int(h.o.soak / (4 * time.Second))
	}
	// Baseline: the idle server, once the goroutine count has settled
	// (connections of the runs above are closed).
	prev := -1.0
	for i := 0; i < 20; i++ {
		time.Sleep(500 * time.Millisecond)
		m, err := h.gk.scrape()
		if err != nil {
			return err
		}
		s.g0 = m["go_goroutines"]
		if s.g0 == prev {
			break
		}
		prev = s.g0
	}
	done := make(chan struct{})
	sampled := make(chan struct{})
	pid := h.gk.cmd.Process.Pid
	go func() {
		defer close(sampled)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if kb, err := rssKB(pid); err == nil {
					s.rss = append(s.rss, kb)
				}
			}
		}
	}()
	logf("soak: %v at %.0f req/s (80%% of %.0f), goroutines before %.0f", h.o.soak, s.rate, max, s.g0)
	res, err := ghzRun(h.gk.grpcAddr, h.set, w.grpcReq, h.apiKey, 64, 0, int(s.rate), h.o.soak)
	close(done)
	<-sampled
	if err != nil {
		return err
	}
	s.requests, s.errors, s.firstErr = res.N, res.Errors, res.FirstErr
	s.achieved = float64(res.N) / res.Wall.Seconds()
	t0 := time.Now()
	for {
		m, err := h.gk.scrape()
		if err != nil {
			return err
		}
		s.gAfter = m["go_goroutines"]
		s.gWait = time.Since(t0)
		if s.gAfter <= s.g0 || s.gWait > 30*time.Second {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.soak = s
	logf("soak: %d requests (%d errors) at %.0f req/s; RSS %v kB; goroutines %.0f -> %.0f after %v",
		s.requests, s.errors, s.achieved, s.rss, s.g0, s.gAfter, s.gWait.Round(100*time.Millisecond))
	return nil
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// runProfile writes CPU and allocation profiles of gokernels under gRPC and
// REST load of the cheapest workload (concurrency 16).
func (h *harness) runProfile() error {
	if err := os.MkdirAll(h.o.profile, 0o755); err != nil {
		return err
	}
	if err := h.warmup(); err != nil {
		return err
	}
	get := func(path, file string) error {
		resp, err := http.Get("http://" + h.pprofAddr + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		f, err := os.Create(filepath.Join(h.o.profile, file))
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(f, resp.Body)
		return err
	}
	w := h.ws[0]
	for _, api := range []string{tGRPC, tREST} {
		name := strings.ToLower(api)
		if err := get("/debug/pprof/allocs", "allocs-"+name+"-before.pb.gz"); err != nil {
			return err
		}
		type out struct {
			s   *sample
			err error
		}
		ch := make(chan out, 1)
		go func() {
			var o out
			if api == tGRPC {
				o.s, o.err = ghzRun(h.gk.grpcAddr, h.set, w.grpcReq, h.apiKey, 16, 0, 0, 14*time.Second)
			} else {
				o.s, o.err = vegetaRun(h.gk.httpAddr, w.restBody, h.apiKey, 16, 0, 14*time.Second)
			}
			ch <- o
		}()
		time.Sleep(2 * time.Second)
		if err := get("/debug/pprof/profile?seconds=10", "cpu-"+name+".pb.gz"); err != nil {
			return err
		}
		o := <-ch
		if o.err != nil {
			return o.err
		}
		if err := get("/debug/pprof/allocs", "allocs-"+name+"-after.pb.gz"); err != nil {
			return err
		}
		logf("profiled %s: %.0f req/s, %d errors", api, o.s.rps(), o.s.Errors)
	}
	fmt.Printf("profiles in %s; e.g.\n  go tool pprof -top %s/cpu-grpc.pb.gz\n  go tool pprof -top -sample_index=alloc_space -base %s/allocs-grpc-before.pb.gz %s/allocs-grpc-after.pb.gz\n",
		h.o.profile, h.o.profile, h.o.profile, h.o.profile)
	return nil
}
