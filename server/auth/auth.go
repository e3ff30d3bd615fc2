// Package auth is the authentication and authorisation stage of the
// interceptor chain (off in development, on in the production preset).
//
// Callers present either an API key — in the x-api-key metadata (REST:
// X-API-Key header) or as "authorization: Bearer <key>" — or a JWT bearer
// token. API keys come from GOKERNELS_API_KEYS_FILE, one "key role [tenant]"
// line each; the file may hold "sha256:<hex>" digests instead of keys, and
// keys are compared by digest in constant time. JWTs are verified with
// github.com/golang-jwt/jwt/v5: HS256 with GOKERNELS_JWT_SECRET, RS256 or
// ES256 with the PEM key in GOKERNELS_JWT_PUBLIC_KEY or the JWKS in
// GOKERNELS_JWKS_FILE (selected by kid); exp is required, iss and aud are
// checked when configured.
//
// Three roles, each including the one before it: viewer (list and describe
// kernels, metrics, reflection), executor (+ Execute) and admin (+ GetStats
// and every other method). Health checks need no credentials.
//
// Missing or invalid credentials answer UNAUTHENTICATED (REST 401 with
// WWW-Authenticate, added by the gateway); a role too low answers
// PERMISSION_DENIED (403). No answer ever repeats the key or token. On
// success the request's reqinfo gets Principal, Role and Tenant, so the rate
// limiter keys on the principal and the logs name the caller.
package auth

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/server/config"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/observe"
	"github.com/gokernels/gokernels/server/reqinfo"
)

// Role is what a principal may do; each role includes the ones below it.
type Role int

// The roles, least first. RoleNone is no role at all (never granted).
const (
	RoleNone Role = iota
	Viewer
	Executor
	Admin
)

// String is the role's name as written in key files and JWT claims.
func (r Role) String() string {
	switch r {
	case Viewer:
		return "viewer"
	case Executor:
		return "executor"
	case Admin:
		return "admin"
	}
	return "none"
}

// ParseRole reads a role name (case-insensitive).
func ParseRole(s string) (Role, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "viewer":
		return Viewer, true
	case "executor":
		return Executor, true
	case "admin":
		return Admin, true
	}
	return RoleNone, false
}

// ErrorInfo reasons of the refusals (google.rpc.ErrorInfo, domain errs.Domain).
const (
	ReasonUnauthenticated  = "UNAUTHENTICATED"
	ReasonPermissionDenied = "PERMISSION_DENIED"
)

// Public reports the methods that need no credentials: the health checks
// (grpc.health.v1.Health and gokernels.v1.HealthService, every method). This
// is the one list of health methods; the chain also exempts them from rate
// limits and refusal while draining, and logs them at debug level.
func Public(fullMethod string) bool {
	return inService(fullMethod, healthpb.Health_ServiceDesc.ServiceName) ||
		inService(fullMethod, gokernelsv1.HealthService_ServiceDesc.ServiceName)
}

// Required returns the least role that may call a gRPC method (its full
// name, "/package.Service/Method"); public reports methods that need no
// credentials at all (health checks). Methods not listed need admin, so a
// new RPC is closed until someone decides otherwise. Names come from the
// generated code (*_FullMethodName, *_ServiceDesc), so a renamed RPC stops
// compiling here instead of silently becoming admin-only.
func Required(fullMethod string) (role Role, public bool) {
	if Public(fullMethod) {
		return RoleNone, true
	}
	switch fullMethod {
	case gokernelsv1.KernelService_ListKernels_FullMethodName,
		gokernelsv1.KernelService_GetKernel_FullMethodName,
		gokernelsv1.MetricsService_Metrics_FullMethodName:
		return Viewer, false
	case gokernelsv1.KernelService_Execute_FullMethodName:
		return Executor, false
	}
	switch {
	case inService(fullMethod, reflectionv1.ServerReflection_ServiceDesc.ServiceName),
		inService(fullMethod, reflectionv1alpha.ServerReflection_ServiceDesc.ServiceName):
		return Viewer, false
	case inService(fullMethod, gokernelsv1.RingService_ServiceDesc.ServiceName),
		// The typed kernel RPCs (gokernels.kernels.graph.v1.GraphService/
		// PageRank, …) are Execute with a typed body; their services are
		// generated from the registry (server/kernelrpc).
		strings.HasPrefix(fullMethod, "/gokernels.kernels."):
		// Rings are scoped by the caller's tenant (service.Rings).
		return Executor, false
	}
	return Admin, false
}

// inService reports whether fullMethod is a method of the named service.
func inService(fullMethod, service string) bool {
	rest, ok := strings.CutPrefix(fullMethod, "/"+service)
	return ok && strings.HasPrefix(rest, "/")
}

// Identity is an authenticated caller.
type Identity struct {
	Principal string // "key:<12 hex digits of the key's sha256>" or the JWT sub
	Role      Role
	Tenant    string // "" when none
}

