package ratelimit

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/reqinfo"
)

type bufAddr struct{}

func (bufAddr) Network() string { return "inproc" }
func (bufAddr) String() string  { return "gateway" }

func tcp(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 4242} }

func callCtx(addr net.Addr, md ...string) context.Context {
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: addr})
	return metadata.NewIncomingContext(ctx, metadata.Pairs(md...))
}

// TestClientKey: headers a client writes itself never choose its bucket;
// they count only when a trusted proxy passes them on, and then by the
// rightmost-untrusted rule.
func TestClientKey(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", "192.168.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	gw := func(p *peer.Peer) bool { return p.Addr.Network() == "inproc" }
	plain := New(Options{ClientRPS: 1, Gateway: gw})
	behind := New(Options{ClientRPS: 1, Gateway: gw, TrustedProxies: proxies})
	cases := []struct {
		name string
		l    *Limiter
		ctx  context.Context
		want string
	}{
		{"grpc peer", plain, callCtx(tcp("203.0.113.7")), "addr:203.0.113.7"},
		{"grpc forged xff", plain, callCtx(tcp("203.0.113.7"), "x-forwarded-for", "1.2.3.4"), "addr:203.0.113.7"},
		{"grpc forged tenant", plain, callCtx(tcp("203.0.113.7"), "x-tenant-id", "t1"), "addr:203.0.113.7"},
		// The gateway appends the HTTP peer after the client's own header.
		{"rest forged xff", plain, callCtx(bufAddr{}, "x-forwarded-for", "1.2.3.4, 203.0.113.7"), "addr:203.0.113.7"},
		{"rest forged tenant", plain, callCtx(bufAddr{}, "x-forwarded-for", "203.0.113.7", "x-tenant-id", "t1"), "addr:203.0.113.7"},
		{"rest no xff", plain, callCtx(bufAddr{}), "addr:unknown"},
		{"untrusted peer behind config", behind, callCtx(tcp("203.0.113.7"), "x-forwarded-for", "1.2.3.4"), "addr:203.0.113.7"},
		{"trusted proxy names client", behind, callCtx(tcp("10.1.2.3"), "x-forwarded-for", "1.2.3.4"), "addr:1.2.3.4"},
		{"rightmost untrusted", behind, callCtx(tcp("10.1.2.3"), "x-forwarded-for", "6.6.6.6, 1.2.3.4, 192.168.1.1"), "addr:1.2.3.4"},
		{"rest via trusted proxy", behind, callCtx(bufAddr{}, "x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.9.9.9"), "addr:1.2.3.4"},
		{"all trusted", behind, callCtx(tcp("10.1.2.3"), "x-forwarded-for", "10.0.0.5"), "addr:10.0.0.5"},
		{"trusted proxy sets tenant", behind, callCtx(tcp("10.1.2.3"), "x-forwarded-for", "1.2.3.4", "x-tenant-id", "t1"), "tenant:t1"},
		{"rest trusted tenant", behind, callCtx(bufAddr{}, "x-forwarded-for", "10.1.1.1", "x-tenant-id", "t1"), "tenant:t1"},
		{"mapped v6 proxy", behind, callCtx(tcp("::ffff:10.1.2.3"), "x-forwarded-for", "2001:db8::1"), "addr:2001:db8::1"},
	}
	for _, c := range cases {
		if got := c.l.ClientKey(c.ctx); got != c.want {
			t.Errorf("%s: key %q, want %q", c.name, got, c.want)
		}
	}
	// An authenticated principal is its own bucket, with its tenant, whatever
	// the headers say.
	ctx := reqinfo.With(callCtx(tcp("203.0.113.7"), "x-tenant-id", "other"), &reqinfo.Info{Principal: "key:abc", Tenant: "acme"})
	if got := plain.ClientKey(ctx); got != "principal:acme/key:abc" {
		t.Errorf("principal: key %q", got)
	}
}

// TestVaryingHeadersShareOneBucket: with burst 3, twenty calls from one peer
// that each invent a new X-Forwarded-For and X-Tenant-ID get three through.
func TestVaryingHeadersShareOneBucket(t *testing.T) {
	l := New(Options{ClientRPS: 0.001, ClientBurst: 3})
	ok := 0
	for i := 0; i < 20; i++ {
		ctx := callCtx(tcp("203.0.113.7"), "x-forwarded-for", net.IPv4(1, 2, 3, byte(i)).String(), "x-tenant-id", string(rune('a'+i)))
		if l.Limit(ctx) == nil {
			ok++
		}
	}
	if ok != 3 {
		t.Fatalf("%d of 20 accepted, want 3", ok)
	}
	if l.Keys() != 1 {
		t.Fatalf("%d buckets, want 1", l.Keys())
	}
}

