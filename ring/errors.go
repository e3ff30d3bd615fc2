package ring

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Reasons carried in google.rpc.ErrorInfo (domain gokernels.dev).
const (
	ReasonMailboxFull   = "RING_MAILBOX_FULL"
	ReasonDuplicate     = "RING_DUPLICATE"
	ReasonTooOld        = "RING_SEQ_TOO_OLD"
	ReasonPanic         = "RING_HANDLER_PANIC"
	ReasonFailed        = "RING_FAILED"
	ReasonPaused        = "RING_PAUSED"
	ReasonEvicted       = "RING_EVICTED"
	ReasonNotFound      = "RING_NOT_FOUND"
	ReasonExists        = "RING_EXISTS"
	ReasonDraining      = "DRAINING"
	ReasonTooManyRings  = "RING_LIMIT"
	ReasonStateLimit    = "RING_STATE_LIMIT"
	ReasonOutOfOrder    = "RING_TS_OUT_OF_ORDER"
	ReasonConfigured    = "RING_ALREADY_RUNNING"
	ReasonNotRing       = "NOT_A_RING_KERNEL"
	ReasonDurability    = "RING_DURABILITY"
	ReasonJournal       = "RING_JOURNAL"
	ReasonSlowConsumer  = "RING_SLOW_CONSUMER"
	ReasonInvalidRingID = "RING_INVALID_ID"
	errorDomain         = "gokernels.dev"
)

// Error is a ring failure with its gRPC code; it implements GRPCStatus so
// transports map it without a table.
type Error struct {
	Code       codes.Code
	Reason     string
	Msg        string
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Msg }

// GRPCStatus carries the reason (ErrorInfo) and retry hint (RetryInfo).
func (e *Error) GRPCStatus() *status.Status {
	st := status.New(e.Code, e.Msg)
	details := []protoadapt.MessageV1{}
	if e.Reason != "" {
		details = append(details, &errdetails.ErrorInfo{Reason: e.Reason, Domain: errorDomain})
	}
	if e.RetryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)})
	}
	if len(details) > 0 {
		if d, err := st.WithDetails(details...); err == nil {
			st = d
		}
	}
	return st
}

func errorf(code codes.Code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// ErrMailboxFull is returned at once when a ring's mailbox has no room.
var ErrMailboxFull = &Error{Code: codes.ResourceExhausted, Reason: ReasonMailboxFull,
	Msg: "ring mailbox is full; retry after the hinted delay with the same client_seq", RetryAfter: 50 * time.Millisecond}

// CodeOf returns the gRPC code of an error from this package (Unknown otherwise).
func CodeOf(err error) codes.Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return status.Code(err)
}
