package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func startInternal(t *testing.T, sec Security) (*InternalServer, Node) {
	t.Helper()
	s := NewInternalServer(InternalConfig{NodeName: "n1", Version: "test", Security: sec, Log: zaptest.NewLogger(t),
		Load: func() int64 { return 7 }})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(lis) }()
	t.Cleanup(func() {
		s.Stop(5 * time.Second)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, Node{Name: "n1", NodeMeta: NodeMeta{InternalAddr: lis.Addr().String()}}
}

func wantCode(t *testing.T, err error, c codes.Code, what string) {
	t.Helper()
	if status.Code(err) != c {
		t.Fatalf("%s: want %v, got %v", what, c, err)
	}
}

func TestInternalServiceSecret(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sec := Security{Secret: []byte("s3cret")}
	srv, node := startInternal(t, sec)
	srv.HandleAction("echo", func(ctx context.Context, b []byte) ([]byte, error) { return append([]byte("echo:"), b...), nil })
	srv.HandleDoGet(func(tk *flight.Ticket, st flight.FlightService_DoGetServer) error {
		return st.Send(&flight.FlightData{DataBody: tk.Ticket})
	})

	good, err := Dial(ctx, node, sec)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	info, err := good.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Node != "n1" || info.Version != "test" || info.RunningTasks != 7 {
		t.Fatalf("ping = %+v", info)
	}
	if b, err := good.Action(ctx, "echo", []byte("x")); err != nil || string(b) != "echo:x" {
		t.Fatalf("echo = %q, %v", b, err)
	}
	st, err := good.DoGet(ctx, &flight.Ticket{Ticket: []byte("p1")})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := st.Recv(); err != nil || string(d.DataBody) != "p1" {
		t.Fatalf("DoGet = %v, %v", d, err)
	}
	_, err = good.Action(ctx, "nope", nil)
	wantCode(t, err, codes.Unimplemented, "unknown action")
	put, err := good.DoPut(ctx)
	if err == nil {
		_, err = put.Recv()
	}
	wantCode(t, err, codes.Unimplemented, "DoPut without handler")

	// No secret, a wrong secret, a client's bearer token: all refused,
	// for unary-style actions and streams alike.
	none, _ := Dial(ctx, node, Security{})
	defer none.Close()
	_, err = none.Ping(ctx)
	wantCode(t, err, codes.Unauthenticated, "no secret")
	wrong, _ := Dial(ctx, node, Security{Secret: []byte("guess")})
	defer wrong.Close()
	_, err = wrong.Ping(ctx)
	wantCode(t, err, codes.Unauthenticated, "wrong secret")
	st, err = wrong.DoGet(ctx, &flight.Ticket{Ticket: []byte("p1")})
	if err == nil {
		_, err = st.Recv()
	}
	wantCode(t, err, codes.Unauthenticated, "DoGet with wrong secret")
	bearer := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer eyJhbGciOi.client.token")
	_, err = none.Action(bearer, ActionPing, nil)
	wantCode(t, err, codes.Unauthenticated, "Flight SQL bearer token")
	// A raw header carrying the secret itself (not its proof) is refused too.
	raw := metadata.AppendToOutgoingContext(ctx, SecretHeader, "s3cret")
	_, err = none.Action(raw, ActionPing, nil)
	wantCode(t, err, codes.Unauthenticated, "raw secret")
}

func TestInternalServiceStopCancelsHandlers(t *testing.T) {
	ctx := context.Background()
	srv, node := startInternal(t, Security{})
	started := make(chan struct{})
	srv.HandleAction("block", func(ctx context.Context, _ []byte) ([]byte, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	c, _ := Dial(ctx, node, Security{})
	defer c.Close()
	errc := make(chan error, 1)
	go func() { _, err := c.Action(ctx, "block", nil); errc <- err }()
	<-started
	t0 := time.Now()
	srv.Stop(5 * time.Second)
	if time.Since(t0) > 3*time.Second {
		t.Fatal("Stop waited for a blocked handler")
	}
	if err := <-errc; err == nil {
		t.Fatal("blocked call returned no error")
	}
}

// writeCert writes a PEM certificate and key signed by ca (self-signed when ca is nil).
func writeCert(t *testing.T, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"quiver"}}
	parent, signer := tpl, key
	if ca == nil {
		tpl.IsCA, tpl.BasicConstraintsValid = true, true
	} else {
		parent, signer = ca, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func TestInternalServiceMutualTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	ca, caKey := writeCert(t, dir, "ca", nil, nil)
	writeCert(t, dir, "node", ca, caKey)
	otherCA, otherKey := writeCert(t, dir, "otherca", nil, nil)
	writeCert(t, dir, "intruder", otherCA, otherKey)
	p := func(n string) string { return filepath.Join(dir, n) }

	srvTLS, cliTLS, err := LoadClusterTLS(p("node.crt"), p("node.key"), p("ca.crt"), "")
	if err != nil {
		t.Fatal(err)
	}
	sec := Security{Secret: []byte("s"), ServerTLS: srvTLS, ClientTLS: cliTLS}
	_, node := startInternal(t, sec)
	c, _ := Dial(ctx, node, sec)
	defer c.Close()
	if _, err := c.Ping(ctx); err != nil {
		t.Fatalf("mTLS ping: %v", err)
	}
	// Right secret, but a certificate from another CA: refused in the handshake.
	_, intruderTLS, err := LoadClusterTLS(p("intruder.crt"), p("intruder.key"), p("ca.crt"), "")
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := Dial(ctx, node, Security{Secret: []byte("s"), ClientTLS: intruderTLS})
	defer bad.Close()
	short, cancel2 := context.WithTimeout(ctx, 3*time.Second)
	defer cancel2()
	if _, err := bad.Ping(short); err == nil {
		t.Fatal("a certificate of another CA was accepted")
	}
	// No client certificate at all.
	nocert := &tls.Config{RootCAs: cliTLS.RootCAs, MinVersion: tls.VersionTLS12}
	bad2, _ := Dial(ctx, node, Security{Secret: []byte("s"), ClientTLS: nocert})
	defer bad2.Close()
	short3, cancel3 := context.WithTimeout(ctx, 3*time.Second)
	defer cancel3()
	if _, err := bad2.Ping(short3); err == nil {
		t.Fatal("a client without a certificate was accepted")
	}
	// Plaintext to a TLS port fails too.
	plain, _ := Dial(ctx, node, Security{Secret: []byte("s")})
	defer plain.Close()
	short4, cancel4 := context.WithTimeout(ctx, 3*time.Second)
	defer cancel4()
	if _, err := plain.Ping(short4); err == nil {
		t.Fatal("plaintext call to the mTLS service succeeded")
	}
	if _, _, err := LoadClusterTLS(p("node.crt"), p("node.key"), "", ""); err == nil {
		t.Fatal("cluster TLS without a CA accepted")
	}
}

func TestDeriveSecret(t *testing.T) {
	a, b := DeriveSecret([]byte("0123456789abcdef")), DeriveSecret([]byte("0123456789abcdeg"))
	if string(a) == string(b) || len(a) != 32 || string(a) != string(DeriveSecret([]byte("0123456789abcdef"))) {
		t.Fatal("DeriveSecret is not a deterministic per-key value")
	}
}
