package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/testkernels"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

// testPKI is a throw-away CA with a server certificate for 127.0.0.1 and
// localhost and a client certificate, all written as PEM files.
type testPKI struct {
	caPool                *x509.CertPool
	caFile                string
	serverCert, serverKey string
	client                tls.Certificate
}

func newTestPKI(t *testing.T, name string) *testPKI {
	t.Helper()
	dir := t.TempDir()
	write := func(file, typ string, der []byte) string {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(1)
	now := time.Now()
	issue := func(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(time.Hour)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return cert, der
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{Subject: pkix.Name{CommonName: name + " test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	ca, caDER := issue(caTmpl, caTmpl, &caKey.PublicKey, caKey)

	p := &testPKI{caPool: x509.NewCertPool(), caFile: write("ca.pem", "CERTIFICATE", caDER)}
	p.caPool.AddCert(ca)

	srvKey := newKey()
	_, srvDER := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "gokernels"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca, &srvKey.PublicKey, caKey)
	p.serverCert = write("server.pem", "CERTIFICATE", srvDER)
	srvKeyDER, _ := x509.MarshalPKCS8PrivateKey(srvKey)
	p.serverKey = write("server-key.pem", "PRIVATE KEY", srvKeyDER)

	cliKey := newKey()
	_, cliDER := issue(&x509.Certificate{Subject: pkix.Name{CommonName: name + " client"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca, &cliKey.PublicKey, caKey)
	p.client = tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}
	return p
}

func startTLS(t *testing.T, pki *testPKI, mtls bool) *server.Server {
	t.Helper()
	env := map[string]string{"GOKERNELS_TLS_CERT": pki.serverCert, "GOKERNELS_TLS_KEY": pki.serverKey}
	if mtls {
		env["GOKERNELS_TLS_CLIENT_CA"] = pki.caFile
	}
	return servertest.Start(t, servertest.Config(t, env), testRegistry(t), server.Options{})
}

// clientTLS trusts pki's CA and presents cert when given.
func clientTLS(pki *testPKI, cert *tls.Certificate) *tls.Config {
	tc := &tls.Config{RootCAs: pki.caPool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	return tc
}

// restOverTLS lists kernels and executes testing/echo over HTTPS (HTTP/2
// and HTTP/1.1); it returns the first error.
func restOverTLS(ctx context.Context, addr string, tc *tls.Config) error {
	for _, h2 := range []bool{true, false} {
		tr := &http.Transport{TLSClientConfig: tc.Clone(), ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/kernels/testing/echo", ""},
			{"POST", "/execute", `{"kernel_id": "testing/echo", "input": {"count": 3}}`},
		} {
			r, _ := http.NewRequestWithContext(ctx, req.method, "https://"+addr+req.path, strings.NewReader(req.body))
			r.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(r)
			if err != nil {
				tr.CloseIdleConnections()
				return err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || (req.path == "/execute" && !strings.Contains(string(b), `"count":3`)) {
				tr.CloseIdleConnections()
				return &httpError{req.method + " " + req.path + " (h2 " + map[bool]string{true: "on", false: "off"}[h2] + "): " + resp.Status + " " + string(b)}
			}
		}
		tr.CloseIdleConnections()
	}
	return nil
}

type httpError struct{ s string }

func (e *httpError) Error() string { return e.s }

var echoInput, _ = structpb.NewStruct(map[string]any{"count": 1})

// grpcOverTLS executes testing/echo over gRPC with TLS.
func grpcOverTLS(ctx context.Context, addr string, tc *tls.Config) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc.Clone())))
	if err != nil {
		return err
	}
	defer conn.Close()
	kc := gokernelsv1.NewKernelServiceClient(conn)
	if _, err := kc.GetKernel(ctx, &gokernelsv1.GetKernelRequest{KernelId: testkernels.Echo}); err != nil {
		return err
	}
	_, err = kc.Execute(ctx, &gokernelsv1.ExecuteRequest{KernelId: testkernels.Echo, Payload: &gokernelsv1.ExecuteRequest_Input{Input: echoInput}})
	return err
}

func TestTLS(t *testing.T) {
	pki := newTestPKI(t, "tls")
	srv := startTLS(t, pki, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tc := clientTLS(pki, nil)

	if err := restOverTLS(ctx, srv.HTTPAddr(), tc); err != nil {
		t.Errorf("REST over HTTPS: %v", err)
	}
	for port, addr := range map[string]string{"gRPC port": srv.GRPCAddr(), "HTTP port": srv.HTTPAddr()} {
		if err := grpcOverTLS(ctx, addr, tc); err != nil {
			t.Errorf("gRPC over TLS on the %s: %v", port, err)
		}
	}

	// Plaintext is refused on both ports.
	if resp, err := http.Get("http://" + srv.HTTPAddr() + "/health/live"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP answered %s", resp.Status)
		}
	}
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	if _, err := gokernelsv1.NewHealthServiceClient(conn).Live(short, &gokernelsv1.LiveRequest{}); err == nil {
		t.Error("plaintext gRPC served on the TLS gRPC port")
	}

	// A client that does not trust the CA refuses the server.
	if err := grpcOverTLS(short, srv.GRPCAddr(), &tls.Config{MinVersion: tls.VersionTLS12}); err == nil {
		t.Error("server certificate accepted without its CA")
	}
}

func TestMutualTLS(t *testing.T) {
	pki := newTestPKI(t, "mtls")
	other := newTestPKI(t, "other")
	srv := startTLS(t, pki, true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	withCert := clientTLS(pki, &pki.client)
	if err := restOverTLS(ctx, srv.HTTPAddr(), withCert); err != nil {
		t.Errorf("REST with a client certificate: %v", err)
	}
	for port, addr := range map[string]string{"gRPC port": srv.GRPCAddr(), "HTTP port": srv.HTTPAddr()} {
		if err := grpcOverTLS(ctx, addr, withCert); err != nil {
			t.Errorf("gRPC with a client certificate on the %s: %v", port, err)
		}
	}

	for name, tc := range map[string]*tls.Config{
		"no client certificate":       clientTLS(pki, nil),
		"certificate from another CA": clientTLS(pki, &other.client),
	} {
		if err := restOverTLS(ctx, srv.HTTPAddr(), tc); err == nil {
			t.Errorf("REST with %s was served", name)
		}
		for port, addr := range map[string]string{"gRPC port": srv.GRPCAddr(), "HTTP port": srv.HTTPAddr()} {
			short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
			err := grpcOverTLS(short, addr, tc)
			cancelShort()
			if err == nil {
				t.Errorf("gRPC with %s was served on the %s", name, port)
			} else if c := status.Code(err); c != codes.Unavailable && c != codes.DeadlineExceeded {
				t.Errorf("gRPC with %s on the %s: %v, want UNAVAILABLE", name, port, err)
			}
		}
	}
}
