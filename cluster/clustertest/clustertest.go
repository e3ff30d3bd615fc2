// Package clustertest starts an embedded NATS JetStream cluster on
// 127.0.0.1 for tests of cluster mode (package cluster and the server).
package clustertest

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATS is a running JetStream cluster.
type NATS struct {
	Servers []*server.Server
	URLs    []string
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartNATS starts n JetStream servers clustered over routes on loopback;
// they are shut down when the test ends. Payloads up to 16 MiB are allowed
// (ring snapshots travel through the bucket and the control subject).
func StartNATS(t testing.TB, n int) *NATS {
	t.Helper()
	cports := make([]int, n)
	var routes []string
	for i := range cports {
		cports[i] = freePort(t)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", cports[i]))
	}
	c := &NATS{}
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("s%d", i), Host: "127.0.0.1", Port: freePort(t),
			JetStream: true, StoreDir: t.TempDir(), MaxPayload: 16 << 20, NoSigs: true, NoLog: true,
			JetStreamMaxMemory: 64 << 20, JetStreamMaxStore: 2 << 30,
		}
		if n > 1 {
			opts.Cluster = server.ClusterOpts{Name: "gk", Host: "127.0.0.1", Port: cports[i]}
			opts.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(20 * time.Second) {
			t.Fatalf("nats server %d not ready", i)
		}
		c.Servers = append(c.Servers, s)
		c.URLs = append(c.URLs, s.ClientURL())
	}
	t.Cleanup(func() {
		for _, s := range c.Servers {
			s.Shutdown()
			s.WaitForShutdown()
		}
	})
	return c
}

// URL lists every server, the i-th first (so clients spread over them and
// fail over to the others).
func (c *NATS) URL(i int) string {
	var out []string
	for j := range c.URLs {
		out = append(out, c.URLs[(i+j)%len(c.URLs)])
	}
	return strings.Join(out, ",")
}
