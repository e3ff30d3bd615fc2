package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
	"github.com/gokernels/gokernels/server/service"
)

// executeMarshaler is the JSON marshaler with one addition: an /execute body's
// input is transcoded straight from JSON to the kernel's protobuf wire
// format and forwarded as typed_input (with json_output set, so the client
// still gets JSON back); the message itself is built once, in the server.
// Going through google.protobuf.Struct instead would cost several times the
// memory and make a body under the REST limit exceed the gRPC message limit
// on the way in. When the kernel is unknown or not a batch kernel, no input
// is forwarded: the server answers 404 or 422 through the whole interceptor
// chain without it. An input that does not decode is answered 400 naming
// the field, here (see handleError).
type executeMarshaler struct {
	*runtime.JSONPb
	registry *registry.Registry
}

// Marshal writes an /execute answer whose output the server rendered as JSON
// text (see spliceRenderedOutput) around that text, without re-parsing it.
func (m *executeMarshaler) Marshal(v any) ([]byte, error) {
	r, ok := v.(renderedExecute)
	if !ok {
		return m.JSONPb.Marshal(v)
	}
	md, err := m.JSONPb.Marshal(r.GetMetadata())
	if err != nil {
		return nil, err
	}
	out := r.GetTypedOutput().GetValue()
	b := make([]byte, 0, len(out)+len(md)+len(r.GetRequestId())+len(r.GetKernelId())+64)
	b = append(b, `{"request_id":`...)
	id, _ := json.Marshal(r.GetRequestId())
	b = append(b, id...)
	b = append(b, `,"kernel_id":`...)
	kid, _ := json.Marshal(r.GetKernelId())
	b = append(b, kid...)
	if r.GetTypedOutput().GetTypeUrl() == service.RenderedTypedJSONType {
		b = append(b, `,"typed_output":`...)
	} else {
		b = append(b, `,"output":`...)
	}
	b = append(b, out...)
	b = append(b, `,"metadata":`...)
	b = append(b, md...)
	return append(b, '}'), nil
}

// renderedExecute is an ExecuteResponse whose typed_output holds the output
// already rendered as JSON by the server.
type renderedExecute struct{ *gokernelsv1.ExecuteResponse }

// spliceRenderedOutput marks such responses for Marshal.
func spliceRenderedOutput(_ context.Context, resp proto.Message) (any, error) {
	if r, ok := resp.(*gokernelsv1.ExecuteResponse); ok && (r.GetTypedOutput().GetTypeUrl() == service.RenderedJSONType ||
		r.GetTypedOutput().GetTypeUrl() == service.RenderedTypedJSONType) {
		return renderedExecute{r}, nil
	}
	return resp, nil
}

func (m *executeMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		req, ok := v.(*gokernelsv1.ExecuteRequest)
		if !ok {
			return m.JSONPb.NewDecoder(r).Decode(v)
		}
		body, err := io.ReadAll(r)
		if err == nil {
			err = decodeExecute(body, req, m.registry)
		}
		// The generated handler flattens a decoding error into a message;
		// keep the error itself (a field path, a read timeout) for
		// handleError.
		if b, ok := r.(*requestBody); ok && err != nil && err != io.EOF {
			b.err = err
		}
		return err
	})
}

func decodeExecute(body []byte, req *gokernelsv1.ExecuteRequest, reg *registry.Registry) error {
	if len(body) == 0 {
		return io.EOF // no body: the server answers for the empty request
	}
	// Split slices the body without copying: a large input is parsed once,
	// straight into the typed message.
	top, err := jsoninput.Split(body)
	if err != nil {
		return err
	}
	var input []byte
	for k, raw := range top {
		switch k {
		case "kernel_id", "kernelId":
			if err := json.Unmarshal(raw, &req.KernelId); err != nil {
				return fmt.Errorf("kernel_id must be a string")
			}
		case "input":
			input = raw
		case "typed_input", "typedInput":
			var a anypb.Any
			if err := protojson.Unmarshal(raw, &a); err != nil {
				return fmt.Errorf("typed_input: %v", err)
			}
			req.Payload = &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: &a}
		case "metadata":
			req.Metadata = &gokernelsv1.ExecuteOptions{}
			if err := protojson.Unmarshal(raw, req.Metadata); err != nil {
				return fmt.Errorf("metadata: %v", err)
			}
		default:
			return fmt.Errorf("unknown field %q (expected kernel_id, input, metadata)", k)
		}
	}
	if input == nil || string(input) == "null" {
		return nil
	}
	if req.Payload != nil {
		return fmt.Errorf("give either input or typed_input, not both")
	}
	k, ok := reg.Get(req.KernelId)
	if !ok || !k.SupportsBatch() {
		// The server answers 404 or 422 before it looks at the input:
		// forward none, rather than build a Struct of a large body.
		return nil
	}
	b, err := jsoninput.Transcode(input, k.Input.Descriptor())
	if err != nil {
		// A field error (path, what is wrong), answered 400 by handleError
		// whatever the body's size.
		return err
	}
	if req.Metadata == nil {
		req.Metadata = &gokernelsv1.ExecuteOptions{}
	}
	if !req.Metadata.TypedOutput {
		req.Metadata.JsonOutput = true
	}
	req.Payload = &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: &anypb.Any{
		TypeUrl: "type.googleapis.com/" + string(k.Input.Descriptor().FullName()),
		Value:   b,
	}}
	return nil
}
