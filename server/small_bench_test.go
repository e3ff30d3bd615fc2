package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/anypb"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

// The small-request benchmarks measure the serving path's own cost per
// request: degree centrality on a 10-node ring (what `make bench-serve`
// sends at c1), with bench-serve's production settings (API key auth, rate
// limits on but far above the rate, JSON access log at info). Run with -benchmem: the
// allocations and CPU per request are what the interceptor chain, the
// gateway and the transports add.
//
//	go test ./server -run '^$' -bench Small -benchmem
const smallBenchKey = "bench-key-0123456789abcdef"

func startSmallBench(b *testing.B) *server.Server {
	b.Helper()
	keys := filepath.Join(b.TempDir(), "api-keys")
	if err := os.WriteFile(keys, []byte(smallBenchKey+" executor\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg := servertest.Config(b, map[string]string{
		"GOKERNELS_AUTH": "true", "GOKERNELS_API_KEYS_FILE": keys,
		"GOKERNELS_RATE_LIMIT_RPS": "10000000", "GOKERNELS_RATE_LIMIT_BURST": "10000000",
		"GOKERNELS_CLIENT_RATE_LIMIT_RPS": "10000000", "GOKERNELS_CLIENT_RATE_LIMIT_BURST": "10000000",
	})
	// The production access log: one JSON line per request at info (to
	// io.Discard here, so the formatting is measured but not the write).
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return servertest.Start(b, cfg, testRegistry(b), server.Options{Logger: logger})
}

func smallRing() *graphv1.DegreeCentralityInput {
	in := &graphv1.DegreeCentralityInput{NumNodes: 10}
	for i := range int32(10) {
		in.Edges = append(in.Edges, graphinput.PairList([2]int32{i, (i + 1) % 10})...)
	}
	return in
}

func BenchmarkGRPCTypedSmall(b *testing.B) {
	srv := startSmallBench(b)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client := gokernelsv1.NewKernelServiceClient(conn)
	a, err := anypb.New(smallRing())
	if err != nil {
		b.Fatal(err)
	}
	req := &gokernelsv1.ExecuteRequest{KernelId: "graph/degree-centrality", Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: a}}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-api-key", smallBenchKey)
	for b.Loop() {
		resp, err := client.Execute(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		var out graphv1.DegreeCentralityOutput
		if err := resp.GetTypedOutput().UnmarshalTo(&out); err != nil || len(out.GetScores()) != 10 {
			b.Fatalf("output: %v %v", err, resp)
		}
	}
}

func BenchmarkRESTSmall(b *testing.B) {
	srv := startSmallBench(b)
	body := []byte(`{"kernel_id":"graph/degree-centrality","input":{"num_nodes":10,"edges":[[0,1],[1,2],[2,3],[3,4],[4,5],[5,6],[6,7],[7,8],[8,9],[9,0]]}}`)
	url := "http://" + srv.HTTPAddr() + "/execute"
	client := &http.Client{}
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", smallBenchKey)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(out, []byte(`"scores"`)) {
			b.Fatalf("HTTP %d: %.300s", resp.StatusCode, out)
		}
	}
}
