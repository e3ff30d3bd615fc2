// Package gateway is the REST face of the service: a grpc-gateway mux whose
// calls go to the same service implementations through an in-process
// grpc.ClientConnInterface (the server's, see server.New), which runs the
// same interceptor chain (auth, rate limits, deadlines, validation, metrics)
// as native gRPC calls without a second transport.
//
// What it adds on top of the generated handlers:
//   - JSON with proto field names, unknown fields rejected (400, not dropped);
//   - /execute bodies decoded once, by the service, straight into the
//     kernel's typed input, and the output written as the JSON text the
//     service rendered (see executeMarshaler and service.RESTCall);
//   - HTTP codes the gRPC mapping lacks: 422 for ring kernels, 413 for bodies
//     over the limit, 401 with WWW-Authenticate, Retry-After on 429;
//   - X-Request-ID, tracing and tenant headers forwarded as metadata.
package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/service"
)

// forwarded request headers (lower case) that become gRPC metadata.
var forwarded = map[string]bool{
	"x-request-id": true, "x-api-key": true, "x-tenant-id": true, "authorization": true,
	"traceparent": true, "tracestate": true, "baggage": true,
}

// forwardedCanonical maps the canonical form of each forwarded header
// ("X-Api-Key", which is how the gateway passes header names to the
// matcher) to its metadata key.
var forwardedCanonical = func() map[string]string {
	m := make(map[string]string, len(forwarded))
	for k := range forwarded {
		m[textproto.CanonicalMIMEHeaderKey(k)] = k
	}
	return m
}()

// incomingHeader is the gateway's incoming header matcher: the forwarded
// headers, by a map lookup that allocates nothing for a canonical name (most
// requests' every header; lower-casing each name cost an allocation per
// header per request). A name that is not canonical falls back to
// lower-casing.
func incomingHeader(key string) (string, bool) {
	if k, ok := forwardedCanonical[key]; ok {
		return k, true
	}
	if textproto.CanonicalMIMEHeaderKey(key) == key {
		return "", false
	}
	k := strings.ToLower(key)
	return k, forwarded[k]
}

// Register adds one service's REST routes to the mux, calling through cc.
type Register func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error

// Services are the REST routes of gokernels.v1.
var Services = []Register{
	func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
		return gokernelsv1.RegisterKernelServiceHandlerClient(ctx, mux, gokernelsv1.NewKernelServiceClient(cc))
	},
	func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
		return gokernelsv1.RegisterHealthServiceHandlerClient(ctx, mux, gokernelsv1.NewHealthServiceClient(cc))
	},
	func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
		return gokernelsv1.RegisterMetricsServiceHandlerClient(ctx, mux, gokernelsv1.NewMetricsServiceClient(cc))
	},
	func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
		return gokernelsv1.RegisterRingServiceHandlerClient(ctx, mux, gokernelsv1.NewRingServiceClient(cc))
	},
}

// New builds the REST handler of services over cc (the server's in-process
// channel). onTooLarge is called for every body refused with 413 (for the
// gokernels_rejected_total{reason="too_large"} counter); it may be nil.
func New(ctx context.Context, cc grpc.ClientConnInterface, services []Register, maxBody int64, onTooLarge func()) (http.Handler, error) {
	if onTooLarge == nil {
		onTooLarge = func() {}
	}
	jsonpb := &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{
			Marshaler: &executeMarshaler{JSONPb: jsonpb},
		}),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(func(key string) (string, bool) {
			switch key {
			case "x-request-id", "retry-after", "www-authenticate":
				return textproto.CanonicalMIMEHeaderKey(key), true
			}
			return "", false
		}),
		runtime.WithForwardResponseOption(setHTTPCode),
		runtime.WithForwardResponseRewriter(spliceRenderedOutput),
		runtime.WithErrorHandler(errorHandler(maxBody, onTooLarge)),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
	)
	for _, register := range services {
		if err := register(ctx, mux, cc); err != nil {
			return nil, err
		}
	}
	return limitBody(mux, maxBody, onTooLarge), nil
}

