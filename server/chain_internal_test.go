package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/server/reqinfo"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUnaryChainRecoversAPanic: a panic below the chain's recovery stage is
// a plain INTERNAL with no response and no panic text for the client, and
// the server's log line names the request it happened in.
func TestUnaryChainRecoversAPanic(t *testing.T) {
	var logs lockedBuffer
	s := unstartedServer(t, nil, slog.New(slog.NewJSONHandler(&logs, nil)))
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-request-id", "req-panic-1"))
	info := &grpc.UnaryServerInfo{FullMethod: "/gokernels.v1.KernelService/ListKernels"}
	var seen *reqinfo.Info
	resp, err := s.unary(ctx, &gokernelsv1.ListKernelsRequest{}, info, func(ctx context.Context, _ any) (any, error) {
		seen = reqinfo.From(ctx)
		panic("boom in the handler")
	})
	if resp != nil {
		t.Errorf("response %v after a panic, want none", resp)
	}
	if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Fatalf("a panic answered %v %q, want INTERNAL \"internal error\"", st.Code(), st.Message())
	}
	if seen == nil || seen.RequestID != "req-panic-1" {
		t.Fatalf("the handler ran without the request's reqinfo: %+v", seen)
	}
	if out := logs.String(); !strings.Contains(out, `"msg":"panic in request"`) || !strings.Contains(out, `"request_id":"req-panic-1"`) ||
		!strings.Contains(out, "boom in the handler") {
		t.Errorf("panic log line without the request id or the panic: %s", out)
	}
}

// TestUnaryChainStages: the chain's order as documented, auth and rate
// limiting only when configured, and a refused call never reaches the
// handler.
func TestUnaryChainStages(t *testing.T) {
	s := unstartedServer(t, map[string]string{"GOKERNELS_RATE_LIMIT_RPS": "1", "GOKERNELS_RATE_LIMIT_BURST": "1"}, slog.New(slog.DiscardHandler))
	want := "recovery request_id logging metrics draining rate_limit deadline protovalidate"
	if got := strings.Join(s.StageNames(), " "); got != want {
		t.Errorf("stages %q, want %q", got, want)
	}
	info := &grpc.UnaryServerInfo{FullMethod: "/gokernels.v1.KernelService/ListKernels"}
	calls := 0
	handler := func(ctx context.Context, _ any) (any, error) {
		calls++
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the handler's context has no deadline (the default applies)")
		}
		return &gokernelsv1.ListKernelsResponse{}, nil
	}
	ctx := context.Background()
	if _, err := s.unary(ctx, &gokernelsv1.ListKernelsRequest{}, info, handler); err != nil || calls != 1 {
		t.Fatalf("first call: %v (handler ran %d times)", err, calls)
	}
	if _, err := s.unary(ctx, &gokernelsv1.ListKernelsRequest{}, info, handler); status.Code(err) != codes.ResourceExhausted || calls != 1 {
		t.Fatalf("second call within the 1/s limit: %v (handler ran %d times)", err, calls)
	}
	// protovalidate: page_size must be >= 0.
	s.limiter = nil
	if _, err := s.unary(ctx, &gokernelsv1.ListKernelsRequest{PageSize: -1}, info, handler); status.Code(err) != codes.InvalidArgument || calls != 1 {
		t.Fatalf("invalid request: %v (handler ran %d times)", err, calls)
	}
}
