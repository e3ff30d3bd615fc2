package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/servertest"
)

// echoRow is an Echo input carrying one row of n numbers (its output
// repeats them: 8n bytes of protobuf).
func echoRow(n, sleepMs int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"sleep_ms": %d, "rows": [[`, sleepMs)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d.5", i)
	}
	b.WriteString("]]}")
	return execBody(testkernels.Echo, b.String())
}

// TestResponseLimitOverEveryTransport: an output over
// GOKERNELS_MAX_RESPONSE_BYTES is RESOURCE_EXHAUSTED (413 over REST) naming
// the limit, whatever form was asked for; a kernel whose output size is
// known from its input (degree-ratio's per-node arrays) is refused before it
// runs; outputs under the limit are answered in full.
func TestResponseLimitOverEveryTransport(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(t, map[string]string{"GOKERNELS_MAX_RESPONSE_BYTES": "4KiB"}), testRegistry(t), serverOptions())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	typed := func(b []byte) []byte {
		return []byte(strings.TrimSuffix(string(b), "}") + `, "metadata": {"typed_output": true}}`)
	}
	for _, tr := range servertest.Transports(t, srv) {
		for name, body := range map[string][]byte{
			"json":         echoRow(1000, 0),
			"typed":        typed(echoRow(1000, 0)),
			"degree-ratio": execBody("graph/degree-ratio", `{"num_nodes": 1000, "edges": [[0, 1]]}`),
		} {
			r := tr.Call(ctx, "POST", "/execute", body, nil)
			if r.Code != codes.ResourceExhausted || r.Reason != errs.ReasonResponseTooLarge ||
				!strings.Contains(r.Message, "GOKERNELS_MAX_RESPONSE_BYTES") || !strings.Contains(r.Message, "4096 bytes") ||
				(tr.Name() == "rest" && r.HTTPStatus != 413) {
				t.Errorf("%s %s: %v %s HTTP %d %q", tr.Name(), name, r.Code, r.Reason, r.HTTPStatus, r.Message)
			}
			if name == "degree-ratio" && !strings.Contains(r.Message, "would be at least") {
				t.Errorf("%s: degree-ratio was not refused from its estimate: %q", tr.Name(), r.Message)
			}
		}
		r := tr.Call(ctx, "POST", "/execute", echoRow(100, 0), nil)
		rows, _ := r.Output["rows"].([]any)
		if r.Code != codes.OK || len(rows) != 1 || len(rows[0].([]any)) != 100 || rows[0].([]any)[99] != 99.5 {
			t.Errorf("%s: under the limit: %v %q %v", tr.Name(), r.Code, r.Message, r.Output)
		}
		if tr.Name() == "rest" {
			// typed_output over REST: rendered in the server as the gateway's protojson would.
			r := tr.Call(ctx, "POST", "/execute", typed(echoRow(100, 0)), nil)
			to, _ := r.Body["typed_output"].(map[string]any)
			rows, _ := to["rows"].([]any)
			if r.Code != codes.OK || to["@type"] != "type.googleapis.com/gokernels.testing.v1.EchoOutput" || len(rows) != 1 ||
				len(rows[0].(map[string]any)["values"].([]any)) != 100 || r.Body["output"] != nil {
				t.Errorf("rest typed_output under the limit: %v %q %v", r.Code, r.Message, r.Body)
			}
		}
	}
}

// TestMemoryBudgetOverEveryTransport: a request whose estimated working set
// does not fit next to a running one is refused at once with 429 and
// Retry-After; one that can never fit the budget is 413; the encoded output
// counts too (a Struct for gRPC JSON output costs ~10× the output); after the
// running one ends the budget is free again.
func TestMemoryBudgetOverEveryTransport(t *testing.T) {
	// Echo's generic estimate is 4× its decoded input: ~640 kB for 20,000
	// numbers, ~2.6 MB for 80,000, ~3.2 MB for 100,000.
	srv := servertest.Start(t, servertest.Config(t, map[string]string{
		"GOKERNELS_MEMORY_BUDGET": "3MB", "GOKERNELS_MAX_CONCURRENCY": "4",
	}), testRegistry(t), serverOptions())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, tr := range servertest.Transports(t, srv) {
		// The holding request sleeps until the test cancels it, so that
		// no timing decides what overlaps.
		holdCtx, release := context.WithCancel(ctx)
		holding := make(chan servertest.Result, 1)
		go func() { holding <- tr.Call(holdCtx, "POST", "/execute", echoRow(20_000, 60_000), nil) }()
		waitMetric(t, srv.HTTPAddr(), "gokernels_memory_reserved_bytes 6")
		r := tr.Call(ctx, "POST", "/execute", echoRow(80_000, 0), nil)
		if r.Code != codes.ResourceExhausted || r.Reason != errs.ReasonMemoryBusy || (tr.Name() == "rest" && r.RetryAfter != "1") ||
			!strings.Contains(r.Message, "retry later") || (tr.Name() == "rest" && r.HTTPStatus != 429) {
			t.Errorf("%s: next to a running request: %v %s HTTP %d retry-after %q %q", tr.Name(), r.Code, r.Reason, r.HTTPStatus, r.RetryAfter, r.Message)
		}
		release()
		<-holding
		waitMetric(t, srv.HTTPAddr(), "gokernels_memory_reserved_bytes 0")
		r = tr.Call(ctx, "POST", "/execute", echoRow(80_000, 0), nil)
		if tr.Name() == "rest" && r.Code != codes.OK {
			t.Errorf("%s: alone: %v %s", tr.Name(), r.Code, r.Message)
		}
		if tr.Name() != "rest" && (r.Code != codes.ResourceExhausted || r.Reason != errs.ReasonMemoryTooLarge ||
			!strings.Contains(r.Message, "typed_output")) {
			t.Errorf("%s: a 5 MB Struct output was not refused by the 3 MB budget: %v %s %q", tr.Name(), r.Code, r.Reason, r.Message)
		}
		r = tr.Call(ctx, "POST", "/execute", echoRow(100_000, 0), nil)
		if r.Code != codes.ResourceExhausted || r.Reason != errs.ReasonMemoryTooLarge || r.RetryAfter != "" ||
			!strings.Contains(r.Message, "GOKERNELS_MEMORY_BUDGET") || (tr.Name() == "rest" && r.HTTPStatus != 413) {
			t.Errorf("%s: over the whole budget: %v %s HTTP %d %q", tr.Name(), r.Code, r.Reason, r.HTTPStatus, r.Message)
		}
	}
}

// waitMetric waits until the server's /metrics has a line starting with
// prefix.
func waitMetric(t *testing.T, addr, prefix string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), "\n"+prefix) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("/metrics never showed %q", prefix)
}
