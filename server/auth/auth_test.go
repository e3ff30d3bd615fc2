package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/gokernels/gokernels/server/config"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/observe"
	"github.com/gokernels/gokernels/server/reqinfo"
)

func TestRequired(t *testing.T) {
	cases := []struct {
		method string
		role   Role
		public bool
	}{
		{"/grpc.health.v1.Health/Check", RoleNone, true},
		{"/grpc.health.v1.Health/Watch", RoleNone, true},
		{"/gokernels.v1.HealthService/Ready", RoleNone, true},
		{"/gokernels.v1.KernelService/ListKernels", Viewer, false},
		{"/gokernels.v1.KernelService/GetKernel", Viewer, false},
		{"/gokernels.v1.MetricsService/Metrics", Viewer, false},
		{"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", Viewer, false},
		{"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", Viewer, false},
		{"/gokernels.v1.KernelService/Execute", Executor, false},
		{"/gokernels.kernels.graph.v1.GraphService/PageRank", Executor, false},
		{"/gokernels.kernelsX.graph.v1.GraphService/PageRank", Admin, false},
		{"/gokernels.v1.MetricsService/GetStats", Admin, false},
		{"/gokernels.v1.KernelService/SomethingNew", Admin, false},
		{"/gokernels.v1.HealthServiceX/Check", Admin, false},
		{"/gokernels.v1.RingService/CreateRing", Executor, false},
		{"/gokernels.v1.RingServiceX/CreateRing", Admin, false},
		{"/grpc.health.v1.Health", Admin, false},
	}
	for _, c := range cases {
		if role, public := Required(c.method); role != c.role || public != c.public {
			t.Errorf("%s: %v %v, want %v %v", c.method, role, public, c.role, c.public)
		}
	}
}

const (
	viewerKey   = "viewer-key-0123456789abcdef"
	executorKey = "executor-key-0123456789abcdef"
	adminKey    = "admin-key-0123456789abcdef"
)

func newTestAuth(t *testing.T) (*Authenticator, *[]string) {
	t.Helper()
	keys := writeFile(t, "keys", viewerKey+" viewer\n"+executorKey+" executor acme\nsha256:"+sha(adminKey)+" admin ops\n")
	var rejected []string
	a, err := New(&config.Config{APIKeysFile: keys, JWTSecret: testSecret}, func(r string) { rejected = append(rejected, r) })
	if err != nil {
		t.Fatal(err)
	}
	return a, &rejected
}

