package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

const (
	startMarker = "<!-- bench-serve:start -->"
	endMarker   = "<!-- bench-serve:end -->"
	notesMarker = "<!-- bench-serve:notes -->"
)

func us(d time.Duration) string {
	return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond))
}

func lat(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	if d >= time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func pctStr(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

func metStr(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

func gitRev() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func (h *harness) report(r *results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## Serving overhead\n\n")
	p("Issue 10. Command: `make bench-serve` (harness in `bench/`, a separate Go module; it prints this section and rewrites it here; `BENCH_SERVE_FLAGS=` only prints).\n")
	p("Run %s, revision %s, on %s; load average %s before and %s after (the cores are shared with other jobs); %d interleaved rounds (gokernels and the baseline alternate, order reversed every cell), %s in all.\n\n",
		r.start.Format("2006-01-02 15:04 MST"), gitRev(), machine(), r.load0, r.load1, h.o.rounds, r.end.Sub(r.start).Round(time.Second))
	p("- **gokernels**: `bin/gokernels serve`, production preset: API-key auth (executor key), rate limits on (10⁷/s, never hit), Prometheus metrics, OpenTelemetry tracing with no exporter, one JSON log line per request to a pipe; the whole interceptor chain.\n")
	p("- **bare**: one process with a plain `grpc.NewServer()` (no interceptors, no stats handler) implementing `KernelService/Execute` with the same decode (`jsoninput.FromStruct`), the registry kernel's `RunCPU` and the same `jsoninput.ToStruct` output, and a `net/http` handler doing `encoding/json` in, the kernel, `encoding/json` out.\n")
	p("- **load**: ghz v0.120.0 (library; `Execute` with the input as a `google.protobuf.Struct`, c workers on one connection) and vegeta v12.13.0 (library; `POST /execute`, c workers on c keep-alive connections), closed loop, fixed request count, 127.0.0.1.\n")
	p("- **ratios** are gokernels ÷ bare from the same rounds: req/s higher is better, latency lower is better. " +
		"*Server CPU µs/req* is the server process's user+system CPU time (`/proc/PID/stat`) during its runs divided by its requests: " +
		"unlike req/s it hardly depends on what else the shared cores run, so it is the steadier comparison.\n\n")

	p("| Kernel | API | c | requests | gokernels req/s | bare req/s | **req/s ratio** | p50 gokernels / bare | p50 ratio | p99 gokernels / bare | p99 ratio | server CPU µs/req gokernels / bare | server overhead µs |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for wi, w := range h.ws {
		for _, api := range []string{tGRPC, tREST} {
			for _, c := range concurrencies {
				g, bs := r.cells[cellKey{wi, c, api, gk}], r.cells[cellKey{wi, c, api, bare}]
				if g == nil || bs == nil {
					continue
				}
				ov := r.ovh[cellKey{wi, c, api, gk}].perRequest()
				p("| %s | %s | %d | %d | %.0f | %.0f | **%s** | %s / %s | %.2f | %s / %s | %.2f | %s / %s | %s |\n",
					w.Name, api, c, g.N, g.rps(), bs.rps(), pctStr(g.rps()/bs.rps()),
					lat(g.pct(0.5)), lat(bs.pct(0.5)), float64(g.pct(0.5))/float64(bs.pct(0.5)),
					lat(g.pct(0.99)), lat(bs.pct(0.99)), float64(g.pct(0.99))/float64(bs.pct(0.99)),
					us(g.cpuPerReq()), us(bs.cpuPerReq()), us(ov))
			}
		}
	}
	p("\n*Server overhead* (last column) is the mean per request from `/metrics` read before and after each gokernels run: "+
		"Δsum/Δcount of `grpc_server_handling_seconds{grpc_method=\"Execute\"}` minus that of `gokernels_kernel_duration_seconds` (compute) "+
		"minus the mean `gokernels_queue_duration_seconds` (waiting for one of the %d execution slots, which at c16/c64 on 2 cores is waiting for a CPU). "+
		"It covers the chain from the metrics interceptor inwards (auth, rate limit, deadline, protovalidate, decode, validation, span, output encoding); for REST "+
		"it is the gRPC part behind the gateway.\n\n", runtimeCPUs())

	pr, pb := r.probe[gk], r.probe[bare]
	p("**Overhead at concurrency 1** (%d sequential `Execute` calls per target, cheapest kernel, alternating in chunks): "+
		"gokernels' own request log gives each request's handling time (logging interceptor → handler return); minus the compute time the response reports "+
		"(`metadata.duration_us`) that is **p50 %s µs, p99 %s µs** server-side. Client round trip minus compute: gokernels p50 %s µs (p99 %s), bare grpc-go p50 %s µs (p99 %s), "+
		"so gokernels adds **%s µs at p50** end to end (transport, stats handler and the whole chain).\n\n",
		pr.n, us(median(pr.gkServer)), us(quantileD(pr.gkServer, 0.99)),
		us(median(pr.gkClient)), us(quantileD(pr.gkClient, 0.99)), us(median(pb.gkClient)), us(quantileD(pb.gkClient, 0.99)),
		us(median(pr.gkClient)-median(pb.gkClient)))

	for _, o := range h.others {
		bf := o.name
		p("**Before/after** (%s): `%s` (before) measured in the same rounds as `%s` (after), interleaved.\n\n", bf, o.bin, h.o.bin)
		p("| Kernel | API | c | before req/s | after req/s | **after ÷ before** | before ÷ bare | after ÷ bare | p50 before / after | p99 before / after | **server CPU µs/req before / after** (bare) | server overhead µs before / after |\n")
		p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for wi, w := range h.ws {
			for _, api := range []string{tGRPC, tREST} {
				for _, c := range concurrencies {
					a, b, bs := r.cells[cellKey{wi, c, api, gk}], r.cells[cellKey{wi, c, api, bf}], r.cells[cellKey{wi, c, api, bare}]
					if a == nil || b == nil || bs == nil {
						continue
					}
					p("| %s | %s | %d | %.0f | %.0f | **%.2f** | %s | %s | %s / %s | %s / %s | **%s / %s** (%s) | %s / %s |\n", w.Name, api, c, b.rps(), a.rps(), a.rps()/b.rps(),
						pctStr(b.rps()/bs.rps()), pctStr(a.rps()/bs.rps()), lat(b.pct(0.5)), lat(a.pct(0.5)), lat(b.pct(0.99)), lat(a.pct(0.99)),
						us(b.cpuPerReq()), us(a.cpuPerReq()), us(bs.cpuPerReq()),
						us(r.ovh[cellKey{wi, c, api, bf}].perRequest()), us(r.ovh[cellKey{wi, c, api, gk}].perRequest()))
				}
			}
		}
		pbf := r.probe[bf]
		p("\nConcurrency 1 probe: server-side overhead p50 before %s µs, after %s µs (p99 %s / %s); client round trip − compute p50 before %s µs, after %s µs, bare %s µs.\n\n",
			us(median(pbf.gkServer)), us(median(pr.gkServer)), us(quantileD(pbf.gkServer, 0.99)), us(quantileD(pr.gkServer, 0.99)),
			us(median(pbf.gkClient)), us(median(pr.gkClient)), us(median(pb.gkClient)))
	}

	if pt, pbt := r.probe[gk+typedSuffix], r.probe[bare+typedSuffix]; pt != nil && pbt != nil {
		p("The same probe with `typed_input` (the kernel's message as a binary `Any`, typed output back; no `google.protobuf.Struct` to decode or encode): "+
			"server-side p50 **%s µs** (p99 %s); client round trip − compute p50 gokernels %s µs, bare %s µs (+%s µs).\n\n",
			us(median(pt.gkServer)), us(quantileD(pt.gkServer, 0.99)), us(median(pt.gkClient)), us(median(pbt.gkClient)),
			us(median(pt.gkClient)-median(pbt.gkClient)))
	}

	// Targets.
	ratio := func(api string, wi, c int) float64 {
		g, bs := r.cells[cellKey{wi, c, api, gk}], r.cells[cellKey{wi, c, api, bare}]
		if g == nil || bs == nil || bs.rps() == 0 {
			return 0
		}
		return g.rps() / bs.rps()
	}
	gr, rr := ratio(tGRPC, 0, 64), ratio(tREST, 0, 64)
	p("**Targets** (issue 10, this run):\n\n")
	p("- gRPC `Execute`, cheapest kernel, c64 ≥ 60%% of bare grpc-go req/s: %s — %s (c16 %s, mid-size kernel c64 %s).\n",
		metStr(gr >= 0.6), pctStr(gr), pctStr(ratio(tGRPC, 0, 16)), pctStr(ratio(tGRPC, 1, 64)))
	p50 := median(pr.gkServer)
	p("- Server-side overhead p50 ≤ 50 µs: %s — %s µs (server log − compute, c1); %s µs added end to end over bare grpc-go.\n",
		metStr(p50 <= 50*time.Microsecond), us(p50), us(median(pr.gkClient)-median(pb.gkClient)))
	p("- REST ≥ 40%% of bare net/http req/s: %s — %s at c64 on the cheapest kernel (c16 %s, c1 %s; mid-size kernel c64 %s).\n",
		metStr(rr >= 0.4), pctStr(rr), pctStr(ratio(tREST, 0, 16)), pctStr(ratio(tREST, 0, 1)), pctStr(ratio(tREST, 1, 64)))
	if s := r.soak; s != nil && len(s.rss) > s.warm {
		post := s.rss[s.warm:]
		med := medianI(post)
		lo, hi := slices.Min(post), slices.Max(post)
		flat := float64(hi) <= 1.1*float64(med) && float64(lo) >= 0.9*float64(med)
		back := s.gAfter <= s.g0
		p("- Memory soak, %v of gRPC `Execute` (cheapest kernel, 64 workers) at 80%% of the c64 maximum, %.0f req/s asked, %.0f achieved, %d requests, %d errors: "+
			"RSS after the first %d s %s — median %.1f MiB, min %.1f (%+.1f%%), max %.1f (%+.1f%%), first %.1f → last %.1f MiB; "+
			"goroutines %s — %.0f before, %.0f %v after the load stopped.\n",
			h.o.soak, s.rate, s.achieved, s.requests, s.errors, s.warm, metStr(flat),
			mib(med), mib(lo), 100*(float64(lo)/float64(med)-1), mib(hi), 100*(float64(hi)/float64(med)-1), mib(post[0]), mib(post[len(post)-1]),
			metStr(back), s.g0, s.gAfter, s.gWait.Round(100*time.Millisecond))
		p("  RSS per second (MiB): %s.\n", rssList(s.rss))
		if s.errors > 0 {
			p("  Soak errors, e.g.: %s.\n", s.firstErr)
		}
	}
	return b.String()
}

func runtimeCPUs() int { return runtime.NumCPU() }

func mib(kb int64) float64 { return float64(kb) / 1024 }

func medianI(v []int64) int64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

func rssList(v []int64) string {
	parts := make([]string, len(v))
	for i, kb := range v {
		parts[i] = fmt.Sprintf("%.0f", mib(kb))
	}
	return strings.Join(parts, " ")
}

// writeSection replaces the bench-serve section of path (or appends one),
// keeping whatever follows the notes marker inside it. The file is read
// right before it is written: other sections belong to other people.
func writeSection(path, body string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	notes := ""
	before, after := s, ""
	if i := strings.Index(s, startMarker); i >= 0 {
		j := strings.Index(s[i:], endMarker)
		if j < 0 {
			return fmt.Errorf("%s: %s without %s", path, startMarker, endMarker)
		}
		section := s[i : i+j]
		if k := strings.Index(section, notesMarker); k >= 0 {
			notes = strings.TrimSpace(section[k+len(notesMarker):])
		}
		before, after = s[:i], s[i+j+len(endMarker):]
	} else if s != "" && !strings.HasSuffix(s, "\n\n") {
		before = strings.TrimRight(s, "\n") + "\n\n"
	}
	sec := startMarker + "\n" + strings.TrimSpace(body) + "\n\n" + notesMarker + "\n"
	if notes != "" {
		sec += notes + "\n"
	}
	sec += endMarker
	if after == "" {
		after = "\n"
	}
	return os.WriteFile(path, []byte(before+sec+after), 0o644)
}