// Authenticator checks credentials and roles.
type Authenticator struct {
	keys     keySet       // nil when no key file
	jwt      *jwtVerifier // nil when no JWT key is configured
	onReject func(reason string)
}

// New loads the API keys and JWT keys that cfg names. Errors name the
// setting at fault, e.g. `GOKERNELS_API_KEYS_FILE: line 3: unknown role
// "boss"`. onReject (may be nil) is called with observe.RejectUnauthenticated
// or observe.RejectPermissionDenied for every refusal.
func New(cfg *config.Config, onReject func(reason string)) (*Authenticator, error) {
	a := &Authenticator{onReject: onReject}
	if a.onReject == nil {
		a.onReject = func(string) {}
	}
	if cfg.APIKeysFile != "" {
		ks, err := loadKeyFile(cfg.APIKeysFile)
		if err != nil {
			return nil, fmt.Errorf("GOKERNELS_API_KEYS_FILE: %w", err)
		}
		a.keys = ks
	}
	v, err := newJWTVerifier(cfg)
	if err != nil {
		return nil, err
	}
	a.jwt = v
	if a.keys == nil && a.jwt == nil {
		return nil, fmt.Errorf("GOKERNELS_AUTH is on but no credentials are configured: set GOKERNELS_API_KEYS_FILE or a JWT key (GOKERNELS_JWT_SECRET, GOKERNELS_JWT_PUBLIC_KEY, GOKERNELS_JWKS_FILE)")
	}
	return a, nil
}

// Unary is the chain's auth stage.
func (a *Authenticator) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := a.Authorize(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// Stream applies the same rules to streaming RPCs (server reflection).
func (a *Authenticator) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := a.Authorize(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

// Authorize authenticates the caller of fullMethod, records who it is in
// the request's reqinfo, and checks the role: the auth stage of the
// server's unary chain (Unary is the same as an interceptor).
func (a *Authenticator) Authorize(ctx context.Context, fullMethod string) error {
	need, public := Required(fullMethod)
	if public {
		return nil
	}
	id, err := a.Authenticate(ctx)
	if err != nil {
		a.onReject(observe.RejectUnauthenticated)
		return err
	}
	ri := reqinfo.From(ctx)
	ri.Principal, ri.Role, ri.Tenant = id.Principal, id.Role.String(), id.Tenant
	if id.Role < need {
		a.onReject(observe.RejectPermissionDenied)
		return errs.WithReason(codes.PermissionDenied, ReasonPermissionDenied,
			fmt.Sprintf("role %s may not call %s: it needs %s", id.Role, methodName(fullMethod), need), 0)
	}
	return nil
}

// Authenticate reads the credentials in ctx's incoming metadata. The error
// is an UNAUTHENTICATED status whose message never contains the credential.
func (a *Authenticator) Authenticate(ctx context.Context) (Identity, error) {
	// ValueFromIncomingContext reads one key; FromIncomingContext would copy
	// all the metadata on every request.
	if key := first(ctx, "x-api-key"); key != "" {
		if id, ok := a.keys.lookup(key); ok {
			return id, nil
		}
		return Identity{}, unauthenticated("invalid API key")
	}
	authz := first(ctx, "authorization")
	if authz == "" {
		return Identity{}, unauthenticated("missing credentials: send an API key in X-API-Key or a token in Authorization: Bearer")
	}
	scheme, cred, _ := strings.Cut(authz, " ")
	cred = strings.TrimSpace(cred)
	if !strings.EqualFold(scheme, "bearer") {
		return Identity{}, unauthenticated("unsupported Authorization scheme: use Bearer")
	}
	if cred == "" {
		return Identity{}, unauthenticated("empty bearer credential")
	}
	// An API key may also come as a bearer credential: keys first (always a
	// full constant-time scan), then JWT.
	if id, ok := a.keys.lookup(cred); ok {
		return id, nil
	}
	if a.jwt != nil && strings.Count(cred, ".") == 2 {
		id, err := a.jwt.verify(cred)
		if err != nil {
			return Identity{}, unauthenticated(err.Error())
		}
		return id, nil
	}
	if a.jwt == nil {
		return Identity{}, unauthenticated("invalid API key")
	}
	if a.keys == nil {
		return Identity{}, unauthenticated("invalid token: token is malformed")
	}
	return Identity{}, unauthenticated("invalid API key or token")
}

func unauthenticated(msg string) error {
	return errs.WithReason(codes.Unauthenticated, ReasonUnauthenticated, msg, 0)
}

func first(ctx context.Context, key string) string {
	if v := metadata.ValueFromIncomingContext(ctx, key); len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// methodName shortens "/gokernels.v1.KernelService/Execute" to
// "KernelService/Execute".
func methodName(full string) string {
	full = strings.TrimPrefix(full, "/")
	svc, m, ok := strings.Cut(full, "/")
	if !ok {
		return full
	}
	if i := strings.LastIndexByte(svc, '.'); i >= 0 {
		svc = svc[i+1:]
	}
	return svc + "/" + m
}
