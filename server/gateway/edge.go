package gateway

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/reqinfo"
)

// EdgeOptions configure Edge.
type EdgeOptions struct {
	// DefaultTimeout and MaxTimeout are the request deadlines
	// (GOKERNELS_DEFAULT_TIMEOUT, GOKERNELS_MAX_TIMEOUT).
	DefaultTimeout, MaxTimeout time.Duration
	// Authenticate checks the credentials in ctx's incoming metadata; nil
	// when authentication is off.
	Authenticate func(ctx context.Context) error
}

// Edge guards the REST handler with what must happen before a request's
// body is read:
//
//   - the path and query must be valid UTF-8 (proto strings are), else 400
//     naming the parameter, rather than a marshalling failure (500) later;
//   - the request deadline starts when the request arrives: reading the
//     body counts against it, and a body that has not arrived by then is
//     cut off (408) instead of holding a connection open;
//   - with authentication on, a caller without valid credentials has its
//     body dropped unread: the gateway forwards an empty request, which the
//     chain's auth stage answers 401 as usual.
func Edge(next http.Handler, o EdgeOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every answer carries a request id, also those given here or by
		// the gateway before the chain runs (which then reuses this one).
		id := r.Header.Get("X-Request-Id")
		if !reqinfo.Valid(id) {
			id = reqinfo.NewID()
			r.Header.Set("X-Request-Id", id)
		}
		w = &requestIDWriter{ResponseWriter: w, id: id}
		if name, ok := invalidUTF8(r); !ok {
			writeStatus(w, http.StatusBadRequest, errs.InvalidFields(
				"invalid "+name+": not valid UTF-8", errs.Field(name, "not valid UTF-8")))
			return
		}
		timeout := o.DefaultTimeout
		if d, ok := grpcTimeout(r.Header.Get("Grpc-Timeout")); ok {
			timeout = d
		}
		timeout = min(timeout, o.MaxTimeout)
		deadline := time.Now().Add(timeout)
		ctx, cancel := context.WithDeadline(r.Context(), deadline)
		defer cancel()
		r = r.WithContext(ctx)
		if r.Body != nil && r.Body != http.NoBody {
			// Not supported by every ResponseWriter (tests); the server's
			// ReadTimeout still bounds the read then.
			_ = http.NewResponseController(w).SetReadDeadline(deadline)
		}
		if o.Authenticate != nil && !strings.HasPrefix(r.URL.Path, "/health") {
			md := metadata.MD{}
			for _, h := range []string{"authorization", "x-api-key"} {
				if v := r.Header.Get(h); v != "" {
					md.Set(h, v)
				}
			}
			if o.Authenticate(metadata.NewIncomingContext(ctx, md)) != nil {
				r.Body, r.ContentLength = http.NoBody, 0
			}
		}
		next.ServeHTTP(w, r)
	})
}

// requestIDWriter sets X-Request-Id when the response has none by the time
// its header is written (the chain's answers already carry it).
type requestIDWriter struct {
	http.ResponseWriter
	id    string
	wrote bool
}

func (w *requestIDWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if w.Header().Get("X-Request-Id") == "" {
			w.Header().Set("X-Request-Id", w.id)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *requestIDWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (read
// deadlines, flushing).
func (w *requestIDWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// invalidUTF8 reports the first path or query parameter that is not valid
// UTF-8 once unescaped.
func invalidUTF8(r *http.Request) (string, bool) {
	if !utf8.ValidString(r.URL.Path) {
		if strings.HasPrefix(r.URL.Path, "/kernels/") {
			return "kernel_id", false
		}
		return "path", false
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "query", true // the gateway answers malformed queries itself
	}
	for k, vs := range q {
		if !utf8.ValidString(k) {
			return "query", false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return k, false
			}
		}
	}
	return "", true
}

// grpcTimeout reads a Grpc-Timeout header: an integer and a unit (H, M, S,
// m, u, n), e.g. "100m" for 100 ms.
func grpcTimeout(v string) (time.Duration, bool) {
	if len(v) < 2 || len(v) > 9 {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	unit, ok := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second,
		'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}[v[len(v)-1]]
	return time.Duration(n) * unit, ok
}

// writeStatus writes err's status as the gateway's error body.
func writeStatus(w http.ResponseWriter, code int, err error) {
	b, _ := protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true}.Marshal(status.Convert(err).Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
