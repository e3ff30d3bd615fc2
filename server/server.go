// Package server assembles gokernels: one *grpc.Server with one interceptor
// chain (chain.go), served natively on the gRPC port and, on the HTTP port,
// both as gRPC over h2c and as REST through the gateway, which calls the same
// services through the same chain in-process (inproc.go). It owns the
// lifecycle: start, ready, drain, stop.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"buf.build/go/protovalidate"
	"github.com/rs/cors"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/stats"

	"github.com/gokernels/gokernels/cluster"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/pool"
	"go.opentelemetry.io/otel/propagation"

	"github.com/gokernels/gokernels/ring"
	"github.com/gokernels/gokernels/server/auth"
	"github.com/gokernels/gokernels/server/config"
	"github.com/gokernels/gokernels/server/gateway"
	"github.com/gokernels/gokernels/server/kernelrpc"
	"github.com/gokernels/gokernels/server/observe"
	"github.com/gokernels/gokernels/server/ratelimit"
	"github.com/gokernels/gokernels/server/service"
)

// Authenticator is the auth stage of the chain.
type Authenticator interface {
	// Authorize authenticates the caller of a unary fullMethod (recording
	// who it is in the request's reqinfo) and checks its role; an error is
	// the call's answer.
	Authorize(ctx context.Context, fullMethod string) error
	Stream() grpc.StreamServerInterceptor
}

// Options are the pluggable parts of a Server.
type Options struct {
	Logger   *slog.Logger
	Backends service.Backends  // nil = CPU only
	GPU      service.GPUHealth // nil = absent
	Auth     Authenticator     // nil = no authentication
	CUDA     bool              // binary built with the CUDA backend
	// TracerProvider overrides the one built from the configuration (tests
	// pass an in-memory exporter).
	TracerProvider trace.TracerProvider
	// RingSlowConsumerAfter closes a ring Session whose write has been
	// blocked this long (the client stopped reading); 0 = the default 10s.
	RingSlowConsumerAfter time.Duration
	// Now is the clock of the kernel quarantine (nil: time.Now; tests).
	Now func() time.Time
	// RingJournalFault injects journal write/fsync failures (tests only;
	// see ring.Options.JournalFault).
	RingJournalFault func(op string) error
}

// Server is a configured, not yet listening, gokernels server.
type Server struct {
	cfg       *config.Config
	log       *slog.Logger
	registry  *registry.Registry
	state     *service.State
	metrics   *observe.Recorder
	pool      *pool.Pool // admission of every kernel execution
	limiter   *ratelimit.Limiter
	auth      Authenticator
	validator protovalidate.Validator

	grpc    *grpc.Server
	inproc  *conn // the REST gateway's way in (inproc.go)
	health  *health.Server
	handler http.Handler

	httpSrv  *http.Server
	httpLis  net.Listener
	grpcLis  net.Listener
	serveErr chan error
	stopOnce sync.Once
	cancel   context.CancelFunc

	tracer        trace.TracerProvider
	traceShutdown func(context.Context) error
	// exported: spans can leave the process (an OTLP endpoint, or a
	// provider from Options); else only trace ids are made (rpcTracing).
	exported bool

	rings      *ring.Runtime
	cluster    *cluster.Node // cluster mode (GOKERNELS_CLUSTER_NATS_URL); nil = single node
	inflight   inflight      // what a drain waits for (see drain.go)
	streamsCtx context.Context
	// endStreamsNow ends every server stream's context (drain.go).
	endStreamsNow context.CancelFunc
	pprof         *http.Server // GOKERNELS_PPROF_ADDR, when set
}

