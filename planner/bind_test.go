package planner

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/planner/parse"
	"github.com/quiverdb/quiver/qerr"
)

type cat struct{}

var tT = &catalog.Table{Schema: "db", Name: "t", Columns: arrow.NewSchema([]arrow.Field{
	{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: false},
	{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)}

func (cat) Table(_ context.Context, s, n string) (*catalog.Table, error) {
	if s == "db" && n == "t" {
		return tT, nil
	}
	return nil, qerr.New(qerr.NotFound, "Table '%s.%s' doesn't exist", s, n)
}
func (cat) SchemaExists(n string) bool { return n == "db" }
func (cat) Tables(context.Context, string) ([]*catalog.Table, error) {
	return []*catalog.Table{tT}, nil
}
func (cat) DefaultSchema() string { return "db" }

// funcs types every call as boolean over unchanged args (enough for statements).
type funcs struct{}

func (funcs) Resolve(n string, a []arrow.DataType, _ []scalar.Scalar) (logical.Signature, error) {
	return logical.Signature{Args: a, Return: arrow.FixedWidthTypes.Boolean}, nil
}
func (funcs) CommonType(ts ...arrow.DataType) (arrow.DataType, error) { return ts[0], nil }
func (funcs) ResolveAggregate(string, []arrow.DataType, bool) (logical.Signature, error) {
	return logical.Signature{Return: arrow.PrimitiveTypes.Int64}, nil
}
func (funcs) ResolveWindow(string, []arrow.DataType) (logical.Signature, error) {
	return logical.Signature{Return: arrow.PrimitiveTypes.Int64}, nil
}
func (funcs) IsWindowFunction(string) bool { return false }

func bind(t *testing.T, sql string) (Statement, error) {
	t.Helper()
	st, err := parse.ParseOne(sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return Bind(context.Background(), st, &BindEnv{Catalog: cat{}, CurrentSchema: "db", Funcs: funcs{}, SQL: sql})
}

func TestStatements(t *testing.T) {
	for _, tc := range []struct {
		sql   string
		check func(Statement) bool
	}{
		{"CREATE TABLE x (id BIGINT PRIMARY KEY, p DECIMAL(15,2), d DATE, s VARCHAR(10) NOT NULL, f BOOLEAN)", func(s Statement) bool {
			c := s.(*CreateTable)
			return c.Name == "x" && c.Columns.NumFields() == 5 && !c.Columns.Field(0).Nullable && c.Columns.Field(1).Nullable &&
				arrow.TypeEqual(c.Columns.Field(1).Type, &arrow.Decimal128Type{Precision: 15, Scale: 2}) &&
				c.Columns.Field(4).Type.ID() == arrow.BOOL
		}},
		{"CREATE TABLE y AS SELECT a FROM t", func(s Statement) bool { return s.(*CreateTable).AsSelect != nil }},
		{"INSERT INTO t (a) VALUES (1), (2)", func(s Statement) bool {
			v := s.(*Insert).Source.Plan.(*logical.Values)
			return len(v.Rows) == 2 && len(v.Rows[0]) == 2
		}},
		{"INSERT INTO t SELECT a, b FROM t", func(s Statement) bool { return s.(*Insert).Source.Plan.Schema().Len() == 2 }},
		{"DROP TABLE IF EXISTS t, db.u", func(s Statement) bool {
			d := s.(*DropTable)
			return d.IfExists && len(d.Tables) == 2 && d.Tables[1] == [2]string{"db", "u"}
		}},
		{"CREATE OR REPLACE VIEW v (x) AS SELECT a FROM t", func(s Statement) bool {
			v := s.(*CreateView)
			return v.OrReplace && v.SQL == "SELECT a FROM t" && v.Columns.Field(0).Name == "x"
		}},
		{"DROP VIEW v", func(s Statement) bool { return len(s.(*DropView).Views) == 1 }},
		{"CREATE DATABASE IF NOT EXISTS Foo", func(s Statement) bool { c := s.(*CreateDatabase); return c.Name == "foo" && c.IfNotExists }},
		{"USE db", func(s Statement) bool { return s.(*Use).Schema == "db" }},
		{"SET SESSION sql_mode = 'ANSI'", func(s Statement) bool { x := s.(*Set); return x.Name == "sql_mode" && x.Value == "ANSI" }},
		{"SET NAMES utf8mb4", func(s Statement) bool { return s.(*Set).Name == "names" }},
		{"EXPLAIN ANALYZE SELECT a FROM t", func(s Statement) bool { return s.(*Explain).Analyze }},
		{"SELECT a FROM t INTO OUTFILE '/tmp/x.csv'", func(s Statement) bool { return s.(*SelectInto).Path == "/tmp/x.csv" }},
		{"SELECT a FROM t WHERE a = ?", func(s Statement) bool { return len(s.(*Query).Params) == 1 }},
	} {
		s, err := bind(t, tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if !tc.check(s) {
			t.Errorf("%s: unexpected %#v", tc.sql, s)
		}
	}
}

func TestStatementErrors(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		kind qerr.Kind
		msg  string
	}{
		{"USE nope", qerr.NotFound, "Unknown database 'nope'"},
		{"INSERT INTO t VALUES (1)", qerr.InvalidArgument, "Column count doesn't match value count at row 1"},
		{"INSERT INTO t (b) VALUES ('x')", qerr.InvalidArgument, "Field 'a' doesn't have a default value"},
		{"UPDATE t SET nope = 1", qerr.NotFound, "Unknown column 'nope' in 'field list'"},
		{"UPDATE t, t AS u SET t.a = 1", qerr.Unimplemented, "UPDATE target must be one table"},
		{"DESCRIBE nope", qerr.NotFound, "Table 'db.nope' doesn't exist"},
	} {
		_, err := bind(t, tc.sql)
		var qe *qerr.Error
		if !errors.As(err, &qe) || qe.Kind != tc.kind || qe.Msg != tc.msg {
			t.Errorf("%s: got %v, want %v %q", tc.sql, err, tc.kind, tc.msg)
		}
	}
}

func TestBindParams(t *testing.T) {
	s, err := bind(t, "SELECT a FROM t WHERE a = ? AND EXISTS (SELECT 1 FROM t WHERE b = ?)")
	if err != nil {
		t.Fatal(err)
	}
	q := s.(*Query)
	if _, err := logical.BindParams(q.Plan, []scalar.Scalar{scalar.NewInt64Scalar(1)}); qerr.KindOf(err) != qerr.InvalidArgument {
		t.Errorf("want InvalidArgument for wrong count, got %v", err)
	}
	n, err := logical.BindParams(q.Plan, []scalar.Scalar{scalar.NewInt64Scalar(1), scalar.NewStringScalar("x")})
	if err != nil {
		t.Fatal(err)
	}
	if got := logical.Format(n); strings.Contains(got, "?") {
		t.Errorf("params left in plan:\n%s", got)
	}
}
