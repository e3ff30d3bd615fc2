package server_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"

	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

// slowGraph is a random graph whose betweenness takes seconds here.
func slowGraph(n, m int) string {
	rng := rand.New(rand.NewSource(11))
	var b strings.Builder
	fmt.Fprintf(&b, `{"num_nodes": %d, "edges": [`, n)
	for i := 0; i < m; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%d,%d]", rng.Intn(n), rng.Intn(n))
	}
	b.WriteString("]}")
	return b.String()
}

// TestDeadlineStopsTheKernel: betweenness on a graph that takes seconds, with
// a 100 ms deadline, answers DEADLINE_EXCEEDED and frees the only worker: the
// next request starts within 200 ms of the deadline. The same holds when the
// client disconnects instead.
func TestDeadlineStopsTheKernel(t *testing.T) {
	_, transports := startDefault(t, map[string]string{"GOKERNELS_MAX_CONCURRENCY": "1"})
	big := execBody("graph/betweenness-centrality", slowGraph(4000, 20000))
	small := execBody("graph/density", `{"num_nodes": 3, "edges": [[0, 1]]}`)
	for _, tr := range transports {
		t.Run(tr.Name()+"/deadline", func(t *testing.T) {
			start := time.Now()
			r := tr.Call(context.Background(), "POST", "/execute", big, map[string]string{"Grpc-Timeout": "100m"})
			if r.Code != codes.DeadlineExceeded {
				t.Fatalf("code %v (%s), want DEADLINE_EXCEEDED", r.Code, r.Message)
			}
			expired := start.Add(100 * time.Millisecond)
			r = tr.Call(context.Background(), "POST", "/execute", small, nil)
			if r.Code != codes.OK {
				t.Fatalf("next request: %v %s", r.Code, r.Message)
			}
			// The next request was admitted without waiting for the old kernel.
			if q := queueUS(r); q > 200_000 {
				t.Errorf("next request queued %.0f µs behind the cancelled kernel", q)
			}
			late := time.Since(expired)
			t.Logf("deadline answered and the next request done %s after the 100 ms deadline (next request queued %.0f µs)", late.Round(time.Millisecond), queueUS(r))
			if late > 2*time.Second {
				t.Errorf("deadline answer and next request took %s past the deadline", late)
			}
		})
		t.Run(tr.Name()+"/disconnect", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			go func() { time.Sleep(100 * time.Millisecond); cancel() }()
			tr.Call(ctx, "POST", "/execute", big, nil)
			// The worker must be free again shortly after the disconnect.
			cancelled := time.Now()
			r := tr.Call(context.Background(), "POST", "/execute", small, nil)
			if r.Code != codes.OK {
				t.Fatalf("next request: %v %s", r.Code, r.Message)
			}
			if q := queueUS(r); q > 200_000 {
				t.Errorf("next request queued %.0f µs after the disconnect", q)
			}
			if d := time.Since(cancelled); d > 2*time.Second {
				t.Errorf("next request took %s after the disconnect", d)
			}
		})
	}
}

// TestDefaultAndMaxTimeout: the server's default deadline applies when the
// client sets none, and a client deadline above the cap is cut to the cap.
func TestDefaultAndMaxTimeout(t *testing.T) {
	_, transports := startDefault(t, map[string]string{"GOKERNELS_DEFAULT_TIMEOUT": "150ms", "GOKERNELS_MAX_TIMEOUT": "300ms"})
	for _, tr := range transports {
		r := tr.Call(context.Background(), "POST", "/execute", execBody(testkernels.Echo, `{"sleep_ms": 5000}`), nil)
		if r.Code != codes.DeadlineExceeded {
			t.Errorf("%s default: %v", tr.Name(), r.Code)
		}
		start := time.Now()
		r = tr.Call(context.Background(), "POST", "/execute", execBody(testkernels.Echo, `{"sleep_ms": 5000}`), map[string]string{"Grpc-Timeout": "10S"})
		if r.Code != codes.DeadlineExceeded || time.Since(start) > 2*time.Second {
			t.Errorf("%s cap: %v after %s", tr.Name(), r.Code, time.Since(start))
		}
	}
}

