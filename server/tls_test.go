package server

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

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// testCA makes a CA and a certificate it signs (for 127.0.0.1, or a client).
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "quiver test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) issue(t *testing.T, client bool) (certPEM, keyPEM []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "quiver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t)
	cert, key := ca.issue(t, false)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certF, keyF, caF := write("cert.pem", cert), write("key.pem", key), write("ca.pem", ca.pem)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	ctx := context.Background()
	var tsAddr string
	query := func(opts ...grpc.DialOption) error {
		cl := dial(t, tsAddr, opts...)
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		info, err := cl.Execute(c, "select 2")
		if err != nil {
			return err
		}
		_, err = fetchErr(cl, info, c)
		return err
	}

	// Server TLS.
	cfg, err := LoadTLS(certF, keyF, "")
	if err != nil {
		t.Fatal(err)
	}
	tsAddr = startWith(t, Config{TLS: cfg}).addr
	if err := query(grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool}))); err != nil {
		t.Fatalf("TLS client: %v", err)
	}
	wantCode(t, query(grpc.WithTransportCredentials(insecure.NewCredentials())), codes.Unavailable, "plain client against TLS")

	// Mutual TLS: a client without a certificate is refused.
	cfg, err = LoadTLS(certF, keyF, caF)
	if err != nil {
		t.Fatal(err)
	}
	tsAddr = startWith(t, Config{TLS: cfg}).addr
	wantCode(t, query(grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool}))), codes.Unavailable, "mTLS without client cert")
	ccert, ckey := ca.issue(t, true)
	pair, err := tls.X509KeyPair(ccert, ckey)
	if err != nil {
		t.Fatal(err)
	}
	if err := query(grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}))); err != nil {
		t.Fatalf("mTLS client: %v", err)
	}

	if _, err := LoadTLS(certF, "", ""); err == nil {
		t.Error("missing key accepted")
	}
	if _, err := LoadTLS(certF, keyF, certF+".none"); err == nil {
		t.Error("missing CA file accepted")
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1": true, "localhost:1": true, "[::1]:1": true, "127.0.0.2:1": true,
		":1": false, "0.0.0.0:1": false, "[::]:1": false, "10.0.0.1:1": false, "example.com:1": false, "bad": false,
	} {
		if IsLoopback(addr) != want {
			t.Errorf("IsLoopback(%q) != %v", addr, want)
		}
	}
}
