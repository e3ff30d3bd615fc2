// Package servertest starts a real gokernels server on random 127.0.0.1
// ports and drives it over each transport — native gRPC, gRPC over h2c on the
// HTTP port, and REST — behind one interface, so one test table covers all
// three.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/config"
	"github.com/gokernels/gokernels/server/jsoninput"
	"github.com/gokernels/gokernels/server/kernelrpc"
)

// Config returns a development config on random loopback ports; env holds
// GOKERNELS_* overrides.
func Config(t testing.TB, env map[string]string) *config.Config {
	t.Helper()
	get := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		switch k {
		case "GOKERNELS_HTTP_ADDR", "GOKERNELS_GRPC_ADDR":
			return "127.0.0.1:0"
		case "GOKERNELS_DRAIN_GRACE":
			return "0s"
		case "GOKERNELS_LOG_LEVEL":
			return "warn"
		case "GOKERNELS_DATA_DIR":
			return t.TempDir()
		}
		return ""
	}
	cfg, err := config.Load(nil, get)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// Start builds and starts a server with reg; it is closed when the test ends.
func Start(t testing.TB, cfg *config.Config, reg *registry.Registry, opts server.Options) *server.Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := server.New(cfg, reg, opts)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// Result is what any transport returns for one call.
type Result struct {
	Code       codes.Code
	HTTPStatus int // REST only
	Message    string
	Reason     string            // google.rpc.ErrorInfo reason
	Fields     []string          // google.rpc.BadRequest field paths
	Output     map[string]any    // ExecuteResponse.output
	Body       map[string]any    // the whole response as JSON (proto names)
	Header     map[string]string // response headers / metadata (lower-case keys)
	RetryAfter string
}

// Transport executes calls over one wire protocol.
type Transport interface {
	Name() string
	// Call invokes an RPC by its REST route: method "GET"/"POST", path such as
	// "/kernels" or "/execute", body JSON (POST). md are request headers.
	// A typed kernel route, "/kernels/graph/pagerank:execute", calls the
	// typed RPC (GraphService/PageRank) with body as its input; Output is
	// then the kernel's output, as for /execute.
	Call(ctx context.Context, method, path string, body []byte, md map[string]string) Result
}

// Transports returns the three transports for srv.
func Transports(t testing.TB, srv *server.Server) []Transport {
	t.Helper()
	native := dial(t, srv.GRPCAddr())
	h2c := dial(t, srv.HTTPAddr())
	return []Transport{
		&grpcTransport{name: "grpc", conn: native},
		&grpcTransport{name: "grpc-h2c", conn: h2c},
		&restTransport{base: "http://" + srv.HTTPAddr(), client: &http.Client{Timeout: 60 * time.Second}},
	}
}

func dial(t testing.TB, addr string) *grpc.ClientConn {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

type grpcTransport struct {
	name string
	conn *grpc.ClientConn
}

func (g *grpcTransport) Name() string { return g.name }

func (g *grpcTransport) Call(ctx context.Context, method, path string, body []byte, md map[string]string) Result {
	if len(md) > 0 {
		pairs := []string{}
		for k, v := range md {
			if strings.EqualFold(k, "grpc-timeout") {
				d := parseGRPCTimeout(v)
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
				continue
			}
			pairs = append(pairs, strings.ToLower(k), v)
		}
		ctx = metadata.AppendToOutgoingContext(ctx, pairs...)
	}
	var header metadata.MD
	opt := grpc.Header(&header)
	var resp proto.Message
	var err error
	kc := gokernelsv1.NewKernelServiceClient(g.conn)
	hc := gokernelsv1.NewHealthServiceClient(g.conn)
	switch {
	case method == "POST" && strings.HasPrefix(path, "/kernels/") && strings.HasSuffix(path, ":execute"):
		return g.callTyped(ctx, path, body, opt, &header)
	case method == "POST" && path == "/execute":
		var req gokernelsv1.ExecuteRequest
		if err := protojson.Unmarshal(body, &req); err != nil {
			return Result{Code: codes.InvalidArgument, Message: "client-side: " + err.Error()}
		}
		resp, err = kc.Execute(ctx, &req, opt)
	case path == "/kernels" || strings.HasPrefix(path, "/kernels?"):
		req := &gokernelsv1.ListKernelsRequest{}
		if i := strings.IndexByte(path, '?'); i >= 0 {
			for _, kv := range strings.Split(path[i+1:], "&") {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "domain":
					req.Domain = v
				case "mode":
					req.Mode = v
				case "page_size":
					fmt.Sscan(v, &req.PageSize)
				case "page_token":
					req.PageToken = v
				}
			}
		}
		resp, err = kc.ListKernels(ctx, req, opt)
	case strings.HasPrefix(path, "/kernels/"):
		var r *gokernelsv1.GetKernelResponse
		r, err = kc.GetKernel(ctx, &gokernelsv1.GetKernelRequest{KernelId: strings.TrimPrefix(path, "/kernels/")}, opt)
		if r != nil {
			resp = r.GetKernel()
		}
	case path == "/health":
		resp, err = hc.Check(ctx, &gokernelsv1.CheckRequest{}, opt)
	case path == "/health/ready":
		resp, err = hc.Ready(ctx, &gokernelsv1.ReadyRequest{}, opt)
	case path == "/health/live":
		resp, err = hc.Live(ctx, &gokernelsv1.LiveRequest{}, opt)
	case path == "/stats":
		resp, err = gokernelsv1.NewMetricsServiceClient(g.conn).GetStats(ctx, &gokernelsv1.GetStatsRequest{}, opt)
	default:
		return Result{Code: codes.Unimplemented, Message: "servertest: no gRPC mapping for " + path}
	}
	res := g.result(header, err)
	if err != nil {
		return res
	}
	b, _ := protojson.MarshalOptions{UseProtoNames: true}.Marshal(resp)
	_ = json.Unmarshal(b, &res.Body)
	if er, ok := resp.(*gokernelsv1.ExecuteResponse); ok && er.GetOutput() != nil {
		res.Output = structToMap(er.GetOutput())
	}
	return res
}

