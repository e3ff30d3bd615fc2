// Package reqinfo carries per-request facts through the interceptor chain:
// the request id, and what the handler learns (kernel id, backend) so that
// the logging and metrics stages, which run outside the handler, can report
// them. The first interceptor creates the Info; later stages fill it in.
package reqinfo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
)

// Info is mutable per-request state. Fields are written by the one goroutine
// handling the request and read after it returns.
type Info struct {
	RequestID string
	KernelID  string
	Backend   string
	Principal string // authenticated identity, if any
	Role      string
	Tenant    string
	TraceID   string
}

type key struct{}

// With attaches info to ctx.
func With(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the request's Info, or an empty one (never nil).
func From(ctx context.Context) *Info {
	if i, ok := ctx.Value(key{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// Valid reports whether a client-sent id is safe to echo: 1-128 printable
// ASCII characters, no spaces.
func Valid(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

var (
	prefix  = newPrefix()
	counter atomic.Uint64
)

func newPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "req-" + hex.EncodeToString(b[:]) + "-"
}

// NewID returns a unique request id: a random per-process prefix plus a
// counter, which is cheaper than a UUID per request and still unique across
// replicas.
func NewID() string {
	n := counter.Add(1)
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = "0123456789abcdef"[n&15]
		n >>= 4
		if n == 0 {
			break
		}
	}
	return prefix + string(buf[i:])
}
