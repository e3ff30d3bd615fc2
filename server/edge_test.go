package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/gokernels/gokernels/kernels/testkernels"
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
