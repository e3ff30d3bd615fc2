package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

// testRegistry is the full catalog plus the test-only kernels.
func testRegistry(t testing.TB) *registry.Registry {
	t.Helper()
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := testkernels.Register(reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

func startDefault(t *testing.T, env map[string]string) (*server.Server, []servertest.Transport) {
	srv := servertest.Start(t, servertest.Config(t, env), testRegistry(t), server.Options{})
	return srv, servertest.Transports(t, srv)
}

func execBody(kernel, input string) []byte {
	return []byte(fmt.Sprintf(`{"kernel_id": %q, "input": %s}`, kernel, input))
}

// want describes the expected outcome of one call on every transport.
type want struct {
	code   codes.Code
	http   int
	fields []string // field violations that must be present
	reason string
	check  func(t *testing.T, r servertest.Result)
}

func TestTransportTable(t *testing.T) {
	_, transports := startDefault(t, nil)
	cases := []struct {
		name   string
		method string
		path   string
		body   []byte
		md     map[string]string
		want   want
	}{
		{name: "list", method: "GET", path: "/kernels?page_size=500", want: want{code: codes.OK, http: 200, check: func(t *testing.T, r servertest.Result) {
			ks, _ := r.Body["kernels"].([]any)
			if len(ks) < 2 || r.Body["total_count"].(float64) != float64(len(ks)) {
				t.Errorf("list: %d kernels, total_count %v", len(ks), r.Body["total_count"])
			}
		}}},
		{name: "list paged and filtered", method: "GET", path: "/kernels?domain=core&page_size=1", want: want{code: codes.OK, http: 200, check: func(t *testing.T, r servertest.Result) {
			ks, _ := r.Body["kernels"].([]any)
			if len(ks) != 1 || r.Body["total_count"].(float64) != 2 || r.Body["next_page_token"] == "" {
				t.Errorf("paged list: %v", r.Body)
			}
		}}},
		{name: "list bad mode", method: "GET", path: "/kernels?mode=sometimes", want: want{code: codes.InvalidArgument, http: 400, fields: []string{"mode"}}},
		{name: "info", method: "GET", path: "/kernels/testing/echo", want: want{code: codes.OK, http: 200, check: func(t *testing.T, r servertest.Result) {
			if r.Body["input_type"] != "gokernels.testing.v1.EchoInput" || r.Body["id"] != "testing/echo" {
				t.Errorf("info: %v", r.Body)
			}
		}}},
		{name: "info unknown", method: "GET", path: "/kernels/graph/nope", want: want{code: codes.NotFound, http: 404}},
		{name: "execute echo", method: "POST", path: "/execute",
			body: execBody(testkernels.Echo, `{"count": 2, "pairs": [[1, 0.5]], "rows": [[1, 2]], "weights": {"a": 1}}`),
			want: want{code: codes.OK, http: 200, check: func(t *testing.T, r servertest.Result) {
				b, _ := json.Marshal(r.Output)
				for _, s := range []string{`"pairs":[[1,0.5]]`, `"rows":[[1,2]]`, `"count":2`, `"not_a_number":"NaN"`} {
					if !strings.Contains(string(b), s) {
						t.Errorf("output %s lacks %s", b, s)
					}
				}
				md, _ := r.Body["metadata"].(map[string]any)
				if md["backend"] != "CPU" || r.Body["request_id"] == "" || r.Body["kernel_id"] != testkernels.Echo {
					t.Errorf("response envelope: %v", r.Body)
				}
			}}},
		{name: "request id echoed", method: "POST", path: "/execute", body: execBody(testkernels.Echo, `{}`),
			md: map[string]string{"X-Request-ID": "abc-123"},
			want: want{code: codes.OK, http: 200, check: func(t *testing.T, r servertest.Result) {
				if r.Body["request_id"] != "abc-123" || r.Header["x-request-id"] != "abc-123" {
					t.Errorf("request id: body %v header %v", r.Body["request_id"], r.Header["x-request-id"])
				}
			}}},
		{name: "unknown kernel", method: "POST", path: "/execute", body: execBody("graph/nope", `{}`), want: want{code: codes.NotFound, http: 404}},
		{name: "ring only", method: "POST", path: "/execute", body: execBody(testkernels.Ring, `{}`),
			want: want{code: codes.Unimplemented, http: 422, reason: "RING_KERNEL", check: func(t *testing.T, r servertest.Result) {
				if !strings.Contains(r.Message, "RingService") || !strings.Contains(r.Message, "POST /rings") {
					t.Errorf("no guidance in %q", r.Message)
				}
			}}},
		{name: "unknown input field", method: "POST", path: "/execute", body: execBody(testkernels.Echo, `{"nope": 1}`),
			want: want{code: codes.InvalidArgument, http: 400, fields: []string{"input.nope"}}},
		{name: "bad tuple", method: "POST", path: "/execute", body: execBody(testkernels.Echo, `{"pairs": [[1, 2, 3]]}`),
			want: want{code: codes.InvalidArgument, http: 400, fields: []string{"input.pairs[0]"}}},
		{name: "protovalidate rule", method: "POST", path: "/execute", body: execBody(testkernels.Echo, `{"count": 5000}`),
			want: want{code: codes.InvalidArgument, http: 400, fields: []string{"input.count"}}},
		{name: "kernel field error", method: "POST", path: "/execute", body: execBody(testkernels.Echo, `{"mode": "exact"}`),
			want: want{code: codes.InvalidArgument, http: 400, fields: []string{"input.count"}}},
		{name: "missing input", method: "POST", path: "/execute", body: []byte(`{"kernel_id": "testing/echo"}`),
			want: want{code: codes.InvalidArgument, http: 400, fields: []string{"input"}}},
		{name: "missing kernel id", method: "POST", path: "/execute", body: []byte(`{"input": {}}`),
			want: want{code: codes.InvalidArgument, http: 400, fields: []string{"kernel_id"}}},
		{name: "bad backend", method: "POST", path: "/execute", body: []byte(`{"kernel_id": "testing/echo", "input": {}, "metadata": {"backend": "TPU"}}`),
			want: want{code: codes.InvalidArgument, http: 400, fields: []string{"metadata.backend"}}},
		{name: "cuda demanded", method: "POST", path: "/execute", body: []byte(`{"kernel_id": "testing/echo", "input": {}, "metadata": {"backend": "CUDA"}}`),
			want: want{code: codes.FailedPrecondition, http: 400, reason: "GPU_UNAVAILABLE"}},
		{name: "panic", method: "POST", path: "/execute", body: execBody(testkernels.Echo, `{"panic": true}`),
			want: want{code: codes.Internal, http: 500, check: func(t *testing.T, r servertest.Result) {
				if r.Message != "internal error" {
					t.Errorf("panic leaked %q", r.Message)
				}
			}}},
		{name: "client deadline", method: "POST", path: "/execute", body: execBody(testkernels.Echo, `{"sleep_ms": 3000}`),
			md: map[string]string{"Grpc-Timeout": "100m"}, want: want{code: codes.DeadlineExceeded, http: 504}},
		{name: "timeout_ms", method: "POST", path: "/execute",
			body: []byte(`{"kernel_id": "testing/echo", "input": {"sleep_ms": 3000}, "metadata": {"timeout_ms": 100}}`),
			want: want{code: codes.DeadlineExceeded, http: 504}},
		{name: "health", method: "GET", path: "/health", want: want{code: codes.OK, http: 200, check: func(t *testing.T, r servertest.Result) {
			comps, _ := r.Body["components"].(map[string]any)
			reg, _ := comps["registry"].(map[string]any)
			if r.Body["status"] != "healthy" || reg["kernel_count"].(float64) < 2 {
				t.Errorf("health: %v", r.Body)
			}
		}}},
		{name: "ready", method: "GET", path: "/health/ready", want: want{code: codes.OK, http: 200}},
		{name: "live", method: "GET", path: "/health/live", want: want{code: codes.OK, http: 200}},
	}
	for _, tr := range transports {
		for _, c := range cases {
			t.Run(tr.Name()+"/"+c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				start := time.Now()
				r := tr.Call(ctx, c.method, c.path, c.body, c.md)
				if r.Code != c.want.code {
					t.Fatalf("code %v (%q), want %v", r.Code, r.Message, c.want.code)
				}
				if tr.Name() == "rest" && r.HTTPStatus != c.want.http {
					t.Fatalf("HTTP %d, want %d", r.HTTPStatus, c.want.http)
				}
				for _, f := range c.want.fields {
					if !slices.Contains(r.Fields, f) {
						t.Errorf("field violations %v lack %q (message %q)", r.Fields, f, r.Message)
					}
				}
				if c.want.reason != "" && r.Reason != c.want.reason {
					t.Errorf("reason %q, want %q", r.Reason, c.want.reason)
				}
				if c.want.check != nil {
					c.want.check(t, r)
				}
				if c.want.code == codes.DeadlineExceeded && time.Since(start) > 2*time.Second {
					t.Errorf("deadline answer took %s", time.Since(start))
				}
			})
		}
	}
}

// TestFixtures runs every committed reference fixture over every transport.
func TestFixtures(t *testing.T) {
	files, err := fixture.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	_, transports := startDefault(t, nil)
	reg := testRegistry(t)
	for _, f := range files {
		if _, ok := reg.Get(f.KernelID); !ok {
			t.Errorf("%s: kernel %s is not registered", f.Path, f.KernelID)
			continue
		}
		for _, c := range f.Cases {
			if c.Slow && testing.Short() {
				continue
			}
			for _, tr := range transports {
				// Each case runs through Execute and through the kernel's
				// typed RPC / REST route (POST /kernels/{id}:execute), whose
				// body is the input itself and whose field paths have no
				// "input." prefix.
				for _, typed := range []bool{false, true} {
					name, path, body, prefix := "execute", "/execute", execBody(f.KernelID, string(c.Input)), "input."
					if typed {
						name, path, body, prefix = "typed", "/kernels/"+f.KernelID+":execute", c.Input, ""
					}
					t.Run(f.KernelID+"/"+c.Name+"/"+tr.Name()+"/"+name, func(t *testing.T) {
						ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
						defer cancel()
						r := tr.Call(ctx, "POST", path, body, nil)
						if c.ErrorField != "" {
							want := prefix + c.ErrorField
							if r.Code != codes.InvalidArgument || !slices.Contains(r.Fields, want) {
								t.Fatalf("got %v %v (%q), want INVALID_ARGUMENT naming %s", r.Code, r.Fields, r.Message, want)
							}
							return
						}
						if r.Code != codes.OK {
							t.Fatalf("code %v: %s", r.Code, r.Message)
						}
						if err := c.Check(r.Output); err != nil {
							t.Fatal(err)
						}
					})
				}
			}
		}
	}
}

func TestReflectionAndStandardHealth(t *testing.T) {
	srv, _ := startDefault(t, nil)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	hr, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("grpc.health.v1: %v %v", hr, err)
	}
	hr, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "gokernels.v1.KernelService"})
	if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("grpc.health.v1 KernelService: %v %v", hr, err)
	}

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"gokernels.v1.KernelService", "gokernels.v1.HealthService", "gokernels.v1.MetricsService", "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}
}