// TestQueueFullAnswersAtOnce: with one worker and a queue of one, a third
// concurrent request is refused immediately with 429 and Retry-After.
func TestQueueFullAnswersAtOnce(t *testing.T) {
	_, transports := startDefault(t, map[string]string{"GOKERNELS_MAX_CONCURRENCY": "1", "GOKERNELS_MAX_QUEUE": "1"})
	for _, tr := range transports {
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr.Call(context.Background(), "POST", "/execute", execBody(testkernels.Echo, `{"sleep_ms": 600}`), nil)
			}()
		}
		time.Sleep(150 * time.Millisecond)
		start := time.Now()
		r := tr.Call(context.Background(), "POST", "/execute", execBody(testkernels.Echo, `{}`), nil)
		if r.Code != codes.ResourceExhausted || r.Reason != "QUEUE_FULL" {
			t.Errorf("%s: %v %q", tr.Name(), r.Code, r.Reason)
		}
		if tr.Name() == "rest" && (r.HTTPStatus != 429 || r.RetryAfter == "") {
			t.Errorf("rest: HTTP %d Retry-After %q", r.HTTPStatus, r.RetryAfter)
		}
		if d := time.Since(start); d > 300*time.Millisecond {
			t.Errorf("%s: refusal took %s", tr.Name(), d)
		}
		wg.Wait()
	}
}

// TestRequestSizeLimit: REST answers 413, gRPC RESOURCE_EXHAUSTED.
func TestRequestSizeLimit(t *testing.T) {
	srv, transports := startDefault(t, map[string]string{"GOKERNELS_MAX_REQUEST_BYTES": "4096"})
	big := execBody(testkernels.Echo, `{"rows": [[`+strings.Repeat("1,", 3000)+`1]]}`)
	for _, tr := range transports {
		r := tr.Call(context.Background(), "POST", "/execute", big, nil)
		if tr.Name() == "rest" {
			if r.HTTPStatus != http.StatusRequestEntityTooLarge {
				t.Errorf("rest: HTTP %d, want 413", r.HTTPStatus)
			}
			continue
		}
		if r.Code != codes.ResourceExhausted {
			t.Errorf("%s: %v, want RESOURCE_EXHAUSTED", tr.Name(), r.Code)
		}
	}
	// Chunked body without Content-Length: still 413.
	req, _ := http.NewRequest("POST", "http://"+srv.HTTPAddr()+"/execute", struct{ *bytes.Reader }{bytes.NewReader(big)})
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: HTTP %d, want 413", resp.StatusCode)
	}
	// Both REST refusals are counted.
	if n := testutil.ToFloat64(rejectedCounter(t, srv, "too_large")); n != 2 {
		t.Errorf("gokernels_rejected_total{reason=too_large} = %v, want 2", n)
	}
}

