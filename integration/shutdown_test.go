package integration

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/integration/tpch"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestShutdown sends SIGTERM to a real `quiver serve` while queries run:
// queries that end within --shutdown-grace complete normally and the
// process exits right after them; queries still running when the grace
// period ends are canceled with a clear Unavailable error (a DoGet stream
// and an INSERT run by DoPut) and the process exits within grace + 2 s.
func TestShutdown(t *testing.T) {
	bin := buildQuiver(t)

	t.Run("cancel after grace", func(t *testing.T) {
		const grace = 2 * time.Second
		data := t.TempDir()
		copyTree(t, filepath.Join(sf001, "tpch"), filepath.Join(data, "tpch"))
		p := startQuiver(t, bin, "--data", data, "--default-schema", "tpch", "--shutdown-grace", grace.String())
		execUpdate(t, p, "CREATE TABLE counts (n BIGINT)")
		// Both take minutes (3.6 billion pairs).
		errs := make(chan error, 2)
		go func() {
			cl := dial(t, p.addr)
			defer cl.Close()
			_, err := fetchAll(cl, "SELECT count(*), sum(a.l_quantity * b.l_quantity) FROM lineitem a, lineitem b")
			errs <- err
		}()
		go func() {
			cl := dial(t, p.addr)
			defer cl.Close()
			_, err := cl.ExecuteUpdate(context.Background(), "INSERT INTO counts SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_partkey <> b.l_partkey")
			errs <- err
		}()
		time.Sleep(1500 * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		// A new client is refused while the server drains.
		time.Sleep(300 * time.Millisecond)
		cl := dial(t, p.addr)
		if rows, err := fetchAll(cl, "SELECT 1"); err == nil {
			t.Errorf("new query during shutdown succeeded: %v", rows)
		}
		cl.Close()

		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("exit status after SIGTERM: %v\n%s", err, p.stderr.String())
			}
			if d := time.Since(t0); d > grace+2*time.Second {
				t.Errorf("server took %v to exit (grace %v)", d, grace)
			}
		case <-time.After(grace + 2*time.Second):
			t.Fatalf("server still running %v after SIGTERM (grace %v)\n%s", grace+2*time.Second, grace, p.stderr.String())
		}
		for range 2 {
			select {
			case err := <-errs:
				if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "shutting down") {
					t.Errorf("query running at shutdown: got %v, want Unavailable saying the server is shutting down", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("a client was not told its query ended")
			}
		}
	})

	t.Run("finish within grace", func(t *testing.T) {
		p := startQuiver(t, bin, "--data", sf001, "--default-schema", "tpch", "--shutdown-grace", "2m")
		cl := dial(t, p.addr)
		defer cl.Close()
		const where = "l_orderkey < 1000"
		n := joinRows(queryRows(t, p, "SELECT count(*) FROM lineitem WHERE "+where))
		all := joinRows(queryRows(t, p, "SELECT count(*) FROM lineitem"))
		want := joinRows(queryRows(t, p, "SELECT "+n+" * "+all))

		// About 60 million pairs: a second or more.
		ctx := context.Background()
		info, err := cl.Execute(ctx, "SELECT count(*) FROM lineitem a, lineitem b WHERE a."+where)
		if err != nil {
			t.Fatal(err)
		}
		type result struct {
			rows string
			err  error
			at   time.Time
		}
		res := make(chan result, 1)
		go func() {
			rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
			if err != nil {
				res <- result{err: err, at: time.Now()}
				return
			}
			defer rdr.Release()
			var rows []string
			for rdr.Next() {
				rows = append(rows, joinRows(tpch.Rows([]arrow.RecordBatch{rdr.RecordBatch()})))
			}
			res <- result{rows: strings.Join(rows, "\n"), err: rdr.Err(), at: time.Now()}
		}()
		time.Sleep(300 * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		sigAt := time.Now()
		r := <-res
		if r.err != nil || r.rows != want {
			t.Fatalf("query running at SIGTERM: %q %v, want %s", r.rows, r.err, want)
		}
		if !r.at.After(sigAt) {
			t.Fatalf("the query ended before SIGTERM: the test needs a longer one")
		}
		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("exit status after SIGTERM: %v\n%s", err, p.stderr.String())
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("server still running 3 s after its last query ended (grace 2m)\n%s", p.stderr.String())
		}
	})
}
