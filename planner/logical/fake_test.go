package logical

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/qerr"
)

// fakeCatalog holds the TPC-H tables in schema "tpch" plus views.
type fakeCatalog struct{ tables map[string]*catalog.Table }

var (
	i64   = arrow.PrimitiveTypes.Int64
	i32   = arrow.PrimitiveTypes.Int32
	money = &arrow.Decimal128Type{Precision: 15, Scale: 2}
	str   = arrow.BinaryTypes.String
	date  = arrow.FixedWidthTypes.Date32
	boolT = arrow.FixedWidthTypes.Boolean
	f64   = arrow.PrimitiveTypes.Float64
)

func tbl(name string, cols ...any) *catalog.Table {
	var fs []arrow.Field
	for i := 0; i < len(cols); i += 2 {
		fs = append(fs, arrow.Field{Name: cols[i].(string), Type: cols[i+1].(arrow.DataType), Nullable: false})
	}
	return &catalog.Table{Schema: "tpch", Name: name, Columns: arrow.NewSchema(fs, nil)}
}

func newFakeCatalog() *fakeCatalog {
	c := &fakeCatalog{tables: map[string]*catalog.Table{}}
	for _, t := range []*catalog.Table{
		tbl("lineitem", "l_orderkey", i64, "l_partkey", i64, "l_suppkey", i64, "l_linenumber", i32,
			"l_quantity", money, "l_extendedprice", money, "l_discount", money, "l_tax", money,
			"l_returnflag", str, "l_linestatus", str, "l_shipdate", date, "l_commitdate", date,
			"l_receiptdate", date, "l_shipinstruct", str, "l_shipmode", str, "l_comment", str),
		tbl("orders", "o_orderkey", i64, "o_custkey", i64, "o_orderstatus", str, "o_totalprice", money,
			"o_orderdate", date, "o_orderpriority", str, "o_clerk", str, "o_shippriority", i32, "o_comment", str),
		tbl("customer", "c_custkey", i64, "c_name", str, "c_address", str, "c_nationkey", i64,
			"c_phone", str, "c_acctbal", money, "c_mktsegment", str, "c_comment", str),
		tbl("nation", "n_nationkey", i64, "n_name", str, "n_regionkey", i64, "n_comment", str),
		tbl("region", "r_regionkey", i64, "r_name", str, "r_comment", str),
		tbl("part", "p_partkey", i64, "p_name", str, "p_mfgr", str, "p_brand", str, "p_type", str,
			"p_size", i32, "p_container", str, "p_retailprice", money, "p_comment", str),
		tbl("partsupp", "ps_partkey", i64, "ps_suppkey", i64, "ps_availqty", i32, "ps_supplycost", money, "ps_comment", str),
		tbl("supplier", "s_suppkey", i64, "s_name", str, "s_address", str, "s_nationkey", i64,
			"s_phone", str, "s_acctbal", money, "s_comment", str),
	} {
		c.tables["tpch."+t.Name] = t
	}
	n := tbl("t", "a", i64, "b", str)
	n.Columns = arrow.NewSchema([]arrow.Field{{Name: "a", Type: i64, Nullable: true}, {Name: "b", Type: str, Nullable: true}}, nil)
	c.tables["tpch.t"] = n
	v := &catalog.Table{Schema: "tpch", Name: "nv", Kind: catalog.View,
		ViewSQL: "SELECT n_nationkey AS k, n_name FROM nation WHERE n_regionkey = 1",
		Columns: arrow.NewSchema([]arrow.Field{{Name: "k", Type: i64}, {Name: "n_name", Type: str}}, nil)}
	c.tables["tpch.nv"] = v
	return c
}

func (c *fakeCatalog) Table(_ context.Context, schema, name string) (*catalog.Table, error) {
	if t, ok := c.tables[strings.ToLower(schema)+"."+strings.ToLower(name)]; ok {
		return t, nil
	}
	return nil, qerr.New(qerr.NotFound, "Table '%s.%s' doesn't exist", schema, name)
}
func (c *fakeCatalog) SchemaExists(name string) bool { return strings.EqualFold(name, "tpch") }
func (c *fakeCatalog) Tables(_ context.Context, schema string) ([]*catalog.Table, error) {
	var out []*catalog.Table
	for _, t := range c.tables {
		if t.Schema == schema {
			out = append(out, t)
		}
	}
	return out, nil
}
func (c *fakeCatalog) DefaultSchema() string { return "tpch" }

// fakeFuncs is a small stand-in for the expr/agg registries: enough typing
// to exercise the binder's casts without depending on their progress.
type fakeFuncs struct{}

