package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/server/jsoninput"
	"github.com/gokernels/gokernels/server/service"
)

// executeMarshaler is the JSON marshaler with one addition for /execute: the
// body's "input" is not parsed here but handed to the service as JSON text
// (service.RESTCall), which decodes it once, straight into the kernel's
// typed input, inside the worker slot; and the service's JSON rendering of
// the output is written as the answer's "output" without another parse or
// copy. Nothing goes through google.protobuf.Struct or a second protobuf
// encoding.
type executeMarshaler struct {
	*runtime.JSONPb
}

// Marshal writes an /execute answer around the output the service rendered.
func (m *executeMarshaler) Marshal(v any) ([]byte, error) {
	if o, ok := v.(kernelOutput); ok {
		return o.render()
	}
	r, ok := v.(renderedExecute)
	if !ok {
		return m.JSONPb.Marshal(v)
	}
	md, ok := appendMetadata(nil, r.GetMetadata())
	if !ok {
		var err error
		if md, err = m.JSONPb.Marshal(r.GetMetadata()); err != nil {
			return nil, err
		}
	}
	out := r.call.Output
	b := make([]byte, 0, len(out)+len(md)+len(r.GetRequestId())+len(r.GetKernelId())+64)
	b = append(b, `{"request_id":`...)
	id, _ := json.Marshal(r.GetRequestId())
	b = append(b, id...)
	b = append(b, `,"kernel_id":`...)
	kid, _ := json.Marshal(r.GetKernelId())
	b = append(b, kid...)
	if r.call.OutputTyped {
		b = append(b, `,"typed_output":`...)
	} else {
		b = append(b, `,"output":`...)
	}
	b = append(b, out...)
	b = append(b, `,"metadata":`...)
	b = append(b, md...)
	return append(b, '}'), nil
}

// appendMetadata writes md as the JSONPb marshaler does (proto names,
// defaults emitted), without protojson's reflection (~3% of the CPU of a
// small REST call). It reports false for what it does not write the same
// way (no metadata, a backend name that would need escaping); a field added
// to ExecuteMetadata fails TestAppendMetadataSameAsJSONPb until it is
// written here too.
func appendMetadata(b []byte, md *gokernelsv1.ExecuteMetadata) ([]byte, bool) {
	if md == nil {
		return b, false
	}
	for _, c := range []byte(md.GetBackend()) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return b, false
		}
	}
	b = append(b, `{"duration_us":`...)
	b = strconv.AppendUint(b, uint64(md.GetDurationUs()), 10)
	b = append(b, `,"queue_us":`...)
	b = strconv.AppendUint(b, uint64(md.GetQueueUs()), 10)
	b = append(b, `,"backend":"`...)
	b = append(b, md.GetBackend()...)
	return append(b, `"}`...), true
}

// renderedExecute is an ExecuteResponse whose output the service rendered
// as JSON text into the call's RESTCall.
type renderedExecute struct {
	*gokernelsv1.ExecuteResponse
	call *service.RESTCall
}

// spliceRenderedOutput marks such responses for Marshal.
func spliceRenderedOutput(ctx context.Context, resp proto.Message) (any, error) {
	if r, ok := resp.(*gokernelsv1.ExecuteResponse); ok {
		if c := service.RESTCallFrom(ctx); c != nil && c.Output != nil {
			return renderedExecute{r, c}, nil
		}
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
		b, _ := r.(*requestBody)
		if err == nil {
			var call *service.RESTCall
			if b != nil {
				call = b.call
			}
			err = decodeExecute(body, req, call)
		}
		// The generated handler flattens a decoding error into a message;
		// keep the error itself (a field path, a read timeout) for
		// handleError.
		if b != nil && err != nil && err != io.EOF {
			b.err = err
		}
		return err
	})
}

// decodeExecute reads the top level of an /execute body into req; the
// "input" JSON goes, unparsed, to call (nil only in tests of this package
// without a server).
func decodeExecute(body []byte, req *gokernelsv1.ExecuteRequest, call *service.RESTCall) error {
	if len(body) == 0 {
		return io.EOF // no body: the server answers for the empty request
	}
	// Split slices the body without copying: a large input is parsed once,
	// by the service, straight into the typed message.
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
	if call != nil {
		call.Input = input
	}
	return nil
}
