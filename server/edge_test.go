package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

// flood sends n calls as fast as it can, each with the headers hdr(i), and
// returns how many were accepted and how many the bucket could have allowed
// in the time they took (burst + rps × elapsed).
func flood(t *testing.T, tr servertest.Transport, n int, rps float64, burst int, hdr func(i int) map[string]string) (ok int, allowed float64) {
	t.Helper()
	start := time.Now()
	for i := 0; i < n; i++ {
		r := tr.Call(context.Background(), "POST", "/execute", execBody(testkernels.Echo, `{"count": 1}`), hdr(i))
		switch {
		case r.Code == codes.OK:
			ok++
		case r.Code != codes.ResourceExhausted:
			t.Fatalf("%s: call %d: %v %s", tr.Name(), i, r.Code, r.Message)
		}
	}
	return ok, float64(burst) + rps*time.Since(start).Seconds()
}

// TestRateLimitHeadersDoNotWidenTheBudget: with a 2 rps / burst 3 per-client
// limit and no authentication, a client that invents a new X-Forwarded-For
// or X-Tenant-ID on every call still gets about 3 of 20 through, on every
// transport (before the fix: 20 of 20).
func TestRateLimitHeadersDoNotWidenTheBudget(t *testing.T) {
	const rps, burst = 2, 3
	_, transports := startDefault(t, map[string]string{
		"GOKERNELS_CLIENT_RATE_LIMIT_RPS": fmt.Sprint(rps), "GOKERNELS_CLIENT_RATE_LIMIT_BURST": fmt.Sprint(burst),
	})
	tricks := map[string]func(i int) map[string]string{
		"x-forwarded-for": func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)}
		},
		"x-tenant-id": func(i int) map[string]string { return map[string]string{"X-Tenant-ID": fmt.Sprintf("tenant-%d", i)} },
		"both": func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d, 10.0.0.%d", i, i), "X-Tenant-ID": fmt.Sprintf("t%d", i)}
		},
	}
	for _, tr := range transports {
		for name, hdr := range tricks {
			// Every transport comes from 127.0.0.1, one bucket: let it refill.
			time.Sleep(time.Second * burst / rps)
			ok, allowed := flood(t, tr, 20, rps, burst, hdr)
			t.Logf("%s/%s: %d of 20 accepted (bucket allows %.1f)", tr.Name(), name, ok, allowed)
			if ok < burst || float64(ok) > allowed {
				t.Errorf("%s/%s: %d of 20 accepted, the bucket allows %.1f", tr.Name(), name, ok, allowed)
			}
		}
	}
}

