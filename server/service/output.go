package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/pool"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// DefaultMaxResponseBytes is GOKERNELS_MAX_RESPONSE_BYTES's default.
const DefaultMaxResponseBytes = 64 << 20

// jsonExpansion bounds a JSON rendering relative to the protobuf size that
// passed the limit (a double is 8 bytes in protobuf and up to 24 in JSON).
const jsonExpansion = 3

func (s *Kernels) maxResponse() int64 {
	if s.MaxResponseBytes > 0 {
		return s.MaxResponseBytes
	}
	return DefaultMaxResponseBytes
}

// encodeOutput checks the output's size against the response limit before
// building anything from it, then encodes it once, in the form the caller
// asked for: typed (Any), JSON text for a REST call (into rest.Output), or a
// Struct for a native gRPC client that asked for JSON.
func (s *Kernels) encodeOutput(ctx context.Context, resp *gokernelsv1.ExecuteResponse, rest *RESTCall, id string, out proto.Message, typed bool, working int64) error {
	if err := ctx.Err(); err != nil {
		e, _ := errs.FromKernel(err, "")
		return e
	}
	size := int64(proto.Size(out))
	limit := s.maxResponse()
	if size > limit {
		return responseTooLarge(id, size, limit, false)
	}
	render := rest != nil
	// The encoded form is memory on top of the output, held until the answer
	// is sent: a copy for typed output, up to 3× for JSON text (plus the
	// binary Any for typed JSON), ~10× for a Struct (an object per number).
	// The kernel's reservation (working) still holds, and its scratch is
	// garbage now: reserve what output plus encoding need beyond it.
	factor := int64(1)
	switch {
	case render && typed:
		factor = 1 + jsonExpansion
	case render:
		factor = jsonExpansion
	case !typed:
		factor = 10
	}
	free, err := s.Pool.Reserve((1+factor)*size - working)
	if err != nil {
		e := memoryError(err, working+(1+factor)*size, s.Pool.MemoryBudget())
		if !typed {
			st := status.Convert(e)
			e = status.ErrorProto(withMessage(st, st.Message()+"; metadata.typed_output needs much less"))
		}
		return e
	}
	defer free()
	switch {
	case typed:
		a, err := anypb.New(out)
		if err != nil {
			return status.Error(codes.Internal, "internal error")
		}
		if render {
			// The gateway would render it as protojson outside the worker
			// slot; render it here, once, as the gateway would.
			b, err := protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true}.Marshal(a)
			if err != nil {
				return status.Error(codes.Internal, "internal error")
			}
			rest.Output, rest.OutputTyped = b, true
			return nil
		}
		resp.TypedOutput = a
	case render:
		b, err := jsoninput.AppendJSONContext(ctx, make([]byte, 0, min(2*size+64, limit)), out, int(jsonExpansion*limit))
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			e, _ := errs.FromKernel(cerr, "")
			return e
		}
		if errors.Is(err, jsoninput.ErrTooLarge) {
			return errs.WithReason(codes.ResourceExhausted, errs.ReasonResponseTooLarge, fmt.Sprintf(
				"the JSON rendering of the output of %s passes %d bytes (%d× the server's response limit of %d bytes, "+
					"GOKERNELS_MAX_RESPONSE_BYTES); set metadata.typed_output for the compact binary form, "+
					"or ask for a smaller problem", id, jsonExpansion*limit, jsonExpansion, limit), 0)
		}
		if err != nil {
			return status.Error(codes.Internal, "internal error")
		}
		rest.Output = b
	default:
		st, err := jsoninput.ToStruct(out)
		if err != nil {
			return status.Error(codes.Internal, "internal error")
		}
		resp.Output = st
	}
	return nil
}

// withMessage is st with another message, details kept.
func withMessage(st *status.Status, msg string) *spb.Status {
	p := st.Proto()
	p.Message = msg
	return p
}

// responseTooLarge is RESOURCE_EXHAUSTED (413 over REST) naming the limit and
// what to do instead.
func responseTooLarge(id string, size, limit int64, estimated bool) error {
	what := "is"
	if estimated {
		what = "would be at least"
	}
	return errs.WithReason(codes.ResourceExhausted, errs.ReasonResponseTooLarge, fmt.Sprintf(
		"the output of %s %s %d bytes in its compact binary form (typed_output), over the server's response limit "+
			"of %d bytes (GOKERNELS_MAX_RESPONSE_BYTES); ask for a smaller problem or page through the results "+
			"(fewer nodes, documents or features, a sparse output, a max_* option)",
		id, what, size, limit), 0)
}

// memoryError is the answer to a request refused by the memory budget.
func memoryError(err error, need, budget int64) error {
	if errors.Is(err, pool.ErrMemoryTooLarge) {
		return errs.WithReason(codes.ResourceExhausted, errs.ReasonMemoryTooLarge, fmt.Sprintf(
			"this request needs about %d bytes of working memory, more than the server's memory budget of %d bytes "+
				"(GOKERNELS_MEMORY_BUDGET); ask for a smaller problem", need, budget), 0)
	}
	return errs.WithReason(codes.ResourceExhausted, errs.ReasonMemoryBusy, fmt.Sprintf(
		"server memory is in use by running requests: this request needs about %d bytes of the %d-byte budget; retry later",
		need, budget), time.Second)
}
