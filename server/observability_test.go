package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"

	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

func TestMetricsExposition(t *testing.T) {
	srv, transports := startDefault(t, nil)
	ctx := context.Background()
	for _, tr := range transports {
		tr.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"count": 1}`), nil)
		tr.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"count": 9999}`), nil)
		tr.Call(ctx, "POST", "/execute", execBody("no/such-kernel", `{}`), nil)
	}
	problems, err := testutil.GatherAndLint(srv.Metrics().Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}

	resp, err := http.Get("http://" + srv.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	for _, name := range []string{
		"gokernels_kernel_requests_total", "gokernels_kernel_duration_seconds", "gokernels_queue_duration_seconds",
		"gokernels_inflight_requests", "gokernels_queue_depth", "gokernels_rejected_total", "gokernels_kernels_registered",
		"gokernels_build_info", "grpc_server_handled_total", "grpc_server_handling_seconds", "go_goroutines", "process_cpu_seconds_total",
	} {
		f, ok := families[name]
		if !ok {
			t.Errorf("family %s missing", name)
			continue
		}
		if f.GetHelp() == "" {
			t.Errorf("family %s has no HELP", name)
		}
	}
	// Three transports × (one OK + one INVALID_ARGUMENT) for the echo kernel;
	// the unknown kernel id never becomes a label value.
	var ok, invalid float64
	for _, m := range families["gokernels_kernel_requests_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["kernel_id"] == "no/such-kernel" {
			t.Errorf("unknown kernel id became a label value")
		}
		if labels["kernel_id"] == testkernels.Echo {
			switch labels["code"] {
			case "OK":
				ok += m.GetCounter().GetValue()
			case "InvalidArgument":
				invalid += m.GetCounter().GetValue()
			}
		}
	}
	if ok != 3 || invalid != 3 {
		t.Errorf("kernel requests: OK=%v InvalidArgument=%v, want 3 and 3", ok, invalid)
	}
}

// TestOneRESTCallIsOneTrace: a traceparent sent over REST is continued
// through the gateway into the gRPC server and the kernel span.
func TestOneRESTCallIsOneTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	srv := servertest.Start(t, servertest.Config(t, nil), testRegistry(t), server.Options{TracerProvider: tp})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("POST", "http://"+srv.HTTPAddr()+"/execute", strings.NewReader(string(execBody(testkernels.Echo, `{"count": 1}`))))
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// The REST and gRPC-client spans end after the last byte of the answer
	// has been written, so on a loaded machine they can be exported a moment
	// after the client has the answer: wait (bounded) for the chain to close.
	spans := exp.GetSpans()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !connected(spans, "00f067aa0ba902b7"); {
		time.Sleep(10 * time.Millisecond)
		spans = exp.GetSpans()
	}
	byID := map[string]tracetest.SpanStub{}
	var kernel *tracetest.SpanStub
	for i, s := range spans {
		if got := s.SpanContext.TraceID().String(); got != traceID {
			t.Errorf("span %q has trace %s, want %s", s.Name, got, traceID)
		}
		byID[s.SpanContext.SpanID().String()] = s
		if strings.HasPrefix(s.Name, "kernel ") {
			kernel = &spans[i]
		}
	}
	if kernel == nil {
		t.Fatalf("no kernel span among %d spans", len(spans))
	}
	// Walk from the kernel span up to the REST span through recorded parents.
	hops := 0
	for cur := *kernel; cur.Parent.SpanID().String() != "00f067aa0ba902b7"; hops++ {
		parent, ok := byID[cur.Parent.SpanID().String()]
		if !ok || hops > 5 {
			t.Fatalf("kernel span is not connected to the incoming traceparent (stopped at %q)", cur.Name)
		}
		cur = parent
	}
	if hops < 2 {
		t.Errorf("expected REST, gRPC client and gRPC server spans above the kernel span, got %d hops", hops)
	}
}

// TestHealthIgnoresAPanicBurst: panics are server-side failures (INTERNAL,
// counted in the metrics), but a burst of them — issue 13: ten requests
// that crashed a kernel turned /health 503 for 60 s — does not degrade
// health, which follows only a sustained rate (observe.ErrorWindow; the
// sustained case is TestErrorWindowIgnoresBursts). Client errors never count.
func TestHealthIgnoresAPanicBurst(t *testing.T) {
	srv, transports := startDefault(t, nil)
	rest := transports[2]
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		rest.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"count": 99999}`), nil)
	}
	if r := rest.Call(ctx, "GET", "/health", nil, nil); r.HTTPStatus != 200 || r.Body["status"] != "healthy" {
		t.Fatalf("client errors affected health: %d %v", r.HTTPStatus, r.Body["status"])
	}
	for i := 0; i < 12; i++ {
		if r := rest.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"panic": true}`), nil); r.Code != codes.Internal {
			t.Fatalf("panic %d answered %v, want INTERNAL", i, r.Code)
		}
	}
	r := rest.Call(ctx, "GET", "/health", nil, nil)
	if r.HTTPStatus != 200 || r.Body["status"] != "healthy" {
		t.Fatalf("a burst of 12 panics made health %v (HTTP %d)", r.Body["status"], r.HTTPStatus)
	}
	comps := r.Body["components"].(map[string]any)
	exe := comps["execution"].(map[string]any)
	if exe["status"] != "healthy" {
		t.Errorf("execution component %v", exe)
	}
	if st := srv.Metrics().Stats.Snapshot(testkernels.Echo); len(st) != 1 || st[0].Failures["Internal"] != 12 {
		t.Errorf("the 12 panics are not counted as server errors: %+v", st)
	}
	// Liveness is independent of kernel state.
	if r := rest.Call(ctx, "GET", "/health/live", nil, nil); r.HTTPStatus != 200 {
		t.Errorf("live: %d", r.HTTPStatus)
	}
}

