package service

import "context"

// RESTCall is what the in-process REST gateway and Execute tell each other
// about one POST /execute, as Go values handed over in the context rather
// than as fields of the request and response messages:
//
//   - Input is the body's "input" JSON, sliced from the body unparsed. Execute
//     looks the kernel up (once) and decodes it straight into the kernel's
//     typed input, inside the worker slot and the deadline; no Struct and no
//     intermediate protobuf encoding is built.
//   - A REST caller always gets JSON text: Execute renders the output into
//     Output (inside the slot, with the response limits) and the gateway
//     writes those bytes as the body's "output" (or "typed_output" when
//     OutputTyped) without parsing or copying them again.
//
// A native gRPC call has no RESTCall; the same Execute then answers with a
// Struct or a typed Any, as the request asks.
type RESTCall struct {
	Input       []byte
	Output      []byte
	OutputTyped bool
}

type restCallKey struct{}

// WithRESTCall attaches c to ctx.
func WithRESTCall(ctx context.Context, c *RESTCall) context.Context {
	return context.WithValue(ctx, restCallKey{}, c)
}

// RESTCallFrom returns the call's RESTCall, or nil for a gRPC call.
func RESTCallFrom(ctx context.Context) *RESTCall {
	c, _ := ctx.Value(restCallKey{}).(*RESTCall)
	return c
}