// limitBody answers 413 for bodies over max: at once when Content-Length
// says so, otherwise when reading passes the limit (see errorHandler).
func limitBody(next http.Handler, max int64, onTooLarge func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			onTooLarge()
			writeTooLarge(w, max)
			return
		}
		body := &requestBody{ReadCloser: http.MaxBytesReader(w, r.Body, max)}
		r.Body = body
		if r.Method == http.MethodPost && r.URL.Path == "/execute" || isTypedRoute(r) {
			// The input JSON and the rendered output travel between the
			// decoder, the service and the marshaler in this value.
			body.call = &service.RESTCall{}
			r = r.WithContext(service.WithRESTCall(r.Context(), body.call))
		}
		next.ServeHTTP(w, r)
	})
}

// requestBody is the request body, plus the error that decoding it met and,
// for /execute, the call the decoder hands the input to.
type requestBody struct {
	io.ReadCloser
	err  error
	call *service.RESTCall
}

// decodeError returns the error that decoding r's body met, as a status
// error: a field error keeps its path (400 with BadRequest details), a body
// not received within the deadline is DEADLINE_EXCEEDED (408). It returns
// nil when decoding did not fail.
func decodeError(r *http.Request) (error, int) {
	b, ok := r.Body.(*requestBody)
	if !ok || b.err == nil {
		return nil, 0
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(b.err, &mbe):
		return b.err, 0
	case errors.Is(b.err, os.ErrDeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the request body did not arrive within the request deadline"), http.StatusRequestTimeout
	}
	if _, ok := kerr.AsField(b.err); ok {
		e, _ := errs.FromKernel(b.err, "input")
		return e, 0
	}
	return status.Error(codes.InvalidArgument, b.err.Error()), 0
}

func writeTooLarge(w http.ResponseWriter, max int64) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = w.Write([]byte(`{"code":8,"message":"request body exceeds the limit of ` + strconv.FormatInt(max, 10) + ` bytes","details":[]}`))
}

// setHTTPCode answers an unhealthy /health with 503 and its body: the
// status is in the answer itself.
func setHTTPCode(_ context.Context, w http.ResponseWriter, m proto.Message) error {
	if c, ok := m.(*gokernelsv1.CheckResponse); ok && c.GetStatus() == service.Unhealthy {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	return nil
}

// errorHandler maps statuses to HTTP codes where the default mapping is not
// what a REST client expects, and adds Retry-After / WWW-Authenticate.
func errorHandler(maxBody int64, onTooLarge func()) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		handleError(ctx, mux, m, w, r, err, maxBody, onTooLarge)
	}
}

func handleError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error, maxBody int64, onTooLarge func()) {
	httpCode := 0
	if e, code := decodeError(r); e != nil {
		err, httpCode = e, code
	}
	st, _ := status.FromError(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || strings.Contains(st.Message(), "http: request body too large") {
		onTooLarge()
		writeTooLarge(w, maxBody)
		return
	}
	switch reason := errs.Reason(st); {
	case st.Code() == codes.Unimplemented && reason == errs.ReasonRing:
		httpCode = http.StatusUnprocessableEntity
	case st.Code() == codes.ResourceExhausted && strings.Contains(st.Message(), "larger than max"),
		reason == errs.ReasonResponseTooLarge, reason == errs.ReasonMemoryTooLarge:
		httpCode = http.StatusRequestEntityTooLarge
	case st.Code() == codes.Unauthenticated:
		// The default handler sets WWW-Authenticate to the status message;
		// restore a proper challenge just before the header is written.
		w = challengeWriter{w}
	}
	if d := errs.RetryAfter(st); d > 0 {
		secs := int((d + 999_999_999) / 1_000_000_000)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	if httpCode != 0 {
		err = &runtime.HTTPStatusError{HTTPStatus: httpCode, Err: err}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// routingErrorHandler answers unknown paths with a JSON 404/405.
func routingErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	msg := "no such endpoint: " + r.Method + " " + r.URL.Path
	code := codes.NotFound
	if httpStatus == http.StatusMethodNotAllowed {
		code = codes.Unimplemented
		msg = "method " + r.Method + " is not allowed on " + r.URL.Path
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: status.Error(code, msg)})
}

// challengeWriter sets the WWW-Authenticate challenge at WriteHeader time,
// after grpc-gateway's default error handler has put the status message there.
type challengeWriter struct{ http.ResponseWriter }

func (c challengeWriter) WriteHeader(code int) {
	c.Header().Set("WWW-Authenticate", `Bearer realm="gokernels", ApiKey header="X-API-Key"`)
	c.ResponseWriter.WriteHeader(code)
}
