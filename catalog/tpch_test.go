package catalog

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
)

func TestOpenTPCH(t *testing.T) {
	src, _ := filepath.Abs("../testdata/tpch-sf0.01")
	if _, err := os.Stat(src); err != nil {
		t.Skip("no tpch data")
	}
	c, err := Open(context.Background(), Options{DataDir: src}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := c.Table(context.Background(), "TPCH", "LineItem")
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Stats.RowCount != 60175 {
		t.Errorf("lineitem rows = %d", tbl.Stats.RowCount)
	}
	t.Logf("%v files=%d rgs=%d", tbl.Columns, len(tbl.Files), len(tbl.Files[0].RowGroups))
	for i, cs := range tbl.Files[0].RowGroups[0].ColumnStats {
		if cs == nil || cs.Min == nil {
			t.Errorf("column %d: no stats", i)
			continue
		}
		t.Logf("%s: %v..%v nulls=%d", tbl.Columns.Field(i).Name, cs.Min, cs.Max, cs.NullCount)
	}
}
