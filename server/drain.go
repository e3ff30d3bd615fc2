package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/gokernels/gokernels/server/service"
)

// inflight counts what a drain waits for: a request is in flight until the
// last byte of its answer is handed to the connection, on every transport —
// a REST request until the gateway's handler has written the rendered body
// (the in-process gRPC call it makes ends earlier), a native or h2c gRPC
// call until its status is written (stats.End), not when the handler returns.
type inflight struct {
	n atomic.Int64

	mu   sync.Mutex
	next uint64
	reqs map[uint64]inflightReq // what a drain timeout cuts, for the log
}

type inflightReq struct {
	what  string
	since time.Time
}

func (f *inflight) begin(what string) func() {
	f.n.Add(1)
	f.mu.Lock()
	if f.reqs == nil {
		f.reqs = map[uint64]inflightReq{}
	}
	f.next++
	id := f.next
	f.reqs[id] = inflightReq{what: what, since: time.Now()}
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		delete(f.reqs, id)
		f.mu.Unlock()
		f.n.Add(-1)
	}
}

// describe lists the requests in flight, oldest first, for the drain-timeout
// log line.
func (f *inflight) describe() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	type item struct {
		inflightReq
		id uint64
	}
	var items []item
	for id, r := range f.reqs {
		items = append(items, item{r, id})
	}
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && items[j].id < items[j-1].id; j-- {
			items[j], items[j-1] = items[j-1], items[j]
		}
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = fmt.Sprintf("%s (for %s)", it.what, time.Since(it.since).Round(time.Millisecond))
	}
	return out
}

// restInflight wraps the REST handler: in flight until ServeHTTP returns,
// that is after the body was written.
func (s *Server) restInflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.inflight.begin("REST " + r.Method + " " + r.URL.Path + " request_id=" + r.Header.Get("X-Request-ID"))()
		next.ServeHTTP(w, r)
	})
}

// rpcInflight is a gRPC stats handler counting unary calls (health checks
// excluded) from their start until their status is written.
type rpcInflight struct{ f *inflight }

type rpcKey struct{}

func (h rpcInflight) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if isHealth(info.FullMethodName) {
		return ctx
	}
	return context.WithValue(ctx, rpcKey{}, &rpcSlot{method: info.FullMethodName})
}

type rpcSlot struct {
	method string
	end    func()
}

func (h rpcInflight) HandleRPC(ctx context.Context, st stats.RPCStats) {
	slot, ok := ctx.Value(rpcKey{}).(*rpcSlot)
	if !ok || st.IsClient() {
		return
	}
	switch st := st.(type) {
	case *stats.Begin:
		if !st.IsClientStream && !st.IsServerStream {
			slot.end = h.f.begin("gRPC " + slot.method)
		}
	case *stats.End:
		if slot.end != nil {
			slot.end()
			slot.end = nil
		}
	}
}

func (rpcInflight) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (rpcInflight) HandleConn(context.Context, stats.ConnStats)                       {}

// endStreams gives every server stream (health Watch) a context that ends
// when the drain has finished with the unary calls, so that the graceful
// stop of the gRPC server waits for answers being written, not for watchers.
func (s *Server) endStreams(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	stop := context.AfterFunc(s.streamsCtx, cancel)
	defer stop()
	return handler(srv, &ctxStream{ServerStream: ss, ctx: ctx})
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *ctxStream) Context() context.Context { return c.ctx }

// DrainTimeoutError reports the requests a drain cut when its timeout ran
// out. The process still exits 0: the drain did what it promises.
type DrainTimeoutError struct {
	Timeout time.Duration
	Cut     []string
}

func (e *DrainTimeoutError) Error() string {
	return fmt.Sprintf("drain timed out after %s with %d requests in flight: %s", e.Timeout, len(e.Cut), strings.Join(e.Cut, "; "))
}

// Shutdown drains: readiness fails at once; after DrainGrace new requests
// are refused; requests in flight get up to DrainTimeout to be answered to
// the last byte; then the HTTP server, the gateway's in-process connection
// and the gRPC server close, in that order, and last the kernel pool
// (pool.Close: it admits nothing more and waits for running kernels). It returns when the server has
// stopped, with a *DrainTimeoutError naming what was cut if the timeout ran
// out.
func (s *Server) Shutdown() error {
	var err error
	s.stopOnce.Do(func() {
		s.log.Info("drain started", "grace", s.cfg.DrainGrace, "timeout", s.cfg.DrainTimeout)
		s.state.Set(service.Draining)
		time.Sleep(s.cfg.DrainGrace)
		s.state.Set(service.Refusing)

		// Rings first: refuse new messages, apply every mailbox (waiting
		// Sends get their replies), snapshot every durable ring, and end
		// sessions and watches (REST watches too) with DRAINING.
		deadline := time.Now().Add(s.cfg.DrainTimeout)
		rctx, rcancel := context.WithDeadline(context.Background(), deadline)
		if rerr := s.rings.Shutdown(rctx); rerr != nil {
			s.log.Warn("ring drain incomplete", "error", rerr)
		}
		rcancel()

		// Listeners stay open while in-flight calls finish, so that new
		// requests get a clear 503 / UNAVAILABLE rather than a refused
		// connection.
		for s.inflight.n.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		// What is left of the timeout bounds the closing steps; after a
		// timeout they get a moment only.
		closing := time.Until(deadline)
		if s.inflight.n.Load() > 0 {
			cut := s.inflight.describe()
			s.log.Warn("drain timeout: closing with requests in flight", "timeout", s.cfg.DrainTimeout,
				"requests", len(cut), "cut", cut)
			err = &DrainTimeoutError{Timeout: s.cfg.DrainTimeout, Cut: cut}
			closing = 100 * time.Millisecond
		}
		closing = max(closing, 100*time.Millisecond)
		s.endStreamsNow()
		ctx, cancel := context.WithTimeout(context.Background(), closing)
		defer cancel()
		// Cluster mode: hand the owned partitions over (snapshot, release
		// the leases) once no request of ours needs the NATS connection.
		s.closeCluster(ctx)
		if s.httpSrv.Shutdown(ctx) != nil {
			_ = s.httpSrv.Close()
		}
		stopped := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-ctx.Done():
			s.grpc.Stop()
		}
		// The transports accept nothing more; close the pool: a kernel still
		// running (a drain that timed out) gets what is left of the closing
		// time to finish, and nothing is admitted after it (ErrClosed).
		if perr := s.pool.Close(ctx); perr != nil {
			s.log.Warn("drain: kernels still running when the pool closed", "running", s.pool.Running(), "error", perr)
		}
		s.cancel()
		if s.pprof != nil {
			_ = s.pprof.Close()
		}
		_ = s.traceShutdown(context.Background())
		s.state.Set(service.Stopped)
		s.log.Info("stopped")
	})
	return err
}
