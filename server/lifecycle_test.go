package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/pool"
	"github.com/gokernels/gokernels/server/servertest"
)

// TestDrainOverEveryTransport: during a drain, readiness and the standard
// gRPC health service report not serving at once (Watch sees the change), an
// in-flight request completes, and after the grace new requests get
// UNAVAILABLE / 503.
func TestDrainOverEveryTransport(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(t, map[string]string{"GOKERNELS_DRAIN_GRACE": "400ms"}), testRegistry(t), serverOptions())
	transports := servertest.Transports(t, srv)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	watch, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{Service: "gokernels.v1.KernelService"})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch before drain: %v %v", r, err)
	}

	inflight := make(chan servertest.Result, 1)
	go func() {
		inflight <- transports[2].Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"sleep_ms": 1200, "count": 5}`), nil)
	}()
	time.Sleep(150 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Shutdown() }()

	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("watch during drain: %v %v", r, err)
	}
	for _, tr := range transports {
		if r := tr.Call(ctx, "GET", "/health/ready", nil, nil); r.Code != codes.Unavailable {
			t.Errorf("%s: ready during drain: %v", tr.Name(), r.Code)
		}
		if r := tr.Call(ctx, "GET", "/health/live", nil, nil); r.Code != codes.OK {
			t.Errorf("%s: live during drain: %v", tr.Name(), r.Code)
		}
	}
	time.Sleep(500 * time.Millisecond) // past the grace
	for _, tr := range transports {
		r := tr.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{}`), nil)
		if r.Code != codes.Unavailable || (tr.Name() == "rest" && r.HTTPStatus != 503) {
			t.Errorf("%s: new request after the grace: %v HTTP %d", tr.Name(), r.Code, r.HTTPStatus)
		}
	}
	if r := <-inflight; r.Code != codes.OK || r.Output["count"] != 5.0 {
		t.Fatalf("in-flight request: %v %s %v", r.Code, r.Message, r.Output)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestDrainClosesThePool: a graceful shutdown lets the kernel in flight
// finish and answer, then closes the server's kernel pool once the
// transports accept nothing more: no kernel is left running and nothing is
// admitted after it (pool.ErrClosed).
func TestDrainClosesThePool(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(t, nil), testRegistry(t), serverOptions())
	rest := servertest.Transports(t, srv)[2]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inflight := make(chan servertest.Result, 1)
	go func() {
		inflight <- rest.Call(ctx, "POST", "/execute", execBody(testkernels.Echo, `{"sleep_ms": 500, "count": 7}`), nil)
	}()
	for srv.Pool().Running() == 0 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := srv.Pool().Execute(ctx, testkernels.Echo, &testingv1.EchoInput{Count: 1}); err != nil {
		t.Fatalf("the pool before the drain: %v", err)
	}
	if err := srv.Shutdown(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if r := <-inflight; r.Code != codes.OK || r.Output["count"] != 7.0 {
		t.Fatalf("in-flight request: %v %s %v", r.Code, r.Message, r.Output)
	}
	st := srv.Pool().Stats()
	if st.Running != 0 || st.Succeeded != 2 {
		t.Errorf("pool after the drain: %+v, want nothing running and both calls succeeded", st)
	}
	if _, err := srv.Pool().Execute(ctx, testkernels.Echo, &testingv1.EchoInput{Count: 1}); !errors.Is(err, pool.ErrClosed) {
		t.Errorf("a call after the drain: %v, want pool.ErrClosed", err)
	}
}