// New builds the server: services, chain, gateway. It does not listen.
func New(cfg *config.Config, reg *registry.Registry, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	// Registration is over: the registry is read-only from here on.
	reg.Freeze()
	s := &Server{cfg: cfg, log: log, registry: reg, state: service.NewState(), auth: opts.Auth}
	s.streamsCtx, s.endStreamsNow = context.WithCancel(context.Background())
	// The server admits executions through the embeddable pool's admission
	// (one mechanism, not two). Deadlines come from the chain's deadline
	// stage, not the pool's default. A panic is an INTERNAL answer to its
	// own request; a kernel that keeps panicking (GOKERNELS_QUARANTINE_*)
	// is refused for a while, with UNAVAILABLE and a retry delay, while
	// the other kernels and health carry on.
	mailbox := cfg.MaxQueue
	if mailbox == 0 {
		mailbox = -1 // no waiting (pool's 0 means its default)
	}
	quarantine := cfg.QuarantineAfter
	if quarantine == 0 {
		quarantine = -1 // never (pool's 0 means its default)
	}
	p, err := pool.New(reg, pool.Config{Workers: cfg.EffectiveConcurrency(), MailboxCapacity: mailbox,
		DefaultTimeout: -1, QuarantineAfter: quarantine, QuarantineWindow: cfg.QuarantineWindow, QuarantineFor: cfg.QuarantineFor,
		MemoryBudget: cfg.EffectiveMemoryBudget(), Now: opts.Now})
	if err != nil {
		return nil, err
	}
	s.pool = p
	s.metrics = observe.New(observe.Options{
		Version:        observe.Version,
		CUDA:           opts.CUDA,
		QueueLen:       func() float64 { return float64(s.pool.Waiting()) },
		MemoryReserved: func() float64 { return float64(s.pool.Reserved()) },
	})
	if s.auth == nil && cfg.AuthEnabled {
		a, err := auth.New(cfg, s.metrics.Reject)
		if err != nil {
			return nil, err
		}
		s.auth = a
	}
	idle := cfg.RingIdleTimeout
	if idle == 0 {
		idle = -1 // never
	}
	rings, err := ring.New(reg, ring.Options{
		Dir: cfg.DataDir, Development: !cfg.Production(), IdleTimeout: idle,
		MaxRings: cfg.MaxRings, MaxRingsPerTenant: cfg.MaxRingsPerTenant,
		Metrics: s.metrics.Registry, Logger: log, JournalFault: opts.RingJournalFault,
	})
	if err != nil {
		return nil, fmt.Errorf("rings (GOKERNELS_DATA_DIR %q): %w", cfg.DataDir, err)
	}
	s.rings = rings
	if cfg.ClusterNATSURL != "" {
		member := cfg.ClusterMember
		if member == "" {
			member, _ = os.Hostname()
		}
		node, err := cluster.New(reg, cluster.Options{URL: cfg.ClusterNATSURL, Member: member,
			Partitions: cfg.ClusterPartitions, Replicas: cfg.ClusterReplicas, Logger: log})
		if err != nil {
			_ = rings.Shutdown(context.Background())
			return nil, err
		}
		s.cluster = node
	}
	counts := map[[2]string]int{}
	for _, k := range reg.List("", 0) {
		for _, m := range k.Modes {
			counts[[2]string{k.Domain, m.String()}]++
		}
	}
	s.metrics.SetRegistered(counts)

	v, err := protovalidate.New()
	if err != nil {
		return nil, err
	}
	s.validator = v
	s.tracer, s.traceShutdown = opts.TracerProvider, func(context.Context) error { return nil }
	// A kernel span is started only where spans can be exported: with the
	// server's own provider and no GOKERNELS_OTLP_ENDPOINT it would have no
	// span processor to end in (the RPC span's trace id still reaches the
	// request log).
	s.exported = s.tracer != nil || cfg.OTLPEndpoint != ""
	if s.tracer == nil {
		if s.tracer, s.traceShutdown, err = observe.TracerProvider(context.Background(), cfg.OTLPEndpoint, cfg.OTLPProtocol); err != nil {
			return nil, err
		}
	}
	proxies, err := ratelimit.ParseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("GOKERNELS_TRUSTED_PROXIES: %w", err)
	}
	s.limiter = ratelimit.New(ratelimit.Options{
		GlobalRPS: cfg.RateLimitRPS, GlobalBurst: cfg.RateLimitBurst,
		ClientRPS: cfg.ClientRateLimitRPS, ClientBurst: cfg.ClientRateLimitBurst,
		Gateway:        func(p *peer.Peer) bool { return p.Addr != nil && p.Addr.Network() == inprocNetwork },
		TrustedProxies: proxies,
	})
	if s.limiter != nil {
		s.limiter.OnReject = func(string) { s.metrics.Reject(observe.RejectRateLimit) }
	}

	serverOpts := []grpc.ServerOption{
		grpc.StatsHandler(rpcInflight{&s.inflight}),
		grpc.StatsHandler(s.rpcTracing()),
		grpc.UnaryInterceptor(s.unary),
		grpc.ChainStreamInterceptor(s.streamInterceptors()...),
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes),
		// A fixed pool of stream workers reuses goroutines (and their grown
		// stacks) instead of starting one per RPC: ~20% less CPU per call.
		grpc.NumStreamWorkers(uint32(runtime.NumCPU())),
		// Recycle connections every few minutes so that clients balancing
		// over a headless Service spread onto replicas added by a scale-up.
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 5 * time.Minute, MaxConnectionAgeGrace: time.Minute}),
	}
	if cfg.TLSCert != "" {
		tc, err := s.tlsConfig()
		if err != nil {
			return nil, err
		}
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(tc)))
	}
	s.grpc = grpc.NewServer(serverOpts...)
	s.inproc = s.newInproc()
	services := registrars{s.grpc, s.inproc}

	backends := opts.Backends
	if backends == nil {
		backends = service.NoGPU{}
	}
	// A backend with metrics of its own (the CUDA selector) registers them
	// with the server's recorder here, once.
	if b, ok := backends.(interface{ Bind(*observe.Recorder) error }); ok {
		if err := b.Bind(s.metrics); err != nil {
			return nil, err
		}
	}
	kernels := &service.Kernels{
		Registry: reg, Pool: s.pool, Metrics: s.metrics, Limits: cfg.Limits, Backends: backends, Log: log,
		MaxResponseBytes: cfg.MaxResponseBytes,
	}
	if s.exported {
		kernels.Tracer = s.tracer.Tracer("github.com/gokernels/gokernels/server/service")
	}
	gokernelsv1.RegisterKernelServiceServer(services, kernels)
	// The typed per-domain kernel services (GraphService/PageRank, …):
	// the same execution path as Execute, through the same chain.
	routes, err := kernelrpc.Routes(reg)
	if err != nil {
		return nil, err
	}
	for _, sd := range kernelrpc.Services(routes, kernels.ExecuteTyped) {
		services.RegisterService(sd, struct{}{})
	}
	gokernelsv1.RegisterHealthServiceServer(services, &service.Health{
		Registry: reg, Pool: s.pool, Metrics: s.metrics, State: s.state, GPU: opts.GPU, Cluster: s.clusterHealth(),
	})
	gokernelsv1.RegisterMetricsServiceServer(services, &service.Metrics{Recorder: s.metrics})
	if s.cluster != nil {
		gokernelsv1.RegisterRingServiceServer(services, &service.ClusterRings{Node: s.cluster})
	} else {
		gokernelsv1.RegisterRingServiceServer(services, &service.Rings{Runtime: s.rings, SlowConsumerAfter: opts.RingSlowConsumerAfter})
	}
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.metrics.GRPCMetrics.InitializeMetrics(s.grpc)
	s.mirrorHealth()

	// The typed routes go in first: grpc-gateway tries the routes of a
	// method newest first, failing each pattern with an error it inspects
	// (errors.As), so behind ~100 typed POST routes every POST /execute paid
	// ~4% of its CPU matching them. Now /execute is tried before them; no
	// pattern of one set can match a path of the other.
	gw, err := gateway.New(context.Background(), s.inproc, slices.Concat([]gateway.Register{gateway.Typed(routes)}, gateway.Services), int64(cfg.MaxRequestBytes),
		func() { s.metrics.Reject(observe.RejectTooLarge) })
	if err != nil {
		return nil, err
	}
	s.handler = s.httpHandler(gw)
	return s, nil
}