// TestPanicDoesNotReduceCapacity: after a kernel panics, all workers still
// serve (the panic released its slot).
func TestPanicDoesNotReduceCapacity(t *testing.T) {
	_, transports := startDefault(t, map[string]string{"GOKERNELS_MAX_CONCURRENCY": "1", "GOKERNELS_MAX_QUEUE": "0"})
	tr := transports[0]
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if r := tr.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"panic": true}`), nil); r.Code != codes.Internal {
			t.Fatalf("panic call %d: %v", i, r.Code)
		}
	}
	if r := tr.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"count": 1}`), nil); r.Code != codes.OK {
		t.Fatalf("after panics the single worker is gone: %v %s", r.Code, r.Message)
	}
}

// TestExecuteRunsThroughThePool: Execute and the typed RPCs, on every
// transport, are admitted by the server's pool.Pool (one admission for the
// embeddable pool and the server): its counters see every call, its panic
// count the panics, and its slots and mailbox are the configured ones.
func TestExecuteRunsThroughThePool(t *testing.T) {
	srv, transports := startDefault(t, map[string]string{"GOKERNELS_MAX_CONCURRENCY": "3", "GOKERNELS_MAX_QUEUE": "7"})
	p := srv.Pool()
	if st := p.Stats(); st.Workers != 3 || st.MailboxCapacity != 7 || st.Submitted != 0 {
		t.Fatalf("pool before any call: %+v", st)
	}
	ctx := context.Background()
	typed := []byte(`{"num_nodes": 3, "edges": [[0, 1], [1, 2]]}`)
	for _, tr := range transports {
		if r := tr.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"count": 1}`), nil); r.Code != codes.OK {
			t.Fatalf("%s: execute %v %s", tr.Name(), r.Code, r.Message)
		}
		if r := tr.Call(ctx, "POST", "/kernels/graph/degree-centrality:execute", typed, nil); r.Code != codes.OK {
			t.Fatalf("%s: typed %v %s", tr.Name(), r.Code, r.Message)
		}
		if r := tr.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"panic": true}`), nil); r.Code != codes.Internal {
			t.Fatalf("%s: panic %v", tr.Name(), r.Code)
		}
	}
	n := int64(len(transports))
	st := p.Stats()
	if st.Submitted != 3*n || st.Succeeded != 2*n || st.Failed != n || st.Panics != n || st.Running != 0 {
		t.Fatalf("after %d transports × (execute, typed, panic): %+v", n, st)
	}
}

func serverOptions() server.Options { return server.Options{} }