// TestRateLimitKeysOnThePrincipal: with authentication, the bucket is the
// principal's; X-Tenant-ID does not widen it, and another key has its own.
func TestRateLimitKeysOnThePrincipal(t *testing.T) {
	const rps, burst = 2, 3
	keys := writeKeys(t, "exec-key-one-0123456789 executor acme\nexec-key-two-0123456789 executor acme\n")
	_, transports := startDefault(t, map[string]string{
		"GOKERNELS_CLIENT_RATE_LIMIT_RPS": fmt.Sprint(rps), "GOKERNELS_CLIENT_RATE_LIMIT_BURST": fmt.Sprint(burst),
		"GOKERNELS_AUTH": "true", "GOKERNELS_API_KEYS_FILE": keys,
	})
	for _, tr := range transports {
		time.Sleep(time.Second * burst / rps)
		ok, allowed := flood(t, tr, 20, rps, burst, func(i int) map[string]string {
			return map[string]string{"X-API-Key": "exec-key-one-0123456789", "X-Tenant-ID": fmt.Sprintf("t%d", i), "X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)}
		})
		if ok < burst || float64(ok) > allowed {
			t.Errorf("%s: %d of 20 accepted for one key, the bucket allows %.1f", tr.Name(), ok, allowed)
		}
		if r := tr.Call(context.Background(), "POST", "/execute", execBody(testkernels.Echo, `{}`), map[string]string{"X-API-Key": "exec-key-two-0123456789"}); r.Code != codes.OK {
			t.Errorf("%s: the other key was limited too: %v %s", tr.Name(), r.Code, r.Message)
		}
	}
}

// TestRateLimitMessageNamesNoInternals: the 429 says what happened and when
// to retry, not which middleware refused it.
func TestRateLimitMessageNamesNoInternals(t *testing.T) {
	_, transports := startDefault(t, map[string]string{"GOKERNELS_CLIENT_RATE_LIMIT_RPS": "0.01", "GOKERNELS_CLIENT_RATE_LIMIT_BURST": "1"})
	for _, tr := range transports {
		var r servertest.Result
		for i := 0; i < 2; i++ {
			r = tr.Call(context.Background(), "POST", "/execute", execBody(testkernels.Echo, `{}`), nil)
		}
		if r.Code != codes.ResourceExhausted || r.RetryAfter == "" || r.Reason != "RATE_LIMITED" {
			t.Errorf("%s: %v reason %q retry-after %q", tr.Name(), r.Code, r.Reason, r.RetryAfter)
		}
		for _, bad := range []string{"grpc_ratelimit", "middleware", "/gokernels.v1."} {
			if strings.Contains(r.Message, bad) {
				t.Errorf("%s: message %q exposes %q", tr.Name(), r.Message, bad)
			}
		}
		if tr.Name() == "rest" && r.HTTPStatus != 429 {
			t.Errorf("rest: HTTP %d", r.HTTPStatus)
		}
	}
}

func writeKeys(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// lastRequestID is the X-Request-Id of restDo's last answer.
var lastRequestID string

// restDo sends one REST request and returns the status, the error message
// and the BadRequest field paths.
func restDo(t *testing.T, srv *server.Server, method, path string, body []byte, hdr map[string]string) (int, string, []string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+srv.HTTPAddr()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ids := resp.Header.Values("X-Request-Id"); len(ids) != 1 {
		t.Errorf("%s %s: X-Request-Id %q, want exactly one", method, path, ids)
		lastRequestID = ""
	} else {
		lastRequestID = ids[0]
	}
	var out struct {
		Message string `json:"message"`
		Details []struct {
			FieldViolations []struct {
				Field string `json:"field"`
			} `json:"field_violations"`
		} `json:"details"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	var fields []string
	for _, d := range out.Details {
		for _, f := range d.FieldViolations {
			fields = append(fields, f.Field)
		}
	}
	return resp.StatusCode, out.Message, fields
}

// TestInvalidUTF8InPathOrQuery: a path or query parameter that is not
// UTF-8 once unescaped is a 400 naming the parameter (before: 500
// "grpc: error while marshaling: string field contains invalid UTF-8").
func TestInvalidUTF8InPathOrQuery(t *testing.T) {
	srv, _ := startDefault(t, nil)
	for path, param := range map[string]string{
		"/kernels/%ff":               "kernel_id",
		"/kernels/graph/%ff%fe":      "kernel_id",
		"/kernels?domain=%ff":        "domain",
		"/kernels?mode=%ff":          "mode",
		"/kernels?page_token=%ff":    "page_token",
		"/kernels?domain=g&mode=%c3": "mode",
	} {
		code, msg, fields := restDo(t, srv, "GET", path, nil, nil)
		if code != http.StatusBadRequest || len(fields) != 1 || fields[0] != param || !strings.Contains(msg, param) {
			t.Errorf("GET %s: HTTP %d %q fields %v, want 400 naming %s", path, code, msg, fields, param)
		}
	}
	// Valid UTF-8, percent-encoded, still works.
	if code, msg, _ := restDo(t, srv, "GET", "/kernels?domain=%C3%A9", nil, nil); code != http.StatusOK {
		t.Errorf("domain=é: HTTP %d %s", code, msg)
	}
}

// TestPageSizeAboveMaximumIsCoerced: AIP-158, page_size above 500 is read
// as 500 on every transport (before: 400); negative is still refused.
func TestPageSizeAboveMaximumIsCoerced(t *testing.T) {
	_, transports := startDefault(t, nil)
	for _, tr := range transports {
		r := tr.Call(context.Background(), "GET", "/kernels?page_size=100000", nil, nil)
		if r.Code != codes.OK {
			t.Errorf("%s: page_size=100000: %v %s", tr.Name(), r.Code, r.Message)
			continue
		}
		ks, _ := r.Body["kernels"].([]any)
		total, _ := r.Body["total_count"].(float64)
		if want := min(int(total), 500); len(ks) != want || total < 2 {
			t.Errorf("%s: %d kernels of %v, want %d", tr.Name(), len(ks), total, want)
		}
		if r := tr.Call(context.Background(), "GET", "/kernels?page_size=-1", nil, nil); r.Code != codes.InvalidArgument {
			t.Errorf("%s: page_size=-1: %v", tr.Name(), r.Code)
		}
	}
}

// TestBadJSONValuesNameTheField: wrong types, NaN, 1e400, duplicate keys
// and invalid numbers are 400s naming the field (before: "input must be a
// JSON object: proto: …", last-wins, or 007 read as 7).
func TestBadJSONValuesNameTheField(t *testing.T) {
	srv, transports := startDefault(t, nil)
	echo := func(input string) []byte { return execBody(testkernels.Echo, input) }
	rest := []struct {
		name  string
		body  []byte
		field string
	}{
		{"NaN", echo(`{"scale": NaN}`), "input.scale"},
		{"Infinity", echo(`{"rows": [[1, -Infinity]]}`), "input.rows[0][1]"},
		{"1e400", echo(`{"scale": 1e400}`), "input.scale"},
		{"007", echo(`{"count": 007}`), "input.count"},
		{"duplicate field", echo(`{"count": 1, "count": 2}`), "input.count"},
		{"both spellings", echo(`{"sleep_ms": 1, "sleepMs": 2}`), "input.sleepMs"},
		{"wrong type", echo(`{"rows": [[1, "x"]]}`), "input.rows[0][1]"},
		{"not an object", echo(`[1, 2]`), "input"},
		{"malformed", echo(`{"count": 1,}`), "input"},
	}
	for _, c := range rest {
		code, msg, fields := restDo(t, srv, "POST", "/execute", c.body, nil)
		if id := lastRequestID; id == "" {
			t.Errorf("rest %s: no X-Request-Id", c.name)
		}
		if code != http.StatusBadRequest || len(fields) == 0 || fields[0] != c.field {
			t.Errorf("rest %s: HTTP %d %q fields %v, want 400 on %s", c.name, code, msg, fields, c.field)
		}
		if strings.Contains(msg, "proto:") {
			t.Errorf("rest %s: message quotes protojson: %s", c.name, msg)
		}
	}
	// kernel_id twice, or as kernel_id and kernelId: refused, not decided
	// by map order.
	for _, body := range []string{
		`{"kernel_id": "` + testkernels.Echo + `", "kernelId": "graph/density", "input": {}}`,
		`{"kernel_id": "` + testkernels.Echo + `", "kernel_id": "` + testkernels.Echo + `", "input": {}}`,
	} {
		code, msg, _ := restDo(t, srv, "POST", "/execute", []byte(body), nil)
		if code != http.StatusBadRequest || !strings.Contains(msg, "kernel_id") {
			t.Errorf("rest %s: HTTP %d %q", body, code, msg)
		}
	}
	// gRPC: a Struct input holding NaN names the field, and a wrong type is
	// the same 400 on every transport.
	for _, tr := range transports {
		r := tr.Call(context.Background(), "POST", "/execute", echo(`{"rows": [[1, "x"]]}`), nil)
		if r.Code != codes.InvalidArgument || len(r.Fields) == 0 || r.Fields[0] != "input.rows[0][1]" {
			t.Errorf("%s: wrong type: %v %q %v", tr.Name(), r.Code, r.Message, r.Fields)
		}
	}
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	in, _ := structpb.NewStruct(map[string]any{"scale": math.NaN()})
	_, err = gokernelsv1.NewKernelServiceClient(conn).Execute(context.Background(),
		&gokernelsv1.ExecuteRequest{KernelId: testkernels.Echo, Payload: &gokernelsv1.ExecuteRequest_Input{Input: in}})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "input.scale") || strings.Contains(st.Message(), "proto:") {
		t.Errorf("grpc Struct NaN: %v %q", st.Code(), st.Message())
	}
}

// TestLargeBodyWithOneBadValueIs400: a body just under the 10 MiB limit
// with one wrong-typed value at its end is a 400 naming the field (before:
// 413 "received message larger than max", after the gateway had built a
// Struct of the whole input).
func TestLargeBodyWithOneBadValueIs400(t *testing.T) {
	srv, _ := startDefault(t, nil)
	var b strings.Builder
	b.WriteString(`{"kernel_id": "` + testkernels.Echo + `", "input": {"rows": [[`)
	n := 0
	for b.Len() < 9_960_000 {
		b.WriteString("1.25,")
		n++
	}
	b.WriteString(`"x"]]}}`)
	body := []byte(b.String())
	if len(body) >= 10<<20 {
		t.Fatalf("body %d bytes is over the limit", len(body))
	}
	code, msg, fields := restDo(t, srv, "POST", "/execute", body, nil)
	want := fmt.Sprintf("input.rows[0][%d]", n)
	if code != http.StatusBadRequest || len(fields) == 0 || fields[0] != want {
		t.Errorf("HTTP %d %q fields %v, want 400 on %s", code, msg, fields, want)
	}
}

// TestUnauthenticatedBodyIsNotRead: with authentication on, a REST call
// without credentials is answered 401 without its body being read: here
// the client sends 1 KiB of a 10 MB body and then waits, and the 401
// arrives anyway (before: the server waited for the whole body, parsed it,
// and only then refused).
func TestUnauthenticatedBodyIsNotRead(t *testing.T) {
	keys := writeKeys(t, "exec-key-one-0123456789 executor\n")
	srv, _ := startDefault(t, map[string]string{"GOKERNELS_AUTH": "true", "GOKERNELS_API_KEYS_FILE": keys})
	conn, err := net.Dial("tcp", srv.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n")
	fmt.Fprintf(conn, `{"kernel_id": %q, "input": {"rows": [[%s`, testkernels.Echo, strings.Repeat("1,", 512))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body is pending: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("HTTP %d, WWW-Authenticate %q; want 401 with a challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// With the key, the same kind of call is read and answered normally.
	code, msg, _ := restDo(t, srv, "POST", "/execute", execBody(testkernels.Echo, `{"count": 2}`), map[string]string{"X-API-Key": "exec-key-one-0123456789"})
	if code != http.StatusOK {
		t.Errorf("with the key: HTTP %d %s", code, msg)
	}
}

// TestSlowClientsAreCutOff: connections that trickle their headers or
// their body are closed or answered within the deadline, not held open:
// 10 slow-body and 10 slow-header connections, 1 byte every 200 ms, with
// a 1 s default deadline and a 2 s maximum.
func TestSlowClientsAreCutOff(t *testing.T) {
	srv, _ := startDefault(t, map[string]string{"GOKERNELS_DEFAULT_TIMEOUT": "1s", "GOKERNELS_MAX_TIMEOUT": "2s"})
	type result struct {
		kind   string
		status int
		after  time.Duration
	}
	results := make(chan result, 20)
	trickle := func(kind, head string) {
		start := time.Now()
		conn, err := net.Dial("tcp", srv.HTTPAddr())
		if err != nil {
			results <- result{kind, -1, 0}
			return
		}
		defer conn.Close()
		fmt.Fprint(conn, head)
		answered := make(chan int, 1)
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				answered <- 0 // closed without an answer
				return
			}
			resp.Body.Close()
			answered <- resp.StatusCode
		}()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case code := <-answered:
				results <- result{kind, code, time.Since(start)}
				return
			case <-tick.C:
				if time.Since(start) > 8*time.Second {
					results <- result{kind, -2, time.Since(start)}
					return
				}
				_, _ = conn.Write([]byte("1"))
			}
		}
	}
	for i := 0; i < 10; i++ {
		go trickle("body", "POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"+
			`{"kernel_id": "`+testkernels.Echo+`", "input": {"rows": [[`)
		go trickle("header", "POST /execute HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	}
	for i := 0; i < 20; i++ {
		r := <-results
		switch {
		case r.status < 0:
			t.Errorf("%s: still open after %v", r.kind, r.after)
		case r.after > 3*time.Second:
			t.Errorf("%s: cut off only after %v", r.kind, r.after)
		case r.kind == "body" && r.status != http.StatusRequestTimeout:
			t.Errorf("body: HTTP %d after %v, want 408", r.status, r.after)
		}
		if i == 0 {
			t.Logf("%s: HTTP %d after %v", r.kind, r.status, r.after)
		}
	}
}

// TestLibraryLogsGoThroughSlog: the gateway's complaint about a non-ASCII
// header value comes out of the server's structured logger, not as a
// plain-text "ERROR:" line on stderr.
func TestLibraryLogsGoThroughSlog(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	server.RouteLibraryLogs(log)
	t.Cleanup(func() {
		server.RouteLibraryLogs(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	})
	srv, _ := startDefault(t, nil)
	code, msg, _ := restDo(t, srv, "GET", "/kernels?page_size=1", nil, map[string]string{"X-Tenant-ID": "caf\u00e9"})
	if code != http.StatusOK {
		t.Fatalf("HTTP %d %s", code, msg)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if m, _ := rec["msg"].(string); strings.Contains(m, "non-ASCII") && rec["level"] == "ERROR" {
			found = true
		}
	}
	if !found {
		t.Errorf("the gateway's non-ASCII header message did not reach slog:\n%s", buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestInt64FromJSONIsExact: ml/secure-aggregation with seed 2^53+1, sent
// as a JSON number or a decimal string over REST, or as a string in a
// gRPC Struct, gives the masks of 2^53+1 — the same as a typed request —
// not those of 2^53 (before: read through float64); a seed above 2^53 is
// accepted (before: "out of range").
func TestInt64FromJSONIsExact(t *testing.T) {
	srv, transports := startDefault(t, nil)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const input = `"updates": [0.5, -1, 2, 0.25, 3, -0.75], "n_clients": 3, "dimension": 2`
	typed := func(seed uint64) []float64 {
		in := &mlv1.SecureAggregationInput{Updates: []float64{0.5, -1, 2, 0.25, 3, -0.75}, NClients: 3, Dimension: 2, Seed: seed}
		a, err := anypb.New(in)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := gokernelsv1.NewKernelServiceClient(conn).Execute(context.Background(), &gokernelsv1.ExecuteRequest{
			KernelId: "ml/secure-aggregation", Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: a},
			Metadata: &gokernelsv1.ExecuteOptions{TypedOutput: true}})
		if err != nil {
			t.Fatal(err)
		}
		var out mlv1.SecureAggregationOutput
		if err := resp.GetTypedOutput().UnmarshalTo(&out); err != nil {
			t.Fatal(err)
		}
		return out.MaskedUpdates
	}
	masks := func(r servertest.Result) []float64 {
		var out []float64
		l, _ := r.Output["masked_updates"].([]any)
		for _, v := range l {
			f, _ := v.(float64)
			out = append(out, f)
		}
		return out
	}
	for _, seed := range []uint64{1<<53 + 1, math.MaxUint64} {
		want := typed(seed)
		if seed == 1<<53+1 && slices.Equal(want, typed(1<<53)) {
			t.Fatal("seeds 2^53 and 2^53+1 give the same masks: the test cannot tell them apart")
		}
		for _, tr := range transports {
			for _, form := range []string{fmt.Sprintf("%d", seed), fmt.Sprintf("%q", fmt.Sprint(seed))} {
				if tr.Name() != "rest" && form[0] != '"' {
					continue // a Struct holds numbers as doubles: 64-bit integers go as strings
				}
				r := tr.Call(context.Background(), "POST", "/execute", execBody("ml/secure-aggregation", `{`+input+`, "seed": `+form+`}`), nil)
				if r.Code != codes.OK {
					t.Errorf("%s seed %s: %v %s", tr.Name(), form, r.Code, r.Message)
					continue
				}
				if got := masks(r); !slices.Equal(got, want) {
					t.Errorf("%s seed %s: masks %v, want those of the typed request %v", tr.Name(), form, got, want)
				}
			}
		}
	}
}

// TestReadTimeoutSparesStreams: the HTTP server's read timeout bounds
// unary calls, but a bidirectional stream over h2c (server reflection)
// may keep sending after it.
func TestReadTimeoutSparesStreams(t *testing.T) {
	srv, _ := startDefault(t, map[string]string{"GOKERNELS_DEFAULT_TIMEOUT": "500ms", "GOKERNELS_MAX_TIMEOUT": "1s"})
	conn, err := grpc.NewClient(srv.HTTPAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	list := &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}
	for i := 0; i < 2; i++ {
		if i == 1 {
			time.Sleep(1500 * time.Millisecond) // past the 1 s read timeout
		}
		if err := stream.Send(list); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("receive %d: %v", i, err)
		}
		if len(resp.GetListServicesResponse().GetService()) == 0 {
			t.Fatalf("receive %d: no services", i)
		}
	}
}

// TestSlowBodyOverH2C: over HTTP/2 (h2c) too, a REST body still arriving
// at the request deadline is answered 408, and the stream is released.
func TestSlowBodyOverH2C(t *testing.T) {
	// The server-wide ReadTimeout (the 6 s maximum) is not what cuts it.
	srv, _ := startDefault(t, map[string]string{"GOKERNELS_DEFAULT_TIMEOUT": "1s", "GOKERNELS_MAX_TIMEOUT": "6s"})
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &protocols}, Timeout: 10 * time.Second}
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		fmt.Fprintf(pw, `{"kernel_id": %q, "input": {"rows": [[`, testkernels.Echo)
		for i := 0; i < 50; i++ { // 10 s of trickle, far past the deadline
			time.Sleep(200 * time.Millisecond)
			if _, err := pw.Write([]byte("1,")); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	req, _ := http.NewRequest("POST", "http://"+srv.HTTPAddr()+"/execute", pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("HTTP/%d, want h2c", resp.ProtoMajor)
	}
	if resp.StatusCode != http.StatusRequestTimeout || time.Since(start) > 3*time.Second {
		t.Errorf("HTTP %d after %v, want 408 at about the 1 s deadline", resp.StatusCode, time.Since(start))
	}
}
