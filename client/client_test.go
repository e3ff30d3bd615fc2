package client_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gokernels/gokernels/client"
	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

func start(t *testing.T, env map[string]string) *server.Server {
	reg := registry.New()
	if err := testkernels.Register(reg); err != nil {
		t.Fatal(err)
	}
	return servertest.Start(t, servertest.Config(t, env), reg, server.Options{})
}

func TestExecuteTypedAndJSON(t *testing.T) {
	srv := start(t, nil)
	c, err := client.Dial(context.Background(), client.Options{Addr: srv.GRPCAddr()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, err := client.ExecuteTyped[*testingv1.EchoOutput](context.Background(), c, testkernels.Echo,
		&testingv1.EchoInput{Count: 4, Pairs: []*testingv1.Pair{{A: 1, B: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.GetCount() != 4 || len(out.GetPairs()) != 1 || out.GetPairs()[0].GetB() != 2 {
		t.Fatalf("typed output %v", out)
	}
	resp, err := c.ExecuteJSON(context.Background(), testkernels.Echo, []byte(`{"count": 9}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetOutput().GetFields()["count"].GetNumberValue() != 9 {
		t.Fatalf("json output %v", resp.GetOutput())
	}
}

// TestExecuteJSONKeeps64BitIntegersExact: an integer beyond 2^53 in the
// JSON input reaches the kernel exact, although a Struct number is a
// double (before: 2^53+1 arrived as 2^53).
func TestExecuteJSONKeeps64BitIntegersExact(t *testing.T) {
	srv := start(t, nil)
	c, err := client.Dial(context.Background(), client.Options{Addr: srv.GRPCAddr()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for input, want := range map[string]int64{
		`{"big": 9007199254740993}`:                       1<<53 + 1,
		`{"big": -9223372036854775807}`:                   -9223372036854775807,
		`{"count": 2, "big": 9007199254740992}`:           1 << 53,
		`{"pairs": [[1, 2]], "big": 4611686018427387905}`: 1<<62 + 1,
	} {
		resp, err := c.ExecuteJSON(context.Background(), testkernels.Echo, []byte(input), &gokernelsv1.ExecuteOptions{TypedOutput: true})
		if err != nil {
			t.Fatalf("%s: %v", input, err)
		}
		var out testingv1.EchoOutput
		if err := resp.GetTypedOutput().UnmarshalTo(&out); err != nil {
			t.Fatal(err)
		}
		if out.GetBig() != want {
			t.Errorf("%s: the kernel got big = %d, want %d", input, out.GetBig(), want)
		}
	}
}

// TestRetryHonoursRetryAfter: with a bucket of one request per second, the
// second call is refused with Retry-After; the client waits and succeeds.
// Without retries the same call fails with RESOURCE_EXHAUSTED.
func TestRetryHonoursRetryAfter(t *testing.T) {
	srv := start(t, map[string]string{"GOKERNELS_RATE_LIMIT_RPS": "1", "GOKERNELS_RATE_LIMIT_BURST": "1"})
	noRetry, err := client.Dial(context.Background(), client.Options{Addr: srv.GRPCAddr(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer noRetry.Close()
	if _, err := noRetry.ExecuteJSON(context.Background(), testkernels.Echo, []byte(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	_, err = noRetry.ExecuteJSON(context.Background(), testkernels.Echo, []byte(`{}`), nil)
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("without retries: %v, want RESOURCE_EXHAUSTED", err)
	}

	time.Sleep(1100 * time.Millisecond)
	c, err := client.Dial(context.Background(), client.Options{Addr: srv.GRPCAddr(), Backoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecuteJSON(context.Background(), testkernels.Echo, []byte(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.ExecuteJSON(context.Background(), testkernels.Echo, []byte(`{}`), nil); err != nil {
		t.Fatalf("with retries: %v", err)
	}
	// A 10 ms backoff alone would have given up after ~70 ms; the server's
	// Retry-After (1 s) is what made the retry succeed.
	if d := time.Since(start); d < 800*time.Millisecond {
		t.Errorf("retried after %s, before the server's Retry-After", d)
	}
}

func TestAPIKeySent(t *testing.T) {
	keys := t.TempDir() + "/keys"
	if err := writeFile(keys, "s3cret-key-0123456789 executor\n"); err != nil {
		t.Fatal(err)
	}
	srv := start(t, map[string]string{"GOKERNELS_AUTH": "true", "GOKERNELS_API_KEYS_FILE": keys})
	for key, want := range map[string]codes.Code{"": codes.Unauthenticated, "wrong": codes.Unauthenticated, "s3cret-key-0123456789": codes.OK} {
		c, err := client.Dial(context.Background(), client.Options{Addr: srv.GRPCAddr(), APIKey: key})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ExecuteJSON(context.Background(), testkernels.Echo, []byte(`{}`), nil)
		c.Close()
		if status.Code(err) != want {
			t.Errorf("key %q: %v, want %v", key, err, want)
		}
	}
}
