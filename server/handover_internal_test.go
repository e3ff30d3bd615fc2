package server

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

// TestHandoverMovesTheMessage: a unary message handed over in process
// arrives whole (every field, unknown fields too), whatever dst held
// before; messages of different types are refused.
func TestHandoverMovesTheMessage(t *testing.T) {
	in, _ := structpb.NewStruct(map[string]any{"num_nodes": 3.0})
	a, _ := anypb.New(in)
	srcs := []*gokernelsv1.ExecuteRequest{
		{KernelId: "graph/pagerank", Payload: &gokernelsv1.ExecuteRequest_Input{Input: in},
			Metadata: &gokernelsv1.ExecuteOptions{TimeoutMs: 5, Backend: "CPU", TypedOutput: true}},
		{KernelId: "x", Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: a}},
	}
	srcs[1].ProtoReflect().SetUnknown([]byte{0xf8, 0x07, 0x01}) // field 127, varint 1
	for _, src := range srcs {
		want := proto.Clone(src)
		dst := &gokernelsv1.ExecuteRequest{KernelId: "stale", Metadata: &gokernelsv1.ExecuteOptions{JsonOutput: true}}
		if err := (handover{}).Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(dst, want) || string(dst.ProtoReflect().GetUnknown()) != string(want.ProtoReflect().GetUnknown()) {
			t.Fatalf("handed over %v, want %v", dst, want)
		}
	}
	if err := (handover{}).Copy(&gokernelsv1.ExecuteResponse{}, srcs[0]); err == nil {
		t.Fatal("an ExecuteRequest handed over as an ExecuteResponse")
	}
}