func TestStats(t *testing.T) {
	_, transports := startDefault(t, nil)
	ctx := context.Background()
	for _, tr := range transports {
		tr.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"sleep_ms": 5}`), nil)
		tr.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"mode": "exact"}`), nil)
	}
	for _, tr := range transports {
		r := tr.Call(ctx, "GET", "/stats", nil, nil)
		if r.Code != codes.OK {
			t.Fatalf("%s: %v %s", tr.Name(), r.Code, r.Message)
		}
		ks, _ := r.Body["kernels"].([]any)
		if len(ks) != 1 {
			t.Fatalf("%s: stats for %d kernels, want 1: %v", tr.Name(), len(ks), r.Body)
		}
		k := ks[0].(map[string]any)
		fails := k["failure_count"].(map[string]any)
		if k["kernel_id"] != testkernels.Echo || k["success_count"] != "3" || fails["InvalidArgument"] != "3" {
			t.Errorf("%s: %v", tr.Name(), k)
		}
		if p50 := k["p50_ms"].(float64); p50 < 4 || p50 > 1000 {
			t.Errorf("%s: p50 %v ms for a 5 ms kernel", tr.Name(), p50)
		}
	}
}

// connected reports whether the kernel span among spans reaches the span
// root through recorded parents.
func connected(spans tracetest.SpanStubs, root string) bool {
	byID := map[string]tracetest.SpanStub{}
	var kernel *tracetest.SpanStub
	for i, s := range spans {
		byID[s.SpanContext.SpanID().String()] = s
		if strings.HasPrefix(s.Name, "kernel ") {
			kernel = &spans[i]
		}
	}
	if kernel == nil {
		return false
	}
	for cur, hops := *kernel, 0; hops <= 5; hops++ {
		if cur.Parent.SpanID().String() == root {
			return true
		}
		parent, ok := byID[cur.Parent.SpanID().String()]
		if !ok {
			return false
		}
		cur = parent
	}
	return false
}

// TestTraceIDsWithoutExport: with no OTLP endpoint no span is made, but
// every request's log line still carries a trace id, on every transport:
// the caller's (W3C traceparent) or a fresh one per request.
func TestTraceIDsWithoutExport(t *testing.T) {
	var logs syncBuffer
	srv := servertest.Start(t, servertest.Config(t, map[string]string{"GOKERNELS_LOG_LEVEL": "info"}), testRegistry(t),
		server.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	ctx := context.Background()
	for _, tr := range servertest.Transports(t, srv) {
		for i, md := range []map[string]string{
			{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"},
			{}, {},
			{"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, // invalid: a new trace
		} {
			md["x-request-id"] = fmt.Sprintf("trace-%s-%d", tr.Name(), i)
			if r := tr.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"count": 1}`), md); r.Code != codes.OK {
				t.Fatalf("%s: %v %s", tr.Name(), r.Code, r.Message)
			}
		}
	}
	traces := map[string]string{} // request id → trace id
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec struct{ Msg, RequestID, TraceID string }
		var raw map[string]any
		if json.Unmarshal([]byte(line), &raw) != nil {
			continue
		}
		rec.Msg, _ = raw["msg"].(string)
		rec.RequestID, _ = raw["request_id"].(string)
		rec.TraceID, _ = raw["trace_id"].(string)
		if rec.Msg == "request" && strings.HasPrefix(rec.RequestID, "trace-") {
			traces[rec.RequestID] = rec.TraceID
		}
	}
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for _, tr := range servertest.Transports(t, srv) {
		for i := range 4 {
			id := fmt.Sprintf("trace-%s-%d", tr.Name(), i)
			got, ok := traces[id]
			switch {
			case !ok:
				t.Errorf("%s: no request log line", id)
			case i == 0 && got != traceID:
				t.Errorf("%s: trace_id %q, want the caller's %s", id, got, traceID)
			case i > 0 && (!hex32.MatchString(got) || got == traceID || got == strings.Repeat("0", 32) || seen[got]):
				t.Errorf("%s: trace_id %q, want a fresh trace id", id, got)
			}
			seen[got] = true
		}
	}
}