func TestUnary(t *testing.T) {
	a, rejected := newTestAuth(t)
	intercept := a.Unary()
	token := sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", jwt.MapClaims{"sub": "svc-batch", "roles": []string{"admin"}, "tenant": "t9", "exp": time.Now().Add(time.Minute).Unix()})
	cases := []struct {
		name      string
		method    string
		md        []string
		code      codes.Code
		reject    string
		principal string
		role      string
		tenant    string
	}{
		{name: "health needs nothing", method: "/gokernels.v1.HealthService/Check", code: codes.OK},
		{name: "no credentials", method: "/gokernels.v1.KernelService/ListKernels", code: codes.Unauthenticated, reject: observe.RejectUnauthenticated},
		{name: "bad key", method: "/gokernels.v1.KernelService/ListKernels", md: []string{"x-api-key", "nope-" + viewerKey}, code: codes.Unauthenticated, reject: observe.RejectUnauthenticated},
		{name: "basic scheme", method: "/gokernels.v1.KernelService/ListKernels", md: []string{"authorization", "Basic " + viewerKey}, code: codes.Unauthenticated, reject: observe.RejectUnauthenticated},
		{name: "empty bearer", method: "/gokernels.v1.KernelService/ListKernels", md: []string{"authorization", "Bearer "}, code: codes.Unauthenticated, reject: observe.RejectUnauthenticated},
		{name: "bad bearer", method: "/gokernels.v1.KernelService/ListKernels", md: []string{"authorization", "Bearer " + token + "x"}, code: codes.Unauthenticated, reject: observe.RejectUnauthenticated},
		{name: "viewer lists", method: "/gokernels.v1.KernelService/ListKernels", md: []string{"x-api-key", viewerKey}, code: codes.OK,
			principal: "key:" + sha(viewerKey)[:12], role: "viewer"},
		{name: "viewer executes", method: "/gokernels.v1.KernelService/Execute", md: []string{"x-api-key", viewerKey}, code: codes.PermissionDenied, reject: observe.RejectPermissionDenied,
			principal: "key:" + sha(viewerKey)[:12], role: "viewer"},
		{name: "executor executes (bearer key)", method: "/gokernels.v1.KernelService/Execute", md: []string{"authorization", "bearer " + executorKey}, code: codes.OK,
			principal: "key:" + sha(executorKey)[:12], role: "executor", tenant: "acme"},
		{name: "executor stats", method: "/gokernels.v1.MetricsService/GetStats", md: []string{"x-api-key", executorKey}, code: codes.PermissionDenied, reject: observe.RejectPermissionDenied,
			principal: "key:" + sha(executorKey)[:12], role: "executor", tenant: "acme"},
		{name: "hashed admin stats", method: "/gokernels.v1.MetricsService/GetStats", md: []string{"x-api-key", adminKey}, code: codes.OK,
			principal: "key:" + sha(adminKey)[:12], role: "admin", tenant: "ops"},
		{name: "JWT admin", method: "/gokernels.v1.MetricsService/GetStats", md: []string{"authorization", "Bearer " + token}, code: codes.OK,
			principal: "svc-batch", role: "admin", tenant: "t9"},
		{name: "x-api-key wins over authorization", method: "/gokernels.v1.MetricsService/GetStats", md: []string{"x-api-key", viewerKey, "authorization", "Bearer " + token},
			code: codes.PermissionDenied, reject: observe.RejectPermissionDenied, principal: "key:" + sha(viewerKey)[:12], role: "viewer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			*rejected = nil
			info := &reqinfo.Info{RequestID: "r1"}
			ctx := reqinfo.With(context.Background(), info)
			if len(c.md) > 0 {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(c.md...))
			}
			called := false
			_, err := intercept(ctx, nil, &grpc.UnaryServerInfo{FullMethod: c.method}, func(context.Context, any) (any, error) {
				called = true
				return "ok", nil
			})
			st := status.Convert(err)
			if st.Code() != c.code {
				t.Fatalf("code %v (%q), want %v", st.Code(), st.Message(), c.code)
			}
			if called != (c.code == codes.OK) {
				t.Errorf("handler called: %v", called)
			}
			if c.code != codes.OK {
				if want := map[codes.Code]string{codes.Unauthenticated: ReasonUnauthenticated, codes.PermissionDenied: ReasonPermissionDenied}[c.code]; errs.Reason(st) != want {
					t.Errorf("reason %q, want %q", errs.Reason(st), want)
				}
			}
			for i := 1; i < len(c.md); i += 2 {
				_, cred, _ := strings.Cut(c.md[i], " ")
				if cred = strings.TrimSpace(cred); len(cred) > 4 && strings.Contains(st.Message(), cred) || strings.Contains(st.Message(), c.md[i]) {
					t.Errorf("message %q repeats the credential", st.Message())
				}
			}
			if got := strings.Join(*rejected, ","); got != c.reject {
				t.Errorf("rejections %q, want %q", got, c.reject)
			}
			if info.Principal != c.principal || info.Role != c.role || info.Tenant != c.tenant {
				t.Errorf("reqinfo %q %q %q, want %q %q %q", info.Principal, info.Role, info.Tenant, c.principal, c.role, c.tenant)
			}
		})
	}
}

func TestJWTWithoutRoleIsDenied(t *testing.T) {
	a, rejected := newTestAuth(t)
	token := sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", jwt.MapClaims{"sub": "bob", "exp": time.Now().Add(time.Minute).Unix()})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+token))
	_, err := a.Unary()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/gokernels.v1.KernelService/ListKernels"}, func(context.Context, any) (any, error) { return nil, nil })
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(status.Convert(err).Message(), "role none") {
		t.Fatalf("%v", err)
	}
	if len(*rejected) != 1 || (*rejected)[0] != observe.RejectPermissionDenied {
		t.Errorf("rejections %v", *rejected)
	}
}

type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (f fakeStream) Context() context.Context { return f.ctx }

func TestStream(t *testing.T) {
	a, _ := newTestAuth(t)
	info := &grpc.StreamServerInfo{FullMethod: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"}
	ok := func(any, grpc.ServerStream) error { return nil }
	if err := a.Stream()(nil, fakeStream{ctx: context.Background()}, info, ok); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no credentials: %v", err)
	}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-api-key", viewerKey))
	if err := a.Stream()(nil, fakeStream{ctx: ctx}, info, ok); err != nil {
		t.Errorf("viewer: %v", err)
	}
}
