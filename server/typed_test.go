package server_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/kernelrpc"
)

// kernelRequests reads gokernels_kernel_requests_total{kernel_id, code}.
func kernelRequests(t *testing.T, srv *server.Server, kernelID, code string) float64 {
	t.Helper()
	families, err := srv.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "gokernels_kernel_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kernel_id"] == kernelID && labels["code"] == code {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// TestTypedRPCsShareTheExecutePath: a typed kernel RPC, over gRPC, h2c and
// its REST route, runs through the chain (request id, deadline) and the
// execution path (kernel metrics) of Execute.
func TestTypedRPCsShareTheExecutePath(t *testing.T) {
	srv, transports := startDefault(t, nil)
	const path = "/kernels/graph/pagerank:execute"
	body := []byte(`{"num_nodes": 3, "edges": [[0, 1], [1, 2], [2, 0]], "directed": true}`)
	before := kernelRequests(t, srv, "graph/pagerank", "OK")
	for _, tr := range transports {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r := tr.Call(ctx, "POST", path, body, map[string]string{"X-Request-ID": "typed-" + tr.Name()})
		cancel()
		if r.Code != codes.OK {
			t.Fatalf("%s: %v %s", tr.Name(), r.Code, r.Message)
		}
		if got := r.Header["x-request-id"]; got != "typed-"+tr.Name() {
			t.Errorf("%s: x-request-id %q, want the client's", tr.Name(), got)
		}
		// A directed 3-cycle: every node has rank 1/3.
		scores, _ := r.Output["scores"].([]any)
		if len(scores) != 3 {
			t.Fatalf("%s: output %v", tr.Name(), r.Output)
		}
		for i, s := range scores {
			if f, _ := s.(float64); math.Abs(f-1.0/3) > 1e-6 {
				t.Errorf("%s: scores[%d] = %v, want 1/3", tr.Name(), i, s)
			}
		}

		// The chain's deadline stage and the kernel's own deadline apply.
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		r = tr.Call(ctx, "POST", path, body, map[string]string{"Grpc-Timeout": "1n"})
		cancel()
		if r.Code != codes.DeadlineExceeded {
			t.Errorf("%s: 1 ns deadline gave %v %s, want DEADLINE_EXCEEDED", tr.Name(), r.Code, r.Message)
		}
	}
	if got := kernelRequests(t, srv, "graph/pagerank", "OK") - before; got != float64(len(transports)) {
		t.Errorf("gokernels_kernel_requests_total{graph/pagerank, OK} rose by %v, want %d (one per typed call)", got, len(transports))
	}
}

// TestReflectionListsKernelServices: every domain service is listed, and a
// generated client calls it.
func TestReflectionListsKernelServices(t *testing.T) {
	srv, _ := startDefault(t, nil)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		listed = append(listed, s.GetName())
	}
	services := map[string]bool{}
	for _, m := range kernelrpc.Methods() {
		services[string(m.Desc.Parent().FullName())] = true
	}
	if len(services) < 10 {
		t.Fatalf("only %d kernel services linked: %v", len(services), services)
	}
	for name := range services {
		if !slices.Contains(listed, name) {
			t.Errorf("reflection lists %v, missing %s", listed, name)
		}
	}

	out, err := graphv1.NewGraphServiceClient(conn).DegreeCentrality(ctx, &graphv1.DegreeCentralityInput{
		NumNodes: 3, PackedEdges: []int32{0, 1, 1, 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{0.5, 1, 0.5}; !slices.Equal(out.GetScores(), want) {
		t.Errorf("DegreeCentrality = %v, want %v", out.GetScores(), want)
	}
}

// TestTypedRPCReadsProtoJSONEdges: the typed input as a protojson client
// (grpcurl -d, a generated JSON client) writes it — edges as [[0, 1], [1, 2]],
// which protojson reads into google.protobuf.ListValue items — runs over the
// typed gRPC RPC; every shape that is not a pair of integer node ids is
// INVALID_ARGUMENT naming the item or the value, never a crash.
func TestTypedRPCReadsProtoJSONEdges(t *testing.T) {
	srv, _ := startDefault(t, nil)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := graphv1.NewGraphServiceClient(conn)
	call := func(body string) (*graphv1.DegreeCentralityOutput, error) {
		t.Helper()
		in := &graphv1.DegreeCentralityInput{}
		if err := protojson.Unmarshal([]byte(body), in); err != nil {
			t.Fatalf("protojson rejects %s: %v", body, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return client.DegreeCentrality(ctx, in)
	}
	// The grpcurl line: degree centrality of the path 0-1-2 is
	// deg/(n-1) = [1/2, 2/2, 1/2] (nx.degree_centrality).
	for _, body := range []string{
		`{"num_nodes":3,"edges":[[0,1],[1,2]]}`,
		`{"numNodes":3,"edges":[[0,1.0],[1e0,2]]}`, // integral doubles are ids
		`{"num_nodes":3,"packed_edges":[0,1,1,2]}`,
	} {
		out, err := call(body)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if want := []float64{0.5, 1, 0.5}; !slices.Equal(out.GetScores(), want) {
			t.Errorf("%s: scores %v, want %v", body, out.GetScores(), want)
		}
	}
	for _, c := range []struct{ body, field string }{
		{`{"num_nodes":3,"edges":[[0,1],[1,2,0]]}`, "edges[1]"},
		{`{"num_nodes":3,"edges":[[0]]}`, "edges[0]"},
		{`{"num_nodes":3,"edges":[[]]}`, "edges[0]"},
		{`{"num_nodes":3,"edges":[[0,3]]}`, "edges[0]"},
		{`{"num_nodes":3,"edges":[[-1,0]]}`, "edges[0]"},
		{`{"num_nodes":3,"edges":[[0,"1"]]}`, "edges[0][1]"},
		{`{"num_nodes":3,"edges":[[0,null]]}`, "edges[0][1]"},
		{`{"num_nodes":3,"edges":[[true,1]]}`, "edges[0][0]"},
		{`{"num_nodes":3,"edges":[[0,[1]]]}`, "edges[0][1]"},
		{`{"num_nodes":3,"edges":[[0,{"id":1}]]}`, "edges[0][1]"},
		{`{"num_nodes":3,"edges":[[0.5,1]]}`, "edges[0][0]"},
		{`{"num_nodes":3,"edges":[[0,1],[1e308,1]]}`, "edges[1][0]"},
		{`{"num_nodes":3,"edges":[[0,-1e308]]}`, "edges[0][1]"},
		{`{"num_nodes":3,"edges":[[9007199254740993,1]]}`, "edges[0][0]"},
		{`{"num_nodes":3,"edges":[[0,1]],"packed_edges":[1,2]}`, "packed_edges"},
	} {
		_, err := call(c.body)
		st := status.Convert(err)
		var fields []string
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, fv := range br.GetFieldViolations() {
					fields = append(fields, fv.GetField())
				}
			}
		}
		if st.Code() != codes.InvalidArgument || !slices.Equal(fields, []string{c.field}) {
			t.Errorf("%s: %v %q fields %v, want INVALID_ARGUMENT on %s", c.body, st.Code(), st.Message(), fields, c.field)
		}
	}
}
