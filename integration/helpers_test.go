package integration

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/integration/tpch"
	"github.com/quiverdb/quiver/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// sf001 is the checked-in TPC-H SF 0.01 data directory.
const sf001 = "../testdata/tpch-sf0.01"

// newEngine opens an engine over dataDir, closed when the test ends.
func newEngine(t testing.TB, dataDir, defaultSchema string) *engine.Engine {
	t.Helper()
	eng, err := engine.New(context.Background(), engine.Config{DataDir: dataDir, DefaultSchema: defaultSchema}, logger(t))
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func logger(t testing.TB) *zap.Logger {
	if os.Getenv("QUIVER_TEST_LOG") != "" {
		return zaptest.NewLogger(t)
	}
	return zap.NewNop()
}

// serve starts a Flight SQL server over eng on a free loopback port and
// returns a client connected to it; both stop when the test ends.
func serve(t testing.TB, eng *engine.Engine) *flightsql.Client {
	t.Helper()
	srv, err := server.New(server.Config{Engine: eng, Catalog: eng.Catalog(), Log: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, 5*time.Second) }()
	cl := dial(t, lis.Addr().String())
	t.Cleanup(func() {
		cl.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return cl
}

func dial(t testing.TB, addr string) *flightsql.Client {
	t.Helper()
	cl, err := flightsql.NewClient(addr, nil, nil,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// copyTree copies the regular files under src into dst (tests must not
// write into the checked-in data).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fetchAll runs sql and renders its rows as the TPC-H answers print values;
// the first error of the call or the stream is returned (usable off the
// test goroutine).
func fetchAll(cl *flightsql.Client, sql string) ([][]string, error) {
	return fetchAllCtx(context.Background(), cl, sql)
}

func fetchAllCtx(ctx context.Context, cl *flightsql.Client, sql string) ([][]string, error) {
	info, err := cl.Execute(ctx, sql)
	if err != nil {
		return nil, err
	}
	return fetchInfo(ctx, cl, info)
}

// fetchInfo reads every endpoint of info (over cl's connection).
func fetchInfo(ctx context.Context, cl *flightsql.Client, info *flight.FlightInfo) ([][]string, error) {
	var rows [][]string
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.Ticket)
		if err != nil {
			return nil, err
		}
		for rdr.Next() {
			rows = append(rows, tpch.Rows([]arrow.RecordBatch{rdr.RecordBatch()})...)
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}
