package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

const (
	authViewerKey   = "vk-3f9a1c0e8b7d6a5f4e3d2c1b"
	authExecutorKey = "ek-0a1b2c3d4e5f60718293a4b5"
	authAdminKey    = "ak-99887766554433221100ffee"
	authJWTSecret   = "test-secret-test-secret-test-secret-0123"
)

// startAuth starts a server with authentication on: three API keys (the
// admin's stored as its sha256 digest) and HS256 JWTs.
func startAuth(t *testing.T) (*server.Server, []servertest.Transport) {
	t.Helper()
	sum := sha256.Sum256([]byte(authAdminKey))
	keys := filepath.Join(t.TempDir(), "api-keys")
	file := "# test keys\n" + authViewerKey + " viewer\n" + authExecutorKey + " executor acme\nsha256:" + hex.EncodeToString(sum[:]) + " admin\n"
	if err := os.WriteFile(keys, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(t, map[string]string{
		"GOKERNELS_AUTH":          "true",
		"GOKERNELS_API_KEYS_FILE": keys,
		"GOKERNELS_JWT_SECRET":    authJWTSecret,
		"GOKERNELS_JWT_ISSUER":    "https://login.test",
		"GOKERNELS_JWT_AUDIENCE":  "gokernels",
	})
	srv := servertest.Start(t, cfg, testRegistry(t), server.Options{})
	return srv, servertest.Transports(t, srv)
}

func authToken(t *testing.T, role string, exp time.Time) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "svc-" + role, "role": role, "iss": "https://login.test", "aud": "gokernels", "exp": exp.Unix(),
	}).SignedString([]byte(authJWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuth(t *testing.T) {
	_, transports := startAuth(t)
	echo := execBody(testkernels.Echo, `{"count": 1}`)
	// A typed kernel route needs the executor role, as Execute does.
	typed, degree := "/kernels/graph/degree-centrality:execute", []byte(`{"num_nodes": 2, "edges": [[0, 1]]}`)
	apiKey := func(k string) map[string]string { return map[string]string{"X-API-Key": k} }
	bearer := func(c string) map[string]string { return map[string]string{"Authorization": "Bearer " + c} }
	executorJWT := authToken(t, "executor", time.Now().Add(time.Hour))
	viewerJWT := authToken(t, "viewer", time.Now().Add(time.Hour))
	expiredJWT := authToken(t, "admin", time.Now().Add(-time.Hour))

	unauth := want{code: codes.Unauthenticated, http: 401, reason: "UNAUTHENTICATED", check: func(t *testing.T, r servertest.Result) {
		// The gateway's challenge is `Bearer realm="gokernels", ...`, but
		// grpc-gateway's DefaultHTTPErrorHandler (v2.33) overwrites
		// WWW-Authenticate with the status message; here: present, and
		// never a credential (checked with the message below).
		if r.HTTPStatus != 0 && r.Header["www-authenticate"] == "" {
			t.Errorf("401 without WWW-Authenticate: %v", r.Header)
		}
	}}
	denied := want{code: codes.PermissionDenied, http: 403, reason: "PERMISSION_DENIED"}
	ok := want{code: codes.OK, http: 200}
	cases := []struct {
		name   string
		method string
		path   string
		body   []byte
		md     map[string]string
		want   want
	}{
		{name: "no credentials list", method: "GET", path: "/kernels", want: unauth},
		{name: "no credentials execute", method: "POST", path: "/execute", body: echo, want: unauth},
		{name: "no credentials stats", method: "GET", path: "/stats", want: unauth},
		{name: "unknown key", method: "GET", path: "/kernels", md: apiKey("vk-not-a-real-key-000000000"), want: unauth},
		{name: "digest is not the key", method: "GET", path: "/kernels", md: apiKey("sha256:" + strings.Repeat("0", 64)), want: unauth},
		{name: "basic auth", method: "GET", path: "/kernels", md: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, want: unauth},
		{name: "expired JWT", method: "GET", path: "/stats", md: bearer(expiredJWT), want: unauth},
		{name: "tampered JWT", method: "GET", path: "/kernels", md: bearer(viewerJWT[:len(viewerJWT)-3] + "AAA"), want: unauth},

		{name: "viewer lists", method: "GET", path: "/kernels?domain=core", md: apiKey(authViewerKey), want: ok},
		{name: "viewer gets kernel", method: "GET", path: "/kernels/testing/echo", md: apiKey(authViewerKey), want: ok},
		{name: "viewer cannot execute", method: "POST", path: "/execute", body: echo, md: apiKey(authViewerKey), want: denied},
		{name: "viewer cannot stats", method: "GET", path: "/stats", md: apiKey(authViewerKey), want: denied},
		{name: "executor executes", method: "POST", path: "/execute", body: echo, md: apiKey(authExecutorKey), want: ok},
		{name: "executor key as bearer", method: "POST", path: "/execute", body: echo, md: bearer(authExecutorKey), want: ok},
		{name: "executor cannot stats", method: "GET", path: "/stats", md: apiKey(authExecutorKey), want: denied},
		{name: "admin (hashed key) stats", method: "GET", path: "/stats", md: apiKey(authAdminKey), want: ok},
		{name: "admin executes", method: "POST", path: "/execute", body: echo, md: apiKey(authAdminKey), want: ok},
		{name: "JWT executor executes", method: "POST", path: "/execute", body: echo, md: bearer(executorJWT), want: ok},
		{name: "JWT viewer cannot execute", method: "POST", path: "/execute", body: echo, md: bearer(viewerJWT), want: denied},
		{name: "JWT viewer lists", method: "GET", path: "/kernels", md: bearer(viewerJWT), want: ok},
		{name: "no credentials typed", method: "POST", path: typed, body: degree, want: unauth},
		{name: "viewer cannot run typed", method: "POST", path: typed, body: degree, md: apiKey(authViewerKey), want: denied},
		{name: "JWT viewer cannot run typed", method: "POST", path: typed, body: degree, md: bearer(viewerJWT), want: denied},
		{name: "executor runs typed", method: "POST", path: typed, body: degree, md: apiKey(authExecutorKey), want: ok},
		{name: "JWT executor runs typed", method: "POST", path: typed, body: degree, md: bearer(executorJWT), want: ok},

		{name: "health without credentials", method: "GET", path: "/health", want: ok},
		{name: "ready without credentials", method: "GET", path: "/health/ready", want: ok},
		{name: "live without credentials", method: "GET", path: "/health/live", want: ok},
		{name: "health with a bad key", method: "GET", path: "/health/live", md: apiKey("garbage"), want: ok},
	}
	for _, tr := range transports {
		for _, c := range cases {
			t.Run(tr.Name()+"/"+c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				r := tr.Call(ctx, c.method, c.path, c.body, c.md)
				if r.Code != c.want.code {
					t.Fatalf("code %v (%q), want %v", r.Code, r.Message, c.want.code)
				}
				if tr.Name() == "rest" && r.HTTPStatus != c.want.http {
					t.Fatalf("HTTP %d, want %d", r.HTTPStatus, c.want.http)
				}
				if c.want.reason != "" && r.Reason != c.want.reason {
					t.Errorf("reason %q, want %q", r.Reason, c.want.reason)
				}
				for _, v := range c.md {
					_, cred, _ := strings.Cut(v, " ")
					for _, text := range []string{r.Message, r.Header["www-authenticate"]} {
						if strings.Contains(text, v) || len(cred) > 8 && strings.Contains(text, cred) {
							t.Errorf("answer %q repeats the credential", text)
						}
					}
				}
				if c.want.check != nil {
					c.want.check(t, r)
				}
			})
		}
	}
}

// TestAuthMetricsAndStandardHealth: /metrics needs a viewer and counts the
// refusals; grpc.health.v1 needs no credentials.
func TestAuthMetricsAndStandardHealth(t *testing.T) {
	srv, transports := startAuth(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tr := range transports {
		tr.Call(ctx, "GET", "/kernels", nil, nil)                                         // unauthenticated
		tr.Call(ctx, "GET", "/stats", nil, map[string]string{"X-API-Key": authViewerKey}) // permission denied
	}

	get := func(key string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+srv.HTTPAddr()+"/metrics", nil)
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials: %d", code)
	}
	code, body := get(authViewerKey)
	if code != http.StatusOK {
		t.Fatalf("/metrics as viewer: %d", code)
	}
	for _, line := range []string{`gokernels_rejected_total{reason="unauthenticated"} 4`, `gokernels_rejected_total{reason="permission_denied"} 3`} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}

	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hr, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("grpc.health.v1 without credentials: %v %v", hr, err)
	}
}

// TestAuthBadKeyFileStopsStartup: a broken key file is a start-up error
// naming the setting and the line.
func TestAuthBadKeyFileStopsStartup(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "api-keys")
	if err := os.WriteFile(keys, []byte(authViewerKey+" viewer\n\n"+authAdminKey+" boss\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(t, map[string]string{"GOKERNELS_AUTH": "true", "GOKERNELS_API_KEYS_FILE": keys})
	_, err := server.New(cfg, testRegistry(t), server.Options{})
	if err == nil || err.Error() != `GOKERNELS_API_KEYS_FILE: line 3: unknown role "boss" (want viewer, executor or admin)` {
		t.Fatalf("server.New: %v", err)
	}
}
