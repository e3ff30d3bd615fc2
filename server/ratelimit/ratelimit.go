// Package ratelimit implements the token buckets of the request path: one
// global bucket and one per client key, both golang.org/x/time/rate. It
// satisfies go-grpc-middleware's ratelimit.Limiter, so the interceptor is the
// library's; this package only decides whose bucket a request draws from.
//
// Whose bucket: the authenticated principal (with its tenant, from the key
// file or the JWT claim); without authentication the real peer address.
// Headers a client can set itself never choose the bucket: X-Forwarded-For
// and X-Tenant-ID are read only when the connection comes from a configured
// trusted proxy (GOKERNELS_TRUSTED_PROXIES), and X-Forwarded-For is then
// read by the rightmost-untrusted rule, so a client cannot get a fresh
// bucket per request by inventing addresses or tenants.
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
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/reqinfo"
)

// Limiter is the global plus per-key limiter.
type Limiter struct {
	global   *rate.Limiter // nil = no global limit
	rps      rate.Limit
	burst    int
	idleTTL  time.Duration
	maxKeys  int
	mu       sync.Mutex
	keys     map[string]*bucket
	overflow *rate.Limiter
	OnReject func(key string)
	gateway  func(p *peer.Peer) bool
	proxies  []netip.Prefix
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
	// Gateway reports whether a peer is the in-process REST gateway. The
	// gateway appends the HTTP peer's address to x-forwarded-for, so for its
	// calls the last entry is the real peer and the rest is what the client
	// (or a proxy in front) sent.
	Gateway func(p *peer.Peer) bool
	// TrustedProxies are the proxies whose X-Forwarded-For and X-Tenant-ID
	// are believed (GOKERNELS_TRUSTED_PROXIES); empty = none.
	TrustedProxies []netip.Prefix
}

// New returns a Limiter, or nil when both levels are disabled.
func New(o Options) *Limiter {
	if o.GlobalRPS <= 0 && o.ClientRPS <= 0 {
		return nil
	}
	l := &Limiter{idleTTL: o.IdleTTL, maxKeys: o.MaxKeys, keys: map[string]*bucket{}, gateway: o.Gateway, proxies: o.TrustedProxies}
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
	return errs.WithReason(codes.ResourceExhausted, errs.ReasonRateLimit,
		fmt.Sprintf("%s rate limit exceeded; retry after %ds", level, secs), time.Duration(secs)*time.Second)
}

// Unary is the chain's rate-limit stage.
func (l *Limiter) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := l.Limit(ctx); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
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

// ClientKey identifies the caller:
//   - an authenticated principal (and its tenant): "principal:<tenant>/<sub>";
//   - else, when the peer is a trusted proxy that sent X-Tenant-ID:
//     "tenant:<id>";
//   - else the client address: the peer, or, behind trusted proxies, the
//     rightmost X-Forwarded-For entry that is not a trusted proxy.
//
// The peer of a REST call is the HTTP client the gateway saw (the last
// x-forwarded-for entry it appended), not the gateway itself.
func (l *Limiter) ClientKey(ctx context.Context) string {
	if ri := reqinfo.From(ctx); ri.Principal != "" {
		return "principal:" + ri.Tenant + "/" + ri.Principal
	}
	md, _ := metadata.FromIncomingContext(ctx)
	// hops is the forwarding chain, client first, ending with the peer.
	var hops []string
	for _, v := range md.Get("x-forwarded-for") {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	p, _ := peer.FromContext(ctx)
	if p == nil || l.gateway == nil || !l.gateway(p) {
		// A direct gRPC caller: its own x-forwarded-for is just a claim,
		// and the peer address ends the chain.
		hops = append(hops, peerHost(p))
	} else if len(hops) == 0 {
		hops = append(hops, "unknown")
	}
	direct := hops[len(hops)-1]
	if !l.trusted(direct) {
		return "addr:" + direct
	}
	if v := md.Get("x-tenant-id"); len(v) > 0 && v[0] != "" && len(v[0]) <= 128 {
		return "tenant:" + v[0]
	}
	// Rightmost untrusted: walk back from the peer past trusted proxies;
	// the first hop no trusted proxy vouches for is the client. When every
	// hop is trusted, the leftmost is as far back as anyone can tell.
	for i := len(hops) - 1; i >= 0; i-- {
		if !l.trusted(hops[i]) {
			return "addr:" + clip(hops[i])
		}
	}
	return "addr:" + hops[0]
}

// trusted reports whether addr is one of the trusted proxies.
func (l *Limiter) trusted(addr string) bool {
	if len(l.proxies) == 0 {
		return false
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range l.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func peerHost(p *peer.Peer) string {
	if p == nil || p.Addr == nil {
		return "unknown"
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return p.Addr.String()
	}
	return host
}

// clip bounds a key taken from a header: a trusted proxy passes on whatever
// the client wrote to the left of the address it appended.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// ParseProxies reads GOKERNELS_TRUSTED_PROXIES entries: CIDRs or single
// addresses.
func ParseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
