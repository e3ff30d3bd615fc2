// Package client is the Go client for gokernels: dialing (TLS, API key or
// JWT), deadlines, retries with backoff on UNAVAILABLE and RESOURCE_EXHAUSTED
// that honour the server's Retry-After, and typed helpers over the generated
// stubs.
//
// The retry interceptor is hand-written (about 40 lines) rather than
// go-grpc-middleware's interceptors/retry, which is already a dependency,
// because that one's backoff is a function of the attempt number alone
// (BackoffFunc(ctx, attempt)): it cannot see the failed call's RetryInfo
// detail or retry-after header, so it cannot wait as long as the server
// asks, which is the point of the server's 429/RESOURCE_EXHAUSTED answers
// (TestRetryHonoursRetryAfter).
//
//	c, err := client.Dial(ctx, client.Options{Addr: "localhost:50051"})
//	out, err := client.ExecuteTyped[*graphv1.PageRankOutput](ctx, c, "graph/pagerank", in)
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

// Options configure a connection.
type Options struct {
	Addr string // host:port of the gRPC port (or the HTTP port: it serves gRPC too)

	// TLS: set TLS (or CAFile) to use TLS; nil and no CAFile means plaintext.
	TLS                *tls.Config
	CAFile             string // PEM roots to trust
	CertFile, KeyFile  string // client certificate for mTLS
	InsecureSkipVerify bool

	APIKey string // sent as x-api-key
	Token  string // JWT, sent as authorization: Bearer

	// Timeout applies to calls whose context has no deadline (default 30s).
	Timeout time.Duration
	// MaxRetries on UNAVAILABLE / RESOURCE_EXHAUSTED (default 3; -1 disables).
	MaxRetries int
	// Backoff is the first retry delay, doubled per attempt (default 100ms);
	// a longer Retry-After from the server wins.
	Backoff time.Duration

	DialOptions []grpc.DialOption
}

// Client is a connection with typed helpers.
type Client struct {
	conn    *grpc.ClientConn
	Kernels gokernelsv1.KernelServiceClient
	Health  gokernelsv1.HealthServiceClient
	Metrics gokernelsv1.MetricsServiceClient
	Rings   gokernelsv1.RingServiceClient
}

// Dial connects (lazily, as grpc.NewClient does).
func Dial(_ context.Context, o Options) (*Client, error) {
	if o.Addr == "" {
		return nil, fmt.Errorf("client: Addr is required")
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 3
	}
	if o.Backoff == 0 {
		o.Backoff = 100 * time.Millisecond
	}
	creds, secure, err := transportCreds(o)
	if err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithChainUnaryInterceptor(deadline(o.Timeout), retry(o.MaxRetries, o.Backoff)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(256<<20)),
	}
	if o.APIKey != "" || o.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(perRPC{apiKey: o.APIKey, token: o.Token, secure: secure}))
	}
	opts = append(opts, o.DialOptions...)
	conn, err := grpc.NewClient(o.Addr, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{
		conn:    conn,
		Kernels: gokernelsv1.NewKernelServiceClient(conn),
		Health:  gokernelsv1.NewHealthServiceClient(conn),
		Metrics: gokernelsv1.NewMetricsServiceClient(conn),
		Rings:   gokernelsv1.NewRingServiceClient(conn),
	}, nil
}

// Conn is the underlying connection (for other generated clients).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func transportCreds(o Options) (credentials.TransportCredentials, bool, error) {
	if o.TLS == nil && o.CAFile == "" && o.CertFile == "" && !o.InsecureSkipVerify {
		return insecure.NewCredentials(), false, nil
	}
	tc := o.TLS
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tc = tc.Clone()
	tc.InsecureSkipVerify = tc.InsecureSkipVerify || o.InsecureSkipVerify
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, false, fmt.Errorf("client: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, false, fmt.Errorf("client: no certificates in %s", o.CAFile)
		}
		tc.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, false, fmt.Errorf("client: client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(tc), true, nil
}

// perRPC sends the API key or bearer token with every call.
type perRPC struct {
	apiKey, token string
	secure        bool
}

func (p perRPC) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	md := map[string]string{}
	if p.apiKey != "" {
		md["x-api-key"] = p.apiKey
	}
	if p.token != "" {
		md["authorization"] = "Bearer " + p.token
	}
	return md, nil
}

// RequireTransportSecurity is false so that development servers without TLS
// work; use TLS in production.
func (p perRPC) RequireTransportSecurity() bool { return false }

