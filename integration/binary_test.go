package integration

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinary builds `quiver`, starts `quiver serve` as a real process over
// the SF 0.01 data, queries it with the Go Flight SQL client, and checks
// that SIGTERM stops it cleanly.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "quiver")
	build := exec.Command("go", "build", "-o", bin, "../cmd/quiver")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	var stderr strings.Builder
	cmd := dieWithTest(exec.Command(bin, "serve", "--listen", addr, "--data", sf001, "--default-schema", "tpch", "--log-level", "warn"))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	if err := waitListening(addr, exited); err != nil {
		t.Fatalf("%v\nserver output:\n%s", err, stderr.String())
	}

	cl := dial(t, addr)
	defer cl.Close()
	_, rows := runQuery(t, cl, "SELECT COUNT(*) AS n, MIN(n_name) FROM nation")
	if len(rows) != 1 || rows[0][0] != "25" || rows[0][1] != "ALGERIA" {
		t.Fatalf("rows = %v", rows)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "jdbc:arrow-flight-sql://"+addr) {
		t.Errorf("startup banner missing connection help:\n%s", stderr.String())
	}
}

func freeAddr(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// waitListening waits until addr accepts connections or the process exits.
func waitListening(addr string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("quiver serve exited early: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
