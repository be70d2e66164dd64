package catalog

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

func TestRegisterSystemTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// A data-dir folder named like the system schema is shadowed by it.
	if err := os.MkdirAll(filepath.Join(dir, "system", "junk"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Open(ctx, Options{DataDir: dir, DefaultSchema: "main"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	cols := arrow.NewSchema([]arrow.Field{{Name: "name", Type: arrow.BinaryTypes.String}}, nil)
	rows := func(ctx context.Context) ([]arrow.RecordBatch, error) {
		b := array.NewRecordBuilder(memory.DefaultAllocator, cols)
		defer b.Release()
		b.Field(0).(*array.StringBuilder).Append("n1")
		return []arrow.RecordBatch{b.NewRecordBatch()}, nil
	}
	if err := c.RegisterSystemTable("SYSTEM", "Nodes", cols, rows); err != nil {
		t.Fatal(err)
	}
	if err := c.RegisterSystemTable(InformationSchema, "x", cols, rows); err == nil {
		t.Fatal("registering into information_schema should fail")
	}
	if got := c.Schemas(); !slices.Equal(got, []string{"information_schema", "main", "system"}) {
		t.Fatalf("Schemas() = %v", got)
	}
	if !c.SchemaExists("System") {
		t.Fatal("system schema should exist")
	}
	ts, err := c.Tables(ctx, "system")
	if err != nil || len(ts) != 1 || ts[0].Name != "nodes" || ts[0].Kind != SystemTable {
		t.Fatalf("Tables(system) = %v, %v", ts, err)
	}
	tab, err := c.Table(ctx, "system", "NODES")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := tab.Rows(ctx)
	if err != nil || len(bs) != 1 || bs[0].NumRows() != 1 {
		t.Fatalf("rows: %v %v", bs, err)
	}
	bs[0].Release()
	if _, err := c.Table(ctx, "system", "junk"); qerr.KindOf(err) != qerr.NotFound {
		t.Fatalf("system.junk: %v", err)
	}
	// information_schema lists it.
	found := false
	if err := c.eachTable(ctx, func(t *Table) { found = found || (t.Schema == "system" && t.Name == "nodes") }); err != nil || !found {
		t.Fatalf("information_schema does not list system.nodes (%v)", err)
	}
	// Read-only.
	if err := c.CreateSchema(ctx, "system", false); qerr.KindOf(err) != qerr.AlreadyExists {
		t.Fatalf("CREATE DATABASE system: %v", err)
	}
	if err := c.CreateSchema(ctx, "system", true); err != nil {
		t.Fatalf("CREATE DATABASE IF NOT EXISTS system: %v", err)
	}
	if err := c.DropSchema(ctx, "system", false); qerr.KindOf(err) != qerr.PermissionDenied {
		t.Fatalf("DROP DATABASE system: %v", err)
	}
	if err := c.CreateTable(ctx, "system", "t", cols, false); qerr.KindOf(err) != qerr.PermissionDenied {
		t.Fatalf("CREATE TABLE system.t: %v", err)
	}
	if err := c.DropTable(ctx, "system", "nodes", false); qerr.KindOf(err) != qerr.PermissionDenied {
		t.Fatalf("DROP TABLE system.nodes: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "system", "junk")); err != nil {
		t.Fatalf("shadowed folder touched: %v", err)
	}
}
