package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"google.golang.org/protobuf/reflect/protoreflect"

	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	"github.com/gokernels/gokernels/kernels/accumulate"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/orderbook"
	"github.com/gokernels/gokernels/kernels/registry"
)

// The harness: an embedded JetStream cluster of n servers on 127.0.0.1 and
// cluster nodes connected to it, each to a different first server.

type natsCluster struct {
	servers []*server.Server
	urls    []string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startNATS(t *testing.T, n int) *natsCluster {
	t.Helper()
	cports := make([]int, n)
	var routes []string
	for i := range cports {
		cports[i] = freePort(t)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", cports[i]))
	}
	c := &natsCluster{}
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("s%d", i), Host: "127.0.0.1", Port: freePort(t),
			JetStream: true, StoreDir: t.TempDir(), MaxPayload: 16 << 20, NoSigs: true, NoLog: true,
			JetStreamMaxMemory: 64 << 20, JetStreamMaxStore: 2 << 30,
			Cluster: server.ClusterOpts{Name: "gk", Host: "127.0.0.1", Port: cports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(20 * time.Second) {
			t.Fatalf("nats server %d not ready", i)
		}
		c.servers = append(c.servers, s)
		c.urls = append(c.urls, s.ClientURL())
	}
	t.Cleanup(func() {
		for _, s := range c.servers {
			s.Shutdown()
			s.WaitForShutdown()
		}
	})
	return c
}

// url lists every server, starting with the i-th.
func (c *natsCluster) url(i int) string {
	var out []string
	for j := range c.urls {
		out = append(out, c.urls[(i+j)%len(c.urls)])
	}
	return strings.Join(out, ",")
}

// testRegistry serves orderbook/matching with a ring handler that keeps
// the messages and answers Snapshot with the Batch kernel over them (the
// replay law by construction): a retry applied twice or a message lost
// would change the book, the event log and the order table.
func testRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := orderbook.Register(r); err != nil {
		t.Fatal(err)
	}
	k, _ := r.Get("orderbook/matching")
	sh := accumulate.Shape{ID: k.ID, Data: []protoreflect.Name{"messages"}}
	if err := r.AddRing(k.ID, func() fold.Handler { return accumulate.New(k, sh) }); err != nil {
		t.Fatal(err)
	}
	r.Freeze()
	return r
}

func testLogger() *slog.Logger {
	if os.Getenv("GOKERNELS_CLUSTER_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startNodes(t *testing.T, nc *natsCluster, reg *registry.Registry, n int, opts Options) []*Node {
	t.Helper()
	nodes := make([]*Node, n)
	for i := range nodes {
		o := opts
		o.URL, o.Member, o.Logger = nc.url(i), fmt.Sprintf("n%d", i), testLogger()
		node, err := New(reg, o)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = node
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = node.Close(ctx)
		})
	}
	return nodes
}

// waitOwner waits until partition p has a live owner among nodes (its
// index), other than skip.
func waitOwner(t *testing.T, nodes []*Node, p int, skip int, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for i, n := range nodes {
			if i == skip || n.closed.Load() {
				continue
			}
			for _, q := range n.Owned() {
				if q == p {
					return i
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("partition %d has no owner after %s", p, within)
	return -1
}

// orders generates a reproducible stream of limit orders, cancels and
// modifies on two symbols around a drifting mid price, so that orders
// cross, rest, partially fill and get cancelled.
func orders(n int, seed uint64) []*orderbookv1.OrderMessage {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]*orderbookv1.OrderMessage, 0, n)
	mid := int64(10000)
	for i := range n {
		id := uint64(i + 1)
		switch r := rng.IntN(10); {
		case r < 7 || i < 10:
			side := "BUY"
			if rng.IntN(2) == 0 {
				side = "SELL"
			}
			mid += int64(rng.IntN(5)) - 2
			out = append(out, &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Submit{Submit: &orderbookv1.Submit{
				OrderId: id, Symbol: []string{"AAA", "BBB"}[rng.IntN(2)], TraderId: "t" + strconv.Itoa(rng.IntN(50)),
				Side: side, Type: "LIMIT", Price: mid + int64(rng.IntN(21)) - 10, Qty: int64(1 + rng.IntN(100)), Tif: "GTC"}}})
		case r < 9:
			out = append(out, &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Cancel{Cancel: &orderbookv1.Cancel{
				OrderId: uint64(1 + rng.IntN(i))}}})
		default:
			out = append(out, &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Modify{Modify: &orderbookv1.Modify{
				OrderId: uint64(1 + rng.IntN(i)), Qty: int64(1 + rng.IntN(100))}}})
		}
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