// Pool is the admission every kernel execution goes through (Execute and
// the typed RPCs, on every transport): the embeddable pool's.
func (s *Server) Pool() *pool.Pool { return s.pool }

// Metrics exposes the recorder (tests, the CUDA backend's gauges).
func (s *Server) Metrics() *observe.Recorder { return s.metrics }

// Rings exposes the ring runtime.
func (s *Server) Rings() *ring.Runtime { return s.rings }

// Cluster is the cluster-mode node (nil on a single node).
func (s *Server) Cluster() *cluster.Node { return s.cluster }

func (s *Server) clusterHealth() service.ClusterHealth {
	if s.cluster == nil {
		return nil
	}
	return s.cluster
}

// closeCluster leaves the cluster: owned partitions are snapshotted and
// their leases released, so other replicas take over at once.
func (s *Server) closeCluster(ctx context.Context) {
	if s.cluster != nil {
		if err := s.cluster.Close(ctx); err != nil {
			s.log.Warn("leaving the ring cluster", "error", err)
		}
	}
}

// State exposes the lifecycle.
func (s *Server) State() *service.State { return s.state }

// mirrorHealth keeps grpc.health.v1 in step with readiness: "" and every
// service are SERVING only while ready.
func (s *Server) mirrorHealth() {
	set := func(st healthpb.HealthCheckResponse_ServingStatus) {
		s.health.SetServingStatus("", st)
		for name := range s.grpc.GetServiceInfo() {
			s.health.SetServingStatus(name, st)
		}
	}
	set(healthpb.HealthCheckResponse_NOT_SERVING)
	s.state.OnChange(func(p service.Phase) {
		if p == service.Ready {
			set(healthpb.HealthCheckResponse_SERVING)
		} else {
			set(healthpb.HealthCheckResponse_NOT_SERVING)
		}
	})
}

