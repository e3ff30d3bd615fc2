package server

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/anypb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/server/config"
	"github.com/gokernels/gokernels/server/jsoninput"
	"github.com/gokernels/gokernels/server/service"
)

// BenchmarkChainTyped measures the server side of a small typed Execute
// (degree centrality on a 10-node ring with typed_input, what `make
// bench-serve`'s typed probe sends) without a transport: the in-process
// connection's call through the one interceptor chain into the service,
// with bench-serve's production settings (API key auth, rate limits on but
// far above the rate, JSON access log at info). Its ns/op and allocs/op are
// the server-side overhead the probe's request log reports, plus the log
// line itself:
//
//	go test ./server -run '^$' -bench ChainTyped -benchmem
func BenchmarkChainTyped(b *testing.B) {
	const key = "bench-key-0123456789abcdef"
	keys := filepath.Join(b.TempDir(), "api-keys")
	if err := os.WriteFile(keys, []byte(key+" executor\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	s := unstartedServer(b, map[string]string{
		"GOKERNELS_ENV": "production", "GOKERNELS_API_KEYS_FILE": keys,
		"GOKERNELS_RATE_LIMIT_RPS": "10000000", "GOKERNELS_RATE_LIMIT_BURST": "10000000",
		"GOKERNELS_CLIENT_RATE_LIMIT_RPS": "10000000", "GOKERNELS_CLIENT_RATE_LIMIT_BURST": "10000000",
	}, slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})))
	// The input built from its JSON shape, which stays the same whatever
	// the typed message's edge encoding.
	k, _ := s.registry.Get("graph/degree-centrality")
	in := k.NewInput()
	if err := jsoninput.Decode([]byte(`{"num_nodes":10,"edges":[[0,1],[1,2],[2,3],[3,4],[4,5],[5,6],[6,7],[7,8],[8,9],[9,0]]}`), in); err != nil {
		b.Fatal(err)
	}
	a, err := anypb.New(in)
	if err != nil {
		b.Fatal(err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-api-key", key)
	var header metadata.MD
	for b.Loop() {
		req := &gokernelsv1.ExecuteRequest{KernelId: "graph/degree-centrality", Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: a}}
		resp := new(gokernelsv1.ExecuteResponse)
		if err := s.inproc.Invoke(ctx, "/gokernels.v1.KernelService/Execute", req, resp, grpc.Header(&header)); err != nil {
			b.Fatal(err)
		}
		if resp.GetTypedOutput() == nil {
			b.Fatalf("no typed output: %v", resp)
		}
	}
}

// unstartedServer builds a server that is ready but listens nowhere: calls
// go through its in-process connection (s.inproc), the REST gateway's way
// in, which runs the same unary chain as the gRPC server.
func unstartedServer(tb testing.TB, env map[string]string, logger *slog.Logger) *Server {
	tb.Helper()
	get := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		switch k {
		case "GOKERNELS_HTTP_ADDR", "GOKERNELS_GRPC_ADDR":
			return "127.0.0.1:0"
		case "GOKERNELS_DATA_DIR":
			return tb.TempDir()
		}
		return ""
	}
	cfg, err := config.Load(nil, get)
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := catalog.New()
	if err != nil {
		tb.Fatal(err)
	}
	if err := testkernels.Register(reg); err != nil {
		tb.Fatal(err)
	}
	s, err := New(cfg, reg, Options{Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	s.state.Set(service.Ready)
	return s
}