func deadline(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// retry re-sends a call that failed with UNAVAILABLE or RESOURCE_EXHAUSTED,
// waiting the longer of an exponential backoff and the server's Retry-After
// (RetryInfo detail or retry-after header), never past the deadline.
func retry(maxRetries int, backoff time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		delay := backoff
		for attempt := 0; ; attempt++ {
			var header metadata.MD
			err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Header(&header))...)
			code := status.Code(err)
			if err == nil || attempt >= maxRetries || (code != codes.Unavailable && code != codes.ResourceExhausted) {
				return err
			}
			wait := max64(delay, RetryAfter(err, header))
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				return err
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
			delay *= 2
		}
	}
}

func max64(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// RetryAfter is the server's requested delay: a RetryInfo detail or the
// retry-after header (seconds); 0 when neither is present.
func RetryAfter(err error, header metadata.MD) time.Duration {
	if st, ok := status.FromError(err); ok {
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				return ri.GetRetryDelay().AsDuration()
			}
		}
	}
	if v := header.Get("retry-after"); len(v) > 0 {
		if n, err := strconv.Atoi(v[0]); err == nil {
			return time.Duration(n) * time.Second
		}
	}
	return 0
}

// ExecuteJSON runs a kernel on a JSON input object and returns the response
// (with JSON output).
func (c *Client) ExecuteJSON(ctx context.Context, kernelID string, input []byte, opts *gokernelsv1.ExecuteOptions) (*gokernelsv1.ExecuteResponse, error) {
	var st structpb.Struct
	if err := protojson.Unmarshal(input, &st); err != nil {
		return nil, fmt.Errorf("input is not a JSON object: %w", err)
	}
	if err := exactIntegers(input, &st); err != nil {
		return nil, err
	}
	return c.Kernels.Execute(ctx, &gokernelsv1.ExecuteRequest{
		KernelId: kernelID, Payload: &gokernelsv1.ExecuteRequest_Input{Input: &st}, Metadata: opts,
	})
}

// ExecuteTyped runs a kernel on a typed input message and returns its typed
// output: binary both ways, no JSON.
func ExecuteTyped[Out proto.Message](ctx context.Context, c *Client, kernelID string, in proto.Message) (Out, error) {
	var zero Out
	a, err := anypb.New(in)
	if err != nil {
		return zero, err
	}
	resp, err := c.Kernels.Execute(ctx, &gokernelsv1.ExecuteRequest{
		KernelId: kernelID, Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: a},
		Metadata: &gokernelsv1.ExecuteOptions{TypedOutput: true},
	})
	if err != nil {
		return zero, err
	}
	out := zero.ProtoReflect().New().Interface().(Out)
	if err := resp.GetTypedOutput().UnmarshalTo(out); err != nil {
		return zero, fmt.Errorf("typed output: %w", err)
	}
	return out, nil
}

// exactIntegers keeps integers beyond ±2^53 (e.g. a 64-bit seed) exact on
// their way through the Struct: a Struct number is a double, so such a
// literal becomes a decimal string, which the proto3 JSON mapping, and the
// server, read as the exact integer.
// input is the JSON st was parsed from (protojson has refused duplicate
// keys, so both trees have the same shape).
func exactIntegers(input []byte, st *structpb.Struct) error {
	d := json.NewDecoder(bytes.NewReader(input))
	d.UseNumber()
	var tree any
	if err := d.Decode(&tree); err != nil {
		return fmt.Errorf("input is not a JSON object: %w", err)
	}
	var fix func(v any, sv *structpb.Value)
	fix = func(v any, sv *structpb.Value) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				fix(e, sv.GetStructValue().GetFields()[k])
			}
		case []any:
			vals := sv.GetListValue().GetValues()
			for i, e := range v {
				if i < len(vals) {
					fix(e, vals[i])
				}
			}
		case json.Number:
			if sv == nil {
				return
			}
			// Beyond 2^53 a double need not hold the integer, and even
			// when it does, its shortest decimal form (9.223372036854776e18)
			// names another one.
			n, errI := strconv.ParseInt(v.String(), 10, 64)
			_, errU := strconv.ParseUint(v.String(), 10, 64)
			if errI == nil && (n > 1<<53 || n < -(1<<53)) || errI != nil && errU == nil {
				sv.Kind = &structpb.Value_StringValue{StringValue: v.String()}
			}
		}
	}
	fix(tree, structpb.NewStructValue(st))
	return nil
}
