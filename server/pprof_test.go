package server_test

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

func TestPprofOnlyOnLoopback(t *testing.T) {
	srv, err := server.New(servertest.Config(t, map[string]string{"GOKERNELS_PPROF_ADDR": "0.0.0.0:0"}), testRegistry(t), serverOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err == nil || !strings.Contains(err.Error(), "loopback") {
		srv.Close()
		t.Fatalf("non-loopback pprof address: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	servertest.Start(t, servertest.Config(t, map[string]string{"GOKERNELS_PPROF_ADDR": addr}), testRegistry(t), serverOptions())
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("pprof index: HTTP %d", resp.StatusCode)
	}
}
