package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/server/servertest"
)

const benchNodes, benchEdges = 200_000, 1_000_000

func benchEdgeList() [][2]int32 {
	edges := make([][2]int32, benchEdges)
	for i := range edges {
		edges[i] = [2]int32{int32((i * 7919) % benchNodes), int32((i * 104729) % benchNodes)}
	}
	return edges
}

func benchRESTBody() []byte {
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"kernel_id": "graph/pagerank", "input": {"num_nodes": %d, "directed": true, "edges": [`, benchNodes)
	for i, e := range benchEdgeList() {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "[%d,%d]", e[0], e[1])
	}
	sb.WriteString("]}}")
	return []byte(sb.String())
}

// BenchmarkREST1MEdgePageRank: a 1,000,000-edge PageRank request over REST,
// end to end (JSON decoding into the typed input, kernel, JSON output). Compare with
// BenchmarkStdlibDecode1MEdges (encoding/json into a plain struct) and
// BenchmarkGRPCTyped1MEdgePageRank (binary typed form) from the same run:
//
//	go test ./server -run '^$' -bench 1MEdge -benchtime 5x
func BenchmarkREST1MEdgePageRank(b *testing.B) {
	srv := servertest.Start(b, servertest.Config(b, map[string]string{"GOKERNELS_MAX_REQUEST_BYTES": "67108864"}), testRegistry(b), serverOptions())
	body := benchRESTBody()
	url := "http://" + srv.HTTPAddr() + "/execute"
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("HTTP %d: %.300s", resp.StatusCode, out)
		}
	}
}

// BenchmarkGRPCTyped1MEdgePageRank: the same request from a gRPC client with
// the binary typed input (edges as packed_edges) and output.
func BenchmarkGRPCTyped1MEdgePageRank(b *testing.B) {
	in := &graphv1.PageRankInput{NumNodes: benchNodes, Directed: true}
	for _, e := range benchEdgeList() {
		in.PackedEdges = append(in.PackedEdges, e[0], e[1])
	}
	benchGRPCTyped(b, in)
}

// BenchmarkGRPCTypedEdgeMessages1MEdgePageRank: the same with the edges in
// their JSON form, one google.protobuf.ListValue of two double Values each
// (what a protojson client such as grpcurl sends over gRPC).
func BenchmarkGRPCTypedEdgeMessages1MEdgePageRank(b *testing.B) {
	in := &graphv1.PageRankInput{NumNodes: benchNodes, Directed: true}
	for _, e := range benchEdgeList() {
		in.Edges = append(in.Edges, graphinput.PairList(e)...)
	}
	benchGRPCTyped(b, in)
}

func benchGRPCTyped(b *testing.B, in *graphv1.PageRankInput) {
	srv := servertest.Start(b, servertest.Config(b, map[string]string{"GOKERNELS_MAX_REQUEST_BYTES": "67108864"}), testRegistry(b), serverOptions())
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client := gokernelsv1.NewKernelServiceClient(conn)
	for b.Loop() {
		a, _ := anypb.New(in)
		resp, err := client.Execute(context.Background(), &gokernelsv1.ExecuteRequest{
			KernelId: "graph/pagerank", Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: a}})
		if err != nil {
			b.Fatal(err)
		}
		var out graphv1.PageRankOutput
		if err := resp.GetTypedOutput().UnmarshalTo(&out); err != nil || len(out.GetScores()) != benchNodes {
			b.Fatalf("output: %v", err)
		}
	}
}

// BenchmarkStdlibDecode1MEdges is the baseline: encoding/json decoding the
// same body into a plain Go struct.
func BenchmarkStdlibDecode1MEdges(b *testing.B) {
	body := benchRESTBody()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var req struct {
			KernelID string `json:"kernel_id"`
			Input    struct {
				NumNodes int        `json:"num_nodes"`
				Directed bool       `json:"directed"`
				Edges    [][2]int32 `json:"edges"`
			} `json:"input"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			b.Fatal(err)
		}
	}
}
