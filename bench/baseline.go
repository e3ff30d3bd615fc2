package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// runBaseline is the `baseline` subcommand: the bare servers gokernels is
// compared with, in their own process (like gokernels), on 127.0.0.1 random
// ports. It prints {"grpc": addr, "http": addr} and serves until killed.
//
//   - gRPC: a plain grpc.NewServer() (no interceptors, no stats handler)
//     implementing gokernels.v1.KernelService/Execute by decoding the input
//     exactly as the server does (jsoninput.FromStruct or proto.Unmarshal of
//     typed_input), calling the kernel's RunCPU, and encoding the output
//     the same way (jsoninput.ToStruct or Any).
//   - REST: a net/http handler: encoding/json in, the kernel, encoding/json
//     out.
func runBaseline() error {
	reg, err := catalog.New()
	if err != nil {
		return err
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	gs := grpc.NewServer()
	gokernelsv1.RegisterKernelServiceServer(gs, &bareKernels{reg: reg})
	go gs.Serve(gl)

	mux := http.NewServeMux()
	mux.Handle("POST /execute", &bareHTTP{reg: reg})
	hs := &http.Server{Handler: mux}
	go hs.Serve(hl)

	b, _ := json.Marshal(map[string]string{"grpc": gl.Addr().String(), "http": hl.Addr().String()})
	fmt.Println(string(b))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	gs.Stop()
	return hs.Close()
}

type bareKernels struct {
	gokernelsv1.UnimplementedKernelServiceServer
	reg *registry.Registry
}

func (s *bareKernels) Execute(ctx context.Context, req *gokernelsv1.ExecuteRequest) (*gokernelsv1.ExecuteResponse, error) {
	k, ok := s.reg.Get(req.GetKernelId())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "kernel %q not found", req.GetKernelId())
	}
	in := k.NewInput()
	typed := false
	switch p := req.GetPayload().(type) {
	case *gokernelsv1.ExecuteRequest_Input:
		if err := jsoninput.FromStruct(p.Input, in); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
	case *gokernelsv1.ExecuteRequest_TypedInput:
		if err := proto.Unmarshal(p.TypedInput.GetValue(), in); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		typed = true
	default:
		return nil, status.Error(codes.InvalidArgument, "input is required")
	}
	start := time.Now()
	out, err := k.RunCPU(ctx, in)
	compute := time.Since(start)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	resp := &gokernelsv1.ExecuteResponse{
		RequestId: "bare",
		KernelId:  k.ID,
		Metadata:  &gokernelsv1.ExecuteMetadata{DurationUs: uint32(compute.Microseconds()), Backend: registry.BackendCPU},
	}
	md := req.GetMetadata()
	if md.GetTypedOutput() || (typed && !md.GetJsonOutput()) {
		if resp.TypedOutput, err = anypb.New(out); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
	} else {
		resp.Output, _ = jsoninput.ToStruct(out)
	}
	return resp, nil
}

type bareHTTP struct{ reg *registry.Registry }

// graphJSON is the input of the graph kernels the harness drives.
type graphJSON struct {
	NumNodes   int32      `json:"num_nodes"`
	Edges      [][2]int32 `json:"edges"`
	Directed   bool       `json:"directed"`
	Normalized *bool      `json:"normalized"`
}

type bareHTTPRequest struct {
	KernelID string    `json:"kernel_id"`
	Input    graphJSON `json:"input"`
}

type bareHTTPResponse struct {
	RequestID string         `json:"request_id"`
	KernelID  string         `json:"kernel_id"`
	Output    any            `json:"output"`
	Metadata  map[string]any `json:"metadata"`
}

func (h *bareHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req bareHTTPRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	k, ok := h.reg.Get(req.KernelID)
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	in := k.NewInput()
	fillGraph(in.ProtoReflect(), &req.Input)
	start := time.Now()
	out, err := k.RunCPU(r.Context(), in)
	compute := time.Since(start)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(bareHTTPResponse{
		RequestID: "bare", KernelID: k.ID, Output: out,
		Metadata: map[string]any{"duration_us": compute.Microseconds(), "queue_us": 0, "backend": registry.BackendCPU},
	})
}

// fillGraph sets the graph fields every graph kernel input shares.
func fillGraph(m protoreflect.Message, g *graphJSON) {
	fds := m.Descriptor().Fields()
	m.Set(fds.ByName("num_nodes"), protoreflect.ValueOfInt32(g.NumNodes))
	if g.Directed {
		m.Set(fds.ByName("directed"), protoreflect.ValueOfBool(true))
	}
	if fd := fds.ByName("normalized"); fd != nil && g.Normalized != nil {
		m.Set(fd, protoreflect.ValueOfBool(*g.Normalized))
	}
	// The edges go in their binary form (packed_edges): the cheapest way
	// to hand decoded ids to the kernel, as a bare handler would.
	list := m.Mutable(fds.ByName("packed_edges")).List()
	for _, e := range g.Edges {
		list.Append(protoreflect.ValueOfInt32(e[0]))
		list.Append(protoreflect.ValueOfInt32(e[1]))
	}
}
