package server

import (
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

// TestValidationViewSameOutcome: validating the view (input Struct emptied)
// gives exactly the outcome of validating the whole request, so skipping
// the walk over the input changes no answer.
func TestValidationViewSameOutcome(t *testing.T) {
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	input, err := structpb.NewStruct(map[string]any{
		"num_nodes": 3, "edges": []any{[]any{0, 1}, []any{1, 2}}, "nested": map[string]any{"x": nil, "y": "z"},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := func() *gokernelsv1.ExecuteRequest_Input { return &gokernelsv1.ExecuteRequest_Input{Input: input} }
	cases := map[string]*gokernelsv1.ExecuteRequest{
		"valid":              {KernelId: "graph/pagerank", Payload: in()},
		"valid metadata":     {KernelId: "graph/pagerank", Payload: in(), Metadata: &gokernelsv1.ExecuteOptions{Backend: "CPU", TimeoutMs: 5}},
		"empty kernel id":    {KernelId: "", Payload: in()},
		"long kernel id":     {KernelId: strings.Repeat("k", 129), Payload: in()},
		"bad backend":        {KernelId: "graph/pagerank", Payload: in(), Metadata: &gokernelsv1.ExecuteOptions{Backend: "TPU"}},
		"empty input":        {KernelId: "graph/pagerank", Payload: &gokernelsv1.ExecuteRequest_Input{Input: &structpb.Struct{}}},
		"no payload":         {KernelId: "graph/pagerank"},
		"typed input":        {KernelId: "graph/pagerank", Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: &anypb.Any{TypeUrl: "type.googleapis.com/x.Y"}}},
		"bad id and backend": {KernelId: "", Payload: in(), Metadata: &gokernelsv1.ExecuteOptions{Backend: "x"}},
	}
	for name, req := range cases {
		orig := proto.Clone(req)
		errString := func(m proto.Message) string {
			if err := v.Validate(m); err != nil {
				return err.Error()
			}
			return ""
		}
		whole, view := errString(req), errString(validationView(req))
		if whole != view {
			t.Errorf("%s: whole request: %q; view: %q", name, whole, view)
		}
		if !proto.Equal(req, orig) {
			t.Errorf("%s: validationView modified the request", name)
		}
	}
	if got := emptyInput.GetFields(); len(got) != 0 {
		t.Fatalf("emptyInput was modified: %v", got)
	}
	other := &gokernelsv1.GetKernelRequest{KernelId: "x"}
	if validationView(other) != proto.Message(other) {
		t.Error("requests other than ExecuteRequest must be validated as they are")
	}
}
