package ratelimit

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/gokernels/gokernels/server/reqinfo"
)

type bufAddr struct{}

func (bufAddr) Network() string { return "bufconn" }
func (bufAddr) String() string  { return "bufconn" }

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
	gw := func(p *peer.Peer) bool { return p.Addr.Network() == "bufconn" }
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