// callTyped calls a typed kernel RPC (GraphService/PageRank) by its REST
// route, with body as the input in the API's JSON shape; the output is
// rendered back in that shape, so one check serves both forms.
func (g *grpcTransport) callTyped(ctx context.Context, path string, body []byte, opt grpc.CallOption, header *metadata.MD) Result {
	var m *kernelrpc.Method
	for _, c := range kernelrpc.Methods() {
		if c.HTTPPath == path {
			m = &c
			break
		}
	}
	if m == nil {
		return Result{Code: codes.Unimplemented, Message: "servertest: no typed RPC for " + path}
	}
	inType, err := protoregistry.GlobalTypes.FindMessageByName(m.Desc.Input().FullName())
	if err != nil {
		return Result{Code: codes.Internal, Message: err.Error()}
	}
	outType, err := protoregistry.GlobalTypes.FindMessageByName(m.Desc.Output().FullName())
	if err != nil {
		return Result{Code: codes.Internal, Message: err.Error()}
	}
	in, out := inType.New().Interface(), outType.New().Interface()
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := jsoninput.Decode(body, in); err != nil {
		// Some bad inputs (an edge of three ids) have no typed form: the
		// client's own encoding refuses them, naming the field.
		res := Result{Code: codes.InvalidArgument, Message: "client-side: " + err.Error()}
		if fe, ok := kerr.AsField(err); ok {
			res.Fields = []string{fe.Field}
		}
		return res
	}
	err = g.conn.Invoke(ctx, m.FullMethod, in, out, opt)
	res := g.result(*header, err)
	if err != nil {
		return res
	}
	b, err := jsoninput.AppendJSON(nil, out, 0)
	if err != nil {
		return Result{Code: codes.Internal, Message: err.Error()}
	}
	_ = json.Unmarshal(b, &res.Body)
	res.Output = res.Body
	return res
}

// result reads a call's header and error.
func (g *grpcTransport) result(header metadata.MD, err error) Result {
	res := Result{Header: map[string]string{}}
	for k, v := range header {
		if len(v) > 0 {
			res.Header[k] = v[0]
		}
	}
	res.RetryAfter = res.Header["retry-after"]
	if err != nil {
		st := status.Convert(err)
		res.Code, res.Message = st.Code(), st.Message()
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.BadRequest:
				for _, fv := range d.GetFieldViolations() {
					res.Fields = append(res.Fields, fv.GetField())
				}
			case *errdetails.ErrorInfo:
				res.Reason = d.GetReason()
			}
		}
	}
	return res
}

// parseGRPCTimeout reads the Grpc-Timeout header format: an integer and a
// unit (H, M, S, m, u, n), e.g. "100m" for 100 ms.
func parseGRPCTimeout(v string) time.Duration {
	if len(v) < 2 {
		return 0
	}
	var n int64
	fmt.Sscan(v[:len(v)-1], &n)
	unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second, 'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}[v[len(v)-1]]
	return time.Duration(n) * unit
}

func structToMap(s *structpb.Struct) map[string]any {
	b, _ := protojson.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

type restTransport struct {
	base   string
	client *http.Client
}

func (r *restTransport) Name() string { return "rest" }

func (r *restTransport) Call(ctx context.Context, method, path string, body []byte, md map[string]string) Result {
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, bytes.NewReader(body))
	if err != nil {
		return Result{Code: codes.Internal, Message: err.Error()}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range md {
		req.Header.Set(k, v)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return Result{Code: codes.Unavailable, Message: err.Error()}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	res := Result{HTTPStatus: resp.StatusCode, Header: map[string]string{}, RetryAfter: resp.Header.Get("Retry-After")}
	for k, v := range resp.Header {
		res.Header[strings.ToLower(k)] = v[0]
	}
	_ = json.Unmarshal(raw, &res.Body)
	if resp.StatusCode >= 300 {
		res.Code = codes.Unknown
		if c, ok := res.Body["code"].(float64); ok {
			res.Code = codes.Code(c)
		}
		res.Message, _ = res.Body["message"].(string)
		details, _ := res.Body["details"].([]any)
		for _, d := range details {
			dm, _ := d.(map[string]any)
			switch dm["@type"] {
			case "type.googleapis.com/google.rpc.BadRequest":
				fvs, _ := dm["field_violations"].([]any)
				for _, fv := range fvs {
					f, _ := fv.(map[string]any)["field"].(string)
					res.Fields = append(res.Fields, f)
				}
			case "type.googleapis.com/google.rpc.ErrorInfo":
				res.Reason, _ = dm["reason"].(string)
			}
		}
		return res
	}
	if out, ok := res.Body["output"].(map[string]any); ok {
		res.Output = out
	}
	if strings.HasPrefix(path, "/kernels/") && strings.HasSuffix(path, ":execute") {
		res.Output = res.Body // a typed route answers the output itself
	}
	return res
}
