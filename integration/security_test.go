package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestSecureBinary runs the real binary with --users and TLS: `quiver user
// add` makes the users, `quiver sql` logs in over TLS, a read-only user
// cannot write, bad credentials and plain connections are refused, and an
// exposed listener without auth is refused at startup.
func TestSecureBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "quiver")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/quiver").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	users := filepath.Join(dir, "users")
	if out, err := run("s3cret\n", "user", "add", "--users", users, "alice"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := run("hunter2\n", "user", "add", "--users", users, "--read-only", "bob"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := run("", "serve", "--listen", "0.0.0.0:0", "--data", dir); err == nil || !strings.Contains(out, "refusing") {
		t.Fatalf("exposed listener without auth: %v\n%s", err, out)
	}

	cert, key := selfSigned(t, dir)
	addr := freeAddr(t)
	var stderr strings.Builder
	srv := dieWithTest(exec.Command(bin, "serve", "--listen", addr, "--data", filepath.Join(dir, "data"), "--log-level", "warn",
		"--users", users, "--tls-cert", cert, "--tls-key", key))
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	defer func() {
		srv.Process.Kill()
		<-exited
	}()
	if err := waitListening(addr, exited); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	sql := func(user, pw string, extra ...string) (string, error) {
		args := append([]string{"sql", "--addr", addr, "--tls-ca", cert, "--user", user, "--password", pw}, extra...)
		return run("", args...)
	}
	out, err := sql("alice", "s3cret", "-c",
		"CREATE DATABASE d; USE d; CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2), (39); SELECT SUM(a) AS total FROM t")
	if err != nil || !strings.Contains(out, "42") {
		t.Fatalf("alice: %v\n%s", err, out)
	}
	out, err = sql("bob", "hunter2", "--format", "csv", "-c", "SELECT COUNT(*) AS n FROM d.t")
	if err != nil || !strings.Contains(out, "n\n3") {
		t.Fatalf("bob query: %v\n%s", err, out)
	}
	out, err = sql("bob", "hunter2", "-c", "INSERT INTO d.t VALUES (4)")
	if err == nil || !strings.Contains(out, "PermissionDenied") {
		t.Fatalf("bob insert: %v\n%s", err, out)
	}
	out, err = sql("alice", "wrong", "-c", "SELECT 1")
	if err == nil || !strings.Contains(out, "Unauthenticated") {
		t.Fatalf("wrong password: %v\n%s", err, out)
	}
	out, err = run("", "sql", "--addr", addr, "--user", "alice", "--password", "s3cret", "-c", "SELECT 1")
	if err == nil {
		t.Fatalf("plain client against TLS: %s", out)
	}
}

// TestCancelRealQuery: dropping the DoGet stream of a long query (what JDBC
// Statement.cancel() does) stops the engine's work within a second; the
// goroutines return to the baseline.
func TestCancelRealQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a long query")
	}
	eng := newEngine(t, sf001, "tpch")
	cl := serve(t, eng)
	runQuery(t, cl, "SELECT COUNT(*) FROM nation") // connection and pools warm
	time.Sleep(100 * time.Millisecond)
	base := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	info, err := cl.Execute(ctx, "SELECT COUNT(*) FROM lineitem a, lineitem b WHERE a.l_quantity + b.l_quantity > 200")
	if err != nil {
		t.Fatal(err)
	}
	// DoGet returns once the first batch is ready, which for this
	// aggregate is the end of the query: cancel while it waits.
	start := time.Now()
	got := make(chan error, 1)
	go func() {
		rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
		if err == nil {
			for rdr.Next() {
			}
			err = rdr.Err()
			rdr.Release()
		}
		got <- err
	}()
	time.Sleep(500 * time.Millisecond)
	busy := runtime.NumGoroutine()
	cancel()
	if err := <-got; err == nil {
		t.Fatalf("the query finished in %s: make it longer", time.Since(start))
	}
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines %d (baseline %d, while running %d) a second after cancel:\n%s",
				runtime.NumGoroutine(), base, busy, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("goroutines: baseline %d, running %d, after cancel %d", base, busy, runtime.NumGoroutine())
}
