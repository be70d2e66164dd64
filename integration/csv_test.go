package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/integration/slt"
)

// TestCSVDataDir serves a data dir of CSV files, as a single file per table
// and as a folder of files, and checks type inference, NULLs, quoting and
// names, both in-process and through Flight SQL.
func TestCSVDataDir(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("shop/Items.csv", "ID,Name,Price,Added,Seen,InStock,Note\n"+
		"1,apple,1.5,2024-01-15,2024-01-15 10:11:12,true,\"red, sweet\"\n"+
		"2,\"pear \"\"green\"\"\",2,2024-02-29,2024-02-29T00:00:01,false,\"two\nlines\"\n"+
		"3,,,,,,\n")
	write("shop/orders/part-0.csv", "order_id,item_id,qty\n10,1,3\n11,2,\n")
	write("shop/orders/part-1.csv", "order_id,item_id,qty\n12,1,7\n")
	eng := newEngine(t, dir, "shop")
	dbs := map[string]slt.DB{
		"inprocess": &slt.EngineDB{Engine: eng, Session: eng.NewSession()},
		"flight":    &slt.FlightDB{Client: serve(t, eng), Session: t.Name()},
	}
	for mode, db := range dbs {
		t.Run(mode, func(t *testing.T) {
			query := func(sql string) (*arrow.Schema, string) {
				t.Helper()
				schema, batches, err := db.Run(context.Background(), sql)
				if err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
				defer func() {
					for _, b := range batches {
						b.Release()
					}
				}()
				var rows []string
				for _, r := range slt.FormatRows(batches) {
					rows = append(rows, strings.Join(r, "|"))
				}
				return schema, strings.Join(rows, "\n")
			}
			schema, got := query("SELECT * FROM items ORDER BY id")
			// Booleans may reach clients as TINYINT(1) integers, as MySQL's do.
			wantTypes := []arrow.Type{arrow.INT64, arrow.STRING, arrow.FLOAT64, arrow.DATE32, arrow.TIMESTAMP, arrow.BOOL, arrow.STRING}
			for i, f := range schema.Fields() {
				if i == 5 && f.Type.ID() == arrow.INT64 {
					continue
				}
				if i >= len(wantTypes) || f.Type.ID() != wantTypes[i] {
					t.Errorf("column %d %s: type %s, want %v", i, f.Name, f.Type, wantTypes)
				}
			}
			if names := schema.Fields(); len(names) != 7 || names[0].Name != "ID" || names[6].Name != "Note" {
				t.Errorf("column names keep their case: %v", schema)
			}
			want := "1|apple|1.500|2024-01-15|2024-01-15 10:11:12|1|red, sweet\n" +
				"2|pear \"green\"|2.000|2024-02-29|2024-02-29 00:00:01|0|two\nlines\n" +
				"3|NULL|NULL|NULL|NULL|NULL|NULL"
			if got != want {
				t.Errorf("items:\n%s\nwant:\n%s", got, want)
			}
			// Table names are folded to lower case; column names keep
			// theirs; both match case-insensitively.
			if _, got := query("SELECT i.NAME, SUM(o.qty), COUNT(o.QTY), COUNT(*) FROM Shop.ITEMS i JOIN orders o ON o.item_id = i.Id GROUP BY i.name ORDER BY 1"); got != "apple|10|2|2\npear \"green\"|NULL|0|1" {
				t.Errorf("join over both layouts:\n%s", got)
			}
			if _, got := query("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'shop' AND column_name IN ('Added', 'Seen', 'qty') ORDER BY 1, 2"); got != "items|Added|date\nitems|Seen|datetime\norders|qty|bigint" {
				t.Errorf("information_schema:\n%s", got)
			}
			if _, got := query("SELECT Price * 2, DATEDIFF(Added, '2024-01-01') FROM items WHERE InStock AND Note LIKE '%,%'"); got != "3.000|14" {
				t.Errorf("typed expressions: %s", got)
			}
		})
	}
}
