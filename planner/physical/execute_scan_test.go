package physical

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution"
	"go.uber.org/zap"
)

func TestScanExecutePartitions(t *testing.T) {
	ctx := context.Background()
	dir, _ := filepath.Abs("../../testdata/tpch-sf0.01")
	c, err := catalog.Open(ctx, catalog.Options{DataDir: dir}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	nation, err := c.Table(ctx, "tpch", "nation")
	if err != nil {
		t.Skip("no TPC-H data")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tc := &execution.TaskContext{Alloc: execution.NewQueryAllocator(mem, 0), Metrics: execution.NewMetricsSet()}
	out := arrow.NewSchema([]arrow.Field{nation.Columns.Field(1)}, nil)
	n := &Scan{Table: nation, Columns: []int{1}, Splits: [][]catalog.Split{{{File: nation.Files[0]}}, nil}, Limit: -1, Out: out}
	count := func(p Plan, partition int) int64 {
		s, err := p.Execute(ctx, partition, tc)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := execution.Collect(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		for _, b := range bs {
			rows += b.NumRows()
			b.Release()
		}
		return rows
	}
	for part, want := range []int64{25, 0, 0} { // partition 2 is out of range: empty
		if got := count(n, part); got != want {
			t.Errorf("scan partition %d: %d rows, want %d", part, got, want)
		}
	}
	if m, ok := tc.Metrics.Get(n); !ok || m.Rows != 25 {
		t.Errorf("scan metrics = %+v %v", m, ok)
	}
	tables, err := c.Table(ctx, "information_schema", "tables")
	if err != nil {
		t.Fatal(err)
	}
	ms := &MemoryScan{Table: tables, Columns: []int{2}, Out: arrow.NewSchema([]arrow.Field{tables.Columns.Field(2)}, nil)}
	infoTables, err := c.Tables(ctx, "information_schema")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := count(ms, 0), int64(8+len(infoTables)); got != want { // the TPC-H tables and information_schema's own
		t.Errorf("information_schema.tables: %d rows, want %d", got, want)
	}
	if got := count(ms, 1); got != 0 {
		t.Errorf("memory scan partition 1: %d rows", got)
	}
}
