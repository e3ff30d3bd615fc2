// Package errs maps errors from kernels and validation onto gRPC statuses
// with the details REST and gRPC clients need (the code table is the
// README's "Errors" paragraph; docs/clients.md shows how clients read them).
package errs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Reasons carried in google.rpc.ErrorInfo so the gateway (and clients) can
// tell apart errors that share a gRPC code.
const (
	Domain          = "gokernels.dev"
	ReasonRing      = "RING_KERNEL"     // Ring-only kernel on unary Execute: 422 over REST
	ReasonQueueFull = "QUEUE_FULL"      // admission queue full
	ReasonRateLimit = "RATE_LIMITED"    // token bucket empty
	ReasonDraining  = "DRAINING"        // server is shutting down
	ReasonNoGPU     = "GPU_UNAVAILABLE" // backend=CUDA demanded but impossible
	// The output is over GOKERNELS_MAX_RESPONSE_BYTES: 413 over REST.
	ReasonResponseTooLarge = "RESPONSE_TOO_LARGE"
	// The request's estimated working set does not fit next to the running
	// ones: 429 with Retry-After.
	ReasonMemoryBusy = "MEMORY_BUDGET_BUSY"
	// The request alone needs more than GOKERNELS_MEMORY_BUDGET: 413.
	ReasonMemoryTooLarge = "MEMORY_BUDGET_EXCEEDED"
	// The kernel panicked GOKERNELS_QUARANTINE_AFTER times within
	// GOKERNELS_QUARANTINE_WINDOW and is refused for a while: 503 with
	// Retry-After.
	ReasonKernelQuarantined = "KERNEL_QUARANTINED"
)

// InvalidFields builds INVALID_ARGUMENT with one BadRequest violation per field.
func InvalidFields(msg string, fields ...*errdetails.BadRequest_FieldViolation) error {
	st := status.New(codes.InvalidArgument, msg)
	if len(fields) > 0 {
		if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: fields}); err == nil {
			st = d
		}
	}
	return st.Err()
}

// Field is a shorthand for one field violation.
func Field(field, desc string) *errdetails.BadRequest_FieldViolation {
	return &errdetails.BadRequest_FieldViolation{Field: field, Description: desc}
}

// WithReason returns a status error carrying an ErrorInfo reason and, when
// retryAfter > 0, a RetryInfo.
func WithReason(code codes.Code, reason, msg string, retryAfter time.Duration) error {
	st := status.New(code, msg)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: Domain}}
	if retryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)})
	}
	if s, err := st.WithDetails(details...); err == nil {
		st = s
	}
	return st.Err()
}

// Reason returns the ErrorInfo reason of a status, or "".
func Reason(st *status.Status) string {
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.GetReason()
		}
	}
	return ""
}

// RetryAfter returns the RetryInfo delay of a status, or 0.
func RetryAfter(st *status.Status) time.Duration {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}

// FromKernel converts an error returned while decoding, validating or running
// a kernel into a status error. prefix ("input") is prepended to field paths
// so that they name the request field. Unknown errors become a plain
// INTERNAL; the caller logs the original.
func FromKernel(err error, prefix string) (out error, internal bool) {
	if err == nil {
		return nil, false
	}
	if _, ok := status.FromError(err); ok {
		return err, false
	}
	if fe, ok := kerr.AsField(err); ok {
		f := join(prefix, fe.Field)
		return InvalidFields(fmt.Sprintf("invalid %s: %s", f, fe.Desc), Field(f, fe.Desc)), false
	}
	var ve *protovalidate.ValidationError
	if errors.As(err, &ve) {
		var fields []*errdetails.BadRequest_FieldViolation
		for _, v := range ve.Violations {
			f := join(prefix, protovalidate.FieldPathString(v.Proto.GetField()))
			fields = append(fields, Field(f, v.Proto.GetMessage()))
		}
		msg := "invalid input"
		if len(fields) > 0 {
			msg = fmt.Sprintf("invalid %s: %s", fields[0].Field, fields[0].Description)
		}
		return InvalidFields(msg, fields...), false
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded while running the kernel"), false
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request cancelled"), false
	}
	return status.Error(codes.Internal, "internal error"), true
}

func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "" || field == prefix:
		// The decoder names the whole input "input" (malformed JSON, not
		// an object): that is the prefix itself, not "input.input".
		return prefix
	case field[0] == '[':
		return prefix + field
	}
	return prefix + "." + field
}