func (fakeFuncs) CommonType(ts ...arrow.DataType) (arrow.DataType, error) {
	var out arrow.DataType
	for _, t := range ts {
		switch {
		case t.ID() == arrow.NULL:
		case out == nil || arrow.TypeEqual(out, t):
			out = t
		case arrow.IsInteger(out.ID()) && arrow.IsInteger(t.ID()):
			out = i64
		case arrow.IsFloating(out.ID()) || arrow.IsFloating(t.ID()):
			out = f64
		case arrow.IsDecimal(t.ID()) && arrow.IsDecimal(out.ID()):
			a, b := out.(*arrow.Decimal128Type), t.(*arrow.Decimal128Type)
			s := max(a.Scale, b.Scale)
			out = &arrow.Decimal128Type{Precision: min(38, max(a.Precision-a.Scale, b.Precision-b.Scale)+s), Scale: s}
		case arrow.IsDecimal(t.ID()) && arrow.IsInteger(out.ID()):
			out = t
		case arrow.IsDecimal(out.ID()) && arrow.IsInteger(t.ID()):
		case out.ID() == arrow.DATE32 && t.ID() == arrow.STRING:
		case t.ID() == arrow.DATE32 && out.ID() == arrow.STRING:
			out = t
		default:
			out = str
		}
	}
	if out == nil {
		out = arrow.Null
	}
	return out, nil
}

func (f fakeFuncs) Resolve(name string, args []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	same := func(ret arrow.DataType) (Signature, error) {
		t, _ := f.CommonType(args...)
		if ret == nil {
			ret = t
		}
		sig := Signature{Return: ret}
		for range args {
			sig.Args = append(sig.Args, t)
		}
		return sig, nil
	}
	fixed := func(ret arrow.DataType, ts ...arrow.DataType) (Signature, error) {
		if len(ts) != len(args) {
			return Signature{}, qerr.New(qerr.InvalidArgument, "Incorrect parameter count in the call to native function '%s'", name)
		}
		return Signature{Args: ts, Return: ret}, nil
	}
	switch name {
	case "=", "<>", "<", "<=", ">", ">=", "<=>", "in":
		return same(boolT)
	case "and", "or", "xor":
		return fixed(boolT, boolT, boolT)
	case "not":
		return fixed(boolT, boolT)
	case "is_null", "is_not_null", "is_true", "is_not_true", "is_false", "is_not_false":
		return Signature{Args: args, Return: boolT}, nil
	case "like":
		return Signature{Args: []arrow.DataType{str, str, str}[:len(args)], Return: boolT}, nil
	case "+", "-", "*", "/", "neg", "coalesce", "%":
		return same(nil)
	case "extract":
		return Signature{Args: args, Return: i64}, nil
	case "date_add", "date_sub":
		return Signature{Args: args, Return: args[0]}, nil
	case "substring", "upper", "lower", "concat":
		return Signature{Args: args, Return: str}, nil
	}
	return Signature{}, qerr.New(qerr.NotFound, "no function %s", name)
}

func (fakeFuncs) ResolveAggregate(name string, args []arrow.DataType, distinct bool) (Signature, error) {
	switch name {
	case "count", "count_star":
		return Signature{Args: args, Return: i64}, nil
	case "sum", "avg":
		if d, ok := args[0].(*arrow.Decimal128Type); ok {
			return Signature{Args: args, Return: &arrow.Decimal128Type{Precision: 38, Scale: d.Scale}}, nil
		}
		if arrow.IsInteger(args[0].ID()) {
			return Signature{Args: args, Return: &arrow.Decimal128Type{Precision: 38, Scale: 0}}, nil
		}
		return Signature{Args: []arrow.DataType{f64}, Return: f64}, nil
	case "min", "max", "any_value":
		return Signature{Args: args, Return: args[0]}, nil
	case "group_concat":
		return Signature{Args: args, Return: str}, nil
	case "stddev_pop", "var_pop":
		return Signature{Args: []arrow.DataType{f64}, Return: f64}, nil
	}
	return Signature{}, qerr.New(qerr.NotFound, "no aggregate %s", name)
}

func (fakeFuncs) ResolveWindow(name string, args []arrow.DataType) (Signature, error) {
	switch name {
	case "row_number", "rank", "dense_rank":
		return Signature{Return: i64}, nil
	case "lag", "lead":
		return Signature{Args: args, Return: args[0]}, nil
	}
	return Signature{}, qerr.New(qerr.NotFound, "no window function %s", name)
}

func (fakeFuncs) IsWindowFunction(name string) bool {
	switch name {
	case "row_number", "rank", "dense_rank", "lag", "lead":
		return true
	}
	return false
}