func TestParseProxies(t *testing.T) {
	if _, err := ParseProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Error("10.0.0.0/33 accepted")
	}
	if _, err := ParseProxies([]string{"proxy.local"}); err == nil {
		t.Error("a host name accepted")
	}
}

func limitKey(l *Limiter, ip string) error { return l.Limit(callCtx(tcp(ip))) }

// TestIdleBucketsAreEvicted: buckets untouched for longer than IdleTTL go,
// the ones still in use stay.
func TestIdleBucketsAreEvicted(t *testing.T) {
	l := New(Options{ClientRPS: 1000, IdleTTL: 50 * time.Millisecond})
	for _, ip := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		if err := limitKey(l, ip); err != nil {
			t.Fatal(err)
		}
	}
	if l.Keys() != 3 {
		t.Fatalf("%d buckets, want 3", l.Keys())
	}
	l.Evict()
	if l.Keys() != 3 {
		t.Fatalf("fresh buckets evicted: %d left", l.Keys())
	}
	time.Sleep(80 * time.Millisecond)
	if err := limitKey(l, "203.0.113.2"); err != nil { // in use again
		t.Fatal(err)
	}
	l.Evict()
	if l.Keys() != 1 {
		t.Fatalf("%d buckets after eviction, want 1 (the one in use)", l.Keys())
	}
}

// TestFullMapSharesTheOverflowBucket: at MaxKeys, a new client shares one
// overflow bucket instead of growing the map; once old buckets are idle, a
// new client evicts them and gets its own.
func TestFullMapSharesTheOverflowBucket(t *testing.T) {
	l := New(Options{ClientRPS: 0.001, ClientBurst: 1, MaxKeys: 2, IdleTTL: 50 * time.Millisecond})
	for _, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		if err := limitKey(l, ip); err != nil {
			t.Fatalf("%s: %v", ip, err)
		}
	}
	// Two newcomers share the overflow bucket (burst 1): one gets through.
	first, second := limitKey(l, "198.51.100.1"), limitKey(l, "198.51.100.2")
	if first != nil || second == nil {
		t.Fatalf("newcomers at a full map: %v, %v; want the first through and the second refused", first, second)
	}
	if status.Code(second) != codes.ResourceExhausted || errs.RetryAfter(status.Convert(second)) <= 0 {
		t.Fatalf("refusal %v: want RESOURCE_EXHAUSTED with a retry delay", second)
	}
	if l.Keys() != 2 {
		t.Fatalf("map grew to %d at MaxKeys 2", l.Keys())
	}
	time.Sleep(80 * time.Millisecond)
	if err := limitKey(l, "198.51.100.3"); err != nil {
		t.Fatalf("newcomer after the idle buckets expired: %v", err)
	}
	if l.Keys() != 1 {
		t.Fatalf("%d buckets, want 1: the idle ones evicted, the newcomer's own added", l.Keys())
	}
}

// TestGlobalLimitAfterTheClientBucket: the global bucket refuses once it is
// spent, whoever asks, and a client refused by its own bucket does not
// spend a global token.
func TestGlobalLimitAfterTheClientBucket(t *testing.T) {
	rejected := 0
	l := New(Options{GlobalRPS: 0.001, GlobalBurst: 2, ClientRPS: 0.001, ClientBurst: 1})
	l.OnReject = func(string) { rejected++ }
	if err := limitKey(l, "203.0.113.1"); err != nil {
		t.Fatal(err)
	}
	if err := limitKey(l, "203.0.113.1"); err == nil || !strings.Contains(err.Error(), "client") {
		t.Fatalf("second call of one client: %v, want the client limit", err)
	}
	if err := limitKey(l, "203.0.113.2"); err != nil {
		t.Fatalf("another client with a global token left: %v", err)
	}
	if err := limitKey(l, "203.0.113.3"); err == nil || !strings.Contains(err.Error(), "global") {
		t.Fatalf("third client: %v, want the global limit", err)
	}
	if rejected != 2 {
		t.Fatalf("OnReject called %d times, want 2", rejected)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	l := New(Options{ClientRPS: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if New(Options{}) != nil {
		t.Fatal("a limiter with no limits is not nil")
	}
}
