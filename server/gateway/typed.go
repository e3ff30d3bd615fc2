package gateway

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/jsoninput"
	"github.com/gokernels/gokernels/server/kernelrpc"
	"github.com/gokernels/gokernels/server/service"
)

// Typed is the Register of the typed kernel routes,
// POST /kernels/graph/pagerank:execute → GraphService/PageRank, one per
// route. One generic handler serves them all, so buf.gen.yaml generates no
// *.pb.gw.go for the domain services: those handlers would need a hand-kept
// list of every domain's Register function, and decode through protojson,
// which does not read the API's tuple shape ("edges": [[0, 1]]).
func Typed(routes []kernelrpc.Route) Register {
	return func(_ context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
		for _, r := range routes {
			if r.HTTPPath == "" {
				continue
			}
			if err := mux.HandlePath(http.MethodPost, r.HTTPPath, typedHandler(mux, cc, r)); err != nil {
				return err
			}
		}
		return nil
	}
}

// isTypedRoute reports whether a request is for a typed kernel route.
func isTypedRoute(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/kernels/") && strings.HasSuffix(r.URL.Path, ":execute")
}

// typedHandler decodes the body (the kernel's input in the API's JSON shape)
// into the input message, calls the typed RPC through cc, and writes the
// output the service rendered as JSON text into the call's RESTCall.
func typedHandler(mux *runtime.ServeMux, cc grpc.ClientConnInterface, r kernelrpc.Route) runtime.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request, _ map[string]string) {
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		_, outbound := runtime.MarshalerForRequest(mux, req)
		ctx, err := runtime.AnnotateContext(ctx, mux, req, r.FullMethod, runtime.WithHTTPPathPattern(r.HTTPPath))
		if err != nil {
			runtime.HTTPError(ctx, mux, outbound, w, req, err)
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			// Too large (413) or not in time (408): handleError reads it.
			if b, ok := req.Body.(*requestBody); ok {
				b.err = err
			}
			runtime.HTTPError(ctx, mux, outbound, w, req, err)
			return
		}
		if len(body) == 0 {
			body = []byte("{}") // e.g. an unauthenticated call, its body dropped by Edge
		}
		in := r.Kernel.NewInput()
		if err := jsoninput.Decode(body, in); err != nil {
			e, internal := errs.FromKernel(err, "") // a field error names the field: 400
			if internal {
				e = status.Error(codes.InvalidArgument, err.Error())
			}
			runtime.HTTPError(ctx, mux, outbound, w, req, e)
			return
		}
		var md runtime.ServerMetadata
		out := r.Kernel.Output.New().Interface()
		err = cc.Invoke(ctx, r.FullMethod, in, out, grpc.Header(&md.HeaderMD), grpc.Trailer(&md.TrailerMD))
		ctx = runtime.NewServerMetadataContext(ctx, md)
		if err != nil {
			runtime.HTTPError(ctx, mux, outbound, w, req, err)
			return
		}
		answer := kernelOutput{Message: out}
		if c := service.RESTCallFrom(req.Context()); c != nil {
			answer.rendered = c.Output
		}
		runtime.ForwardResponseMessage(ctx, mux, outbound, w, req, answer, mux.GetForwardResponseOptions()...)
	}
}

// kernelOutput marks a typed route's answer for executeMarshaler: the JSON
// text the service rendered, or else the message rendered in the API's JSON
// shape (tuples as arrays, as /execute's output), not protojson's.
type kernelOutput struct {
	proto.Message
	rendered []byte
}

// render is that answer.
func (o kernelOutput) render() ([]byte, error) {
	if o.rendered != nil {
		return o.rendered, nil
	}
	return jsoninput.AppendJSON(nil, o.Message, 0)
}
