// Package ratelimit implements the token buckets of the request path: one
// global bucket and one per client key, both golang.org/x/time/rate. It
// satisfies go-grpc-middleware's ratelimit.Limiter, so the interceptor is the
// library's; this package only decides whose bucket a request draws from.
//
// The per-key map is bounded: buckets idle for longer than idleTTL are
// evicted by a janitor, and when the map is at maxKeys the request shares an
// overflow bucket, so no client can grow server memory by inventing keys.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/gokernels/gokernels/server/reqinfo"
)

// Limiter is the global plus per-key limiter.
type Limiter struct {
	global     *rate.Limiter // nil = no global limit
	rps        rate.Limit
	burst      int
	idleTTL    time.Duration
	maxKeys    int
	mu         sync.Mutex
	keys       map[string]*bucket
	overflow   *rate.Limiter
	OnReject   func(key string)
	trustedXFF func(p *peer.Peer) bool
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// Options configure a Limiter. Zero RPS disables that level.
type Options struct {
	GlobalRPS, ClientRPS     float64
	GlobalBurst, ClientBurst int
	IdleTTL                  time.Duration // default 5m
	MaxKeys                  int           // default 100000
	// TrustForwardedFor reports whether a peer (the in-process gateway) may
	// name the client with x-forwarded-for.
	TrustForwardedFor func(p *peer.Peer) bool
}

// New returns a Limiter, or nil when both levels are disabled.
func New(o Options) *Limiter {
	if o.GlobalRPS <= 0 && o.ClientRPS <= 0 {
		return nil
	}
	l := &Limiter{idleTTL: o.IdleTTL, maxKeys: o.MaxKeys, keys: map[string]*bucket{}, trustedXFF: o.TrustForwardedFor}
	if l.idleTTL <= 0 {
		l.idleTTL = 5 * time.Minute
	}
	if l.maxKeys <= 0 {
		l.maxKeys = 100_000
	}
	if o.GlobalRPS > 0 {
		l.global = rate.NewLimiter(rate.Limit(o.GlobalRPS), burstOf(o.GlobalRPS, o.GlobalBurst))
	}
	if o.ClientRPS > 0 {
		l.rps, l.burst = rate.Limit(o.ClientRPS), burstOf(o.ClientRPS, o.ClientBurst)
		l.overflow = rate.NewLimiter(l.rps, l.burst)
	}
	return l
}

func burstOf(rps float64, burst int) int {
	if burst > 0 {
		return burst
	}
	return max(1, int(math.Ceil(rps)))
}

// Limit implements go-grpc-middleware's ratelimit.Limiter. On rejection it
// sets the retry-after response header (seconds), which the gateway turns
// into the HTTP Retry-After header.
func (l *Limiter) Limit(ctx context.Context) error {
	key := ""
	if l.rps > 0 {
		key = l.ClientKey(ctx)
		if d, ok := reserve(l.bucketFor(key)); !ok {
			return l.reject(ctx, key, d, "client")
		}
	}
	if l.global != nil {
		if d, ok := reserve(l.global); !ok {
			return l.reject(ctx, key, d, "global")
		}
	}
	return nil
}

// reserve takes a token if one is available now; otherwise it reports how
// long until one will be.
func reserve(lim *rate.Limiter) (time.Duration, bool) {
	now := time.Now()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Second, false
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

func (l *Limiter) reject(ctx context.Context, key string, wait time.Duration, level string) error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs("retry-after", strconv.Itoa(secs)))
	if l.OnReject != nil {
		l.OnReject(key)
	}
	return fmt.Errorf("%s rate limit exceeded; retry after %ds", level, secs)
}

func (l *Limiter) bucketFor(key string) *rate.Limiter {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.keys[key]; ok {
		b.seen = now
		return b.lim
	}
	if len(l.keys) >= l.maxKeys {
		l.evictLocked(now)
		if len(l.keys) >= l.maxKeys {
			return l.overflow
		}
	}
	b := &bucket{lim: rate.NewLimiter(l.rps, l.burst), seen: now}
	l.keys[key] = b
	return b.lim
}

func (l *Limiter) evictLocked(now time.Time) {
	for k, b := range l.keys {
		if now.Sub(b.seen) > l.idleTTL {
			delete(l.keys, k)
		}
	}
}

// Evict drops idle buckets; Run calls it periodically.
func (l *Limiter) Evict() {
	l.mu.Lock()
	l.evictLocked(time.Now())
	l.mu.Unlock()
}

// Keys is the number of per-client buckets held.
func (l *Limiter) Keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// Run evicts idle buckets until ctx ends.
func (l *Limiter) Run(ctx context.Context) {
	t := time.NewTicker(max(l.idleTTL/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.Evict()
		}
	}
}

// ClientKey identifies the caller: the authenticated principal, else the
// X-Tenant-ID, else the client address (x-forwarded-for when the request came
// through the in-process gateway, else the peer address).
func (l *Limiter) ClientKey(ctx context.Context) string {
	if p := reqinfo.From(ctx).Principal; p != "" {
		return "principal:" + p
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("x-tenant-id"); len(v) > 0 && v[0] != "" && len(v[0]) <= 128 {
		return "tenant:" + v[0]
	}
	p, _ := peer.FromContext(ctx)
	if p != nil && l.trustedXFF != nil && l.trustedXFF(p) {
		if v := md.Get("x-forwarded-for"); len(v) > 0 && v[0] != "" {
			return "addr:" + firstHop(v[0])
		}
	}
	if p != nil && p.Addr != nil {
		host, _, err := net.SplitHostPort(p.Addr.String())
		if err != nil {
			host = p.Addr.String()
		}
		return "addr:" + host
	}
	return "addr:unknown"
}

func firstHop(xff string) string {
	for i := 0; i < len(xff); i++ {
		if xff[i] == ',' {
			return xff[:i]
		}
	}
	return xff
}
