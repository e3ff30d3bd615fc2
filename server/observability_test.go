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
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/errs"
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

// testClock is a settable clock (the kernel quarantine's).
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestAPanickingKernelIsQuarantined: a panic is an INTERNAL answer to its
// own request (issue 13: a burst of them must not turn health 503); after
// GOKERNELS_QUARANTINE_AFTER panics within the window that kernel answers
// UNAVAILABLE / 503 on every transport, naming itself and when to retry
// (Retry-After, RetryInfo), while other kernels run and health stays
// SERVING; when the quarantine ends the kernel runs again. Client errors
// never count.
func TestAPanickingKernelIsQuarantined(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	srv := servertest.Start(t, servertest.Config(t, map[string]string{"GOKERNELS_QUARANTINE_AFTER": "3",
		"GOKERNELS_QUARANTINE_WINDOW": "1m", "GOKERNELS_QUARANTINE_FOR": "30s"}), testRegistry(t), server.Options{Now: clock.Now})
	transports := servertest.Transports(t, srv)
	rest := transports[2]
	ctx := context.Background()
	echo := func(input string) []byte { return execBody(testkernels.Echo, input) }
	for i := 0; i < 10; i++ {
		if r := rest.Call(ctx, "POST", "/execute", echo(`{"count": 99999}`), nil); r.Code != codes.InvalidArgument {
			t.Fatalf("client error %d: %v", i, r.Code)
		}
	}
	if r := rest.Call(ctx, "GET", "/health", nil, nil); r.HTTPStatus != 200 || r.Body["status"] != "healthy" {
		t.Fatalf("client errors affected health: %d %v", r.HTTPStatus, r.Body["status"])
	}
	if r := rest.Call(ctx, "POST", "/execute", echo(`{"count": 2}`), nil); r.Code != codes.OK {
		t.Fatalf("10 client errors quarantined the kernel: %v %s", r.Code, r.Message)
	}
	// Three panics, one per transport (they share one pool): INTERNAL each.
	for _, tr := range transports {
		if r := tr.Call(ctx, "POST", "/execute", echo(`{"panic": true}`), nil); r.Code != codes.Internal || strings.Contains(r.Message, "panic") {
			t.Fatalf("%s: panic answered %v %q, want a plain INTERNAL", tr.Name(), r.Code, r.Message)
		}
	}
	clock.Advance(10 * time.Second)
	quarantined := func(when, retryAfter string) {
		t.Helper()
		for _, tr := range transports {
			r := tr.Call(ctx, "POST", "/execute", echo(`{"count": 1}`), nil)
			if r.Code != codes.Unavailable || r.Reason != "KERNEL_QUARANTINED" || !strings.Contains(r.Message, "kernel "+testkernels.Echo+" is quarantined after 3 panics within 1m0s") {
				t.Errorf("%s %s: %v %s %q, want UNAVAILABLE KERNEL_QUARANTINED naming the kernel", tr.Name(), when, r.Code, r.Reason, r.Message)
			}
			if tr.Name() == "rest" && (r.HTTPStatus != 503 || r.RetryAfter != retryAfter) {
				t.Errorf("%s %s: HTTP %d Retry-After %q, want 503 and %s", tr.Name(), when, r.HTTPStatus, r.RetryAfter, retryAfter)
			}
		}
	}
	quarantined("10 s into the quarantine", "20")
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	in, _ := structpb.NewStruct(map[string]any{"count": 1})
	_, err = gokernelsv1.NewKernelServiceClient(conn).Execute(ctx, &gokernelsv1.ExecuteRequest{KernelId: testkernels.Echo,
		Payload: &gokernelsv1.ExecuteRequest_Input{Input: in}})
	if st := status.Convert(err); st.Code() != codes.Unavailable || errs.RetryAfter(st) != 20*time.Second || !strings.Contains(st.Message(), "retry in 20s") {
		t.Errorf("gRPC: %v %q with RetryInfo %v, want UNAVAILABLE and 20s", st.Code(), st.Message(), errs.RetryAfter(st))
	}
	// Other kernels run; health is SERVING.
	for _, tr := range transports {
		r := tr.Call(ctx, "POST", "/execute", execBody("graph/degree-centrality", `{"num_nodes": 3, "edges": [[0, 1], [1, 2]]}`), nil)
		if r.Code != codes.OK {
			t.Errorf("%s: another kernel during the quarantine: %v %s", tr.Name(), r.Code, r.Message)
		}
	}
	r := rest.Call(ctx, "GET", "/health", nil, nil)
	if r.HTTPStatus != 200 || r.Body["status"] != "healthy" {
		t.Fatalf("a quarantined kernel made health %v (HTTP %d)", r.Body["status"], r.HTTPStatus)
	}
	if exe := r.Body["components"].(map[string]any)["execution"].(map[string]any); exe["status"] != "healthy" {
		t.Errorf("execution component %v", exe)
	}
	if hr, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("grpc.health.v1: %v %v, want SERVING", hr.GetStatus(), err)
	}
	if r := rest.Call(ctx, "GET", "/health/live", nil, nil); r.HTTPStatus != 200 {
		t.Errorf("live: %d", r.HTTPStatus)
	}
	// The panics are server errors; the refusals are counted as such.
	if st := srv.Metrics().Stats.Snapshot(testkernels.Echo); len(st) != 1 || st[0].Failures["Internal"] != 3 || st[0].Failures["Unavailable"] != 4 {
		t.Errorf("stats %+v, want 3 Internal and 4 Unavailable", st)
	}
	if got := rejected(t, srv, "kernel_quarantined"); got != 4 {
		t.Errorf("gokernels_rejected_total{reason=kernel_quarantined} = %v, want 4", got)
	}

	clock.Advance(20*time.Second - time.Millisecond)
	quarantined("1 ms before its end", "1")
	clock.Advance(time.Millisecond)
	for _, tr := range transports {
		if r := tr.Call(ctx, "POST", "/execute", echo(`{"count": 3}`), nil); r.Code != codes.OK || r.Output["count"] != 3.0 {
			t.Errorf("%s: after the quarantine: %v %s %v", tr.Name(), r.Code, r.Message, r.Output)
		}
	}
	// The count starts afresh: one more panic is only its own INTERNAL.
	if r := rest.Call(ctx, "POST", "/execute", echo(`{"panic": true}`), nil); r.Code != codes.Internal {
		t.Fatalf("panic after the quarantine: %v", r.Code)
	}
	if r := rest.Call(ctx, "POST", "/execute", echo(`{"count": 1}`), nil); r.Code != codes.OK {
		t.Errorf("one panic after the quarantine: %v %s", r.Code, r.Message)
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

// rejected reads gokernels_rejected_total{reason}.
func rejected(t *testing.T, srv *server.Server, reason string) float64 {
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
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return -1
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