// httpHandler routes gRPC (HTTP/2, application/grpc) to the gRPC server and
// everything else to the REST gateway, under the configured prefix and CORS.
func (s *Server) httpHandler(gw http.Handler) http.Handler {
	edge := gateway.EdgeOptions{DefaultTimeout: s.cfg.DefaultTimeout, MaxTimeout: s.cfg.MaxTimeout}
	if a, ok := s.auth.(interface {
		Authenticate(context.Context) (auth.Identity, error)
	}); ok {
		edge.Authenticate = func(ctx context.Context) error { _, err := a.Authenticate(ctx); return err }
	}
	gw = gateway.Edge(gw, edge)
	// otelhttp continues an incoming W3C traceparent; its span's context
	// then travels as the traceparent the gateway forwards into the chain,
	// so one REST call is one trace. Without export the gateway forwards
	// the client's traceparent as it came, and the chain's trace ids
	// (rpcTracing) continue it the same way.
	rest := gw
	if s.exported {
		rest = otelhttp.NewHandler(withTraceparent(gw), "gokernels.rest",
			otelhttp.WithTracerProvider(s.tracer), otelhttp.WithPropagators(observe.Propagator),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }))
	}
	if p := s.cfg.HTTPPrefix; p != "" {
		mux := http.NewServeMux()
		mux.Handle(p+"/", http.StripPrefix(p, gw))
		rest = mux
	}
	if origins := s.cfg.CORSOrigins; len(origins) > 0 {
		rest = cors.New(cors.Options{
			AllowedOrigins: origins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
			AllowedHeaders: []string{"Content-Type", "Authorization", "X-API-Key", "X-Request-ID", "X-Tenant-ID", "Grpc-Timeout", "traceparent", "tracestate"},
			ExposedHeaders: []string{"X-Request-Id", "Retry-After"},
			MaxAge:         600,
		}).Handler(rest)
	}
	rest = s.restInflight(rest)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			if isStream(r.URL.Path) {
				// ReadTimeout bounds unary calls; a Watch or reflection
				// stream legitimately stays open.
				_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
			}
			s.grpc.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// rpcTracing is the gRPC stats handler for tracing, on the gRPC server and