// TestRateLimitFlood sends 10× the configured rate from many goroutines for
// two seconds: the accepted count matches the bucket within 10%, every
// accepted answer is correct, every rejection is 429/RESOURCE_EXHAUSTED with
// Retry-After, and no goroutines leak.
func TestRateLimitFlood(t *testing.T) {
	const rps, burst = 50, 10
	_, transports := startDefault(t, map[string]string{
		"GOKERNELS_RATE_LIMIT_RPS": fmt.Sprint(rps), "GOKERNELS_RATE_LIMIT_BURST": fmt.Sprint(burst),
	})
	// Warm up every transport at the flood's concurrency so that connection
	// goroutines exist before the baseline is taken.
	var warm sync.WaitGroup
	for w := 0; w < 16; w++ {
		warm.Add(1)
		go func() {
			defer warm.Done()
			transports[w%len(transports)].Call(context.Background(), "GET", "/health/live", nil, nil)
		}()
	}
	warm.Wait()
	time.Sleep(1100 * time.Millisecond) // refill the bucket
	before := runtime.NumGoroutine()
	const window = 2 * time.Second
	var accepted, rejected, wrong atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		tr := transports[w%len(transports)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second / (10 * rps / 16))
			defer tick.Stop()
			for time.Since(start) < window {
				<-tick.C
				r := tr.Call(context.Background(), "POST", "/execute", execBody(testkernels.Echo, `{"count": 7}`), nil)
				switch {
				case r.Code == codes.OK && r.Output["count"] == 7.0:
					accepted.Add(1)
				case r.Code == codes.ResourceExhausted && r.RetryAfter != "" && (tr.Name() != "rest" || r.HTTPStatus == 429):
					rejected.Add(1)
				default:
					wrong.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	want := float64(burst) + rps*elapsed
	got := float64(accepted.Load())
	t.Logf("flood: %d accepted (bucket allows %.0f), %d rejected, %d wrong in %.2fs", accepted.Load(), want, rejected.Load(), wrong.Load(), elapsed)
	if got > want*1.1 || got < want*0.9 {
		t.Errorf("accepted %v, bucket allows %.0f (±10%%)", got, want)
	}
	if wrong.Load() != 0 {
		t.Errorf("%d answers were neither correct nor a proper 429", wrong.Load())
	}
	if rejected.Load() < int64(got) {
		t.Errorf("only %d rejections at 10× the rate", rejected.Load())
	}
	// Goroutines return to (about) the baseline once the flood is over.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+5 {
		t.Errorf("goroutines: %d after the flood, %d before", n, before)
	}
}

// TestPerClientRateLimit: behind a trusted proxy (here the test itself, on
// loopback), one tenant's flood does not consume another's bucket.
func TestPerClientRateLimit(t *testing.T) {
	_, transports := startDefault(t, map[string]string{
		"GOKERNELS_CLIENT_RATE_LIMIT_RPS": "1", "GOKERNELS_CLIENT_RATE_LIMIT_BURST": "3",
		"GOKERNELS_TRUSTED_PROXIES": "127.0.0.1/32",
	})
	for _, tr := range transports {
		tenant := "t-" + tr.Name()
		ok := 0
		for i := 0; i < 6; i++ {
			if r := tr.Call(context.Background(), "POST", "/execute", execBody(testkernels.Echo, `{}`), map[string]string{"X-Tenant-ID": tenant}); r.Code == codes.OK {
				ok++
			}
		}
		if ok != 3 {
			t.Errorf("%s: %d of 6 accepted for one tenant with burst 3", tr.Name(), ok)
		}
		if r := tr.Call(context.Background(), "POST", "/execute", execBody(testkernels.Echo, `{}`), map[string]string{"X-Tenant-ID": tenant + "-other"}); r.Code != codes.OK {
			t.Errorf("%s: another tenant was limited: %v", tr.Name(), r.Code)
		}
	}
}

// TestCORS: allowed origins get the CORS headers, others do not.
func TestCORS(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(t, map[string]string{"GOKERNELS_CORS_ORIGINS": "https://app.example"}), testRegistry(t), serverOptions())
	for origin, allowed := range map[string]bool{"https://app.example": true, "https://evil.example": false} {
		req, _ := http.NewRequest("OPTIONS", "http://"+srv.HTTPAddr()+"/execute", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if allowed && got != origin || !allowed && got != "" {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q", origin, got)
		}
	}
}

// TestHTTPPrefix: REST moves under the prefix.
func TestHTTPPrefix(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(t, map[string]string{"GOKERNELS_HTTP_PREFIX": "/api/v1"}), testRegistry(t), serverOptions())
	if s := statusOf(t, "http://"+srv.HTTPAddr()+"/api/v1/health/live"); s != 200 {
		t.Errorf("prefixed: %d", s)
	}
	if s := statusOf(t, "http://"+srv.HTTPAddr()+"/health/live"); s != 404 {
		t.Errorf("unprefixed: %d, want 404", s)
	}
}

// rejectedCounter reads gokernels_rejected_total{reason} from the server's registry.
func rejectedCounter(t *testing.T, srv *server.Server, reason string) prometheus.Collector {
	t.Helper()
	families, err := srv.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "gokernels_rejected_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x", Help: "x"})
					c.Add(m.GetCounter().GetValue())
					return c
				}
			}
		}
	}
	t.Fatalf("no gokernels_rejected_total{reason=%q}", reason)
	return nil
}

func statusOf(t *testing.T, url string) int {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// queueUS reads metadata.queue_us (absent when zero in gRPC's JSON form).
func queueUS(r servertest.Result) float64 {
	md, _ := r.Body["metadata"].(map[string]any)
	q, _ := md["queue_us"].(float64)
	return q
}