// the in-process connection: otelgrpc's spans when spans can be exported,
// else trace ids only (observe.TraceIDs: a span per RPC that could go
// nowhere cost ~16 allocations and an id generator's lock per call).
func (s *Server) rpcTracing() stats.Handler {
	if s.exported {
		return otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(s.tracer), otelgrpc.WithPropagators(observe.Propagator))
	}
	return observe.TraceIDs{}
}

// withTraceparent sets the request's trace headers to the current span (the
// REST span otelhttp started), for the gateway to forward.
func withTraceparent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		observe.Propagator.Inject(r.Context(), propagation.HeaderCarrier(r.Header))
		next.ServeHTTP(w, r)
	})
}

// isStream reports whether a gRPC method path is one of the streaming RPCs
// (health Watch, server reflection).
func isStream(path string) bool {
	return path == "/grpc.health.v1.Health/Watch" || strings.Contains(path, ".ServerReflection/")
}

func (s *Server) tlsConfig() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("GOKERNELS_TLS_CERT/KEY: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if s.cfg.TLSClientCA != "" {
		pem, err := os.ReadFile(s.cfg.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("GOKERNELS_TLS_CLIENT_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("GOKERNELS_TLS_CLIENT_CA: no certificates in %s", s.cfg.TLSClientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// Start binds both listeners and serves in the background; the server is
// ready when Start returns.
func (s *Server) Start() error {
	var tc *tls.Config
	if s.cfg.TLSCert != "" {
		var err error
		if tc, err = s.tlsConfig(); err != nil {
			return err
		}
	}
	var err error
	if s.grpcLis, err = net.Listen("tcp", s.cfg.GRPCAddr); err != nil {
		return fmt.Errorf("gRPC listener %s: %w", s.cfg.GRPCAddr, err)
	}
	if s.httpLis, err = net.Listen("tcp", s.cfg.HTTPAddr); err != nil {
		s.grpcLis.Close()
		return fmt.Errorf("HTTP listener %s: %w", s.cfg.HTTPAddr, err)
	}
	if s.cfg.PprofAddr != "" {
		if s.pprof, err = servePprof(s.cfg.PprofAddr); err != nil {
			s.grpcLis.Close()
			s.httpLis.Close()
			return err
		}
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(true)
	s.httpSrv = &http.Server{
		Handler:   s.handler,
		Protocols: &protocols,
		// Slow clients cannot hold connections: headers within 10 s (or
		// the max deadline, if shorter), a whole request within the max
		// deadline (REST bodies within the request's own deadline, see
		// gateway.Edge), idle keep-alive connections closed after 2 min.
		ReadHeaderTimeout: min(10*time.Second, s.cfg.MaxTimeout),
		ReadTimeout:       s.cfg.MaxTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if s.limiter != nil {
		go s.limiter.Run(ctx)
	}
	s.serveErr = make(chan error, 2)
	go func() { s.serveErr <- s.grpc.Serve(s.grpcLis) }()
	go func() {
		var err error
		if tc != nil {
			s.httpSrv.TLSConfig = tc
			err = s.httpSrv.ServeTLS(s.httpLis, "", "")
		} else {
			err = s.httpSrv.Serve(s.httpLis)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
	}()
	s.state.Set(service.Ready)
	s.log.Info("gokernels serving", "version", observe.Version, "env", s.cfg.Env,
		"http", s.httpLis.Addr().String(), "grpc", s.grpcLis.Addr().String(),
		"kernels", s.registry.Len(), "workers", s.pool.Stats().Workers)
	return nil
}

// HTTPAddr is the bound HTTP address (after Start).
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// GRPCAddr is the bound gRPC address (after Start).
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// Close stops at once, without draining (tests).
func (s *Server) Close() {
	s.stopOnce.Do(func() {
		s.state.Set(service.Stopped)
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.rings.Shutdown(rctx)
		s.closeCluster(rctx)
		rcancel()
		s.grpc.Stop()
		if s.httpSrv != nil {
			_ = s.httpSrv.Close()
		}
		if s.cancel != nil {
			s.cancel()
		}
		if s.pprof != nil {
			_ = s.pprof.Close()
		}
	})
}

// Errors reports a listener that failed while serving.
func (s *Server) Errors() <-chan error { return s.serveErr }
