package catalog

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// catalogName is what MySQL reports as TABLE_CATALOG.
const catalogName = "def"

// stringMaxLength is the VARCHAR length reported for Arrow strings, which
// have no declared length.
const stringMaxLength = 65535

// typeInfo is how a column type appears in information_schema.COLUMNS.
type typeInfo struct {
	dataType, columnType string
	charMax              int64 // -1 = NULL
	precision, scale     int64 // -1 = NULL
	datetimePrecision    int64 // -1 = NULL
}

func mysqlType(dt arrow.DataType) typeInfo {
	ti := typeInfo{charMax: -1, precision: -1, scale: -1, datetimePrecision: -1}
	intType := func(name string, prec int64, unsigned bool) {
		ti.dataType, ti.columnType, ti.precision, ti.scale = name, name, prec, 0
		if unsigned {
			ti.columnType += " unsigned"
		}
	}
	switch t := dt.(type) {
	case *arrow.BooleanType:
		ti.dataType, ti.columnType, ti.precision, ti.scale = "tinyint", "tinyint(1)", 3, 0
	case *arrow.Int8Type:
		intType("tinyint", 3, false)
	case *arrow.Int16Type:
		intType("smallint", 5, false)
	case *arrow.Int32Type:
		intType("int", 10, false)
	case *arrow.Int64Type:
		intType("bigint", 19, false)
	case *arrow.Uint8Type:
		intType("tinyint", 3, true)
	case *arrow.Uint16Type:
		intType("smallint", 5, true)
	case *arrow.Uint32Type:
		intType("int", 10, true)
	case *arrow.Uint64Type:
		intType("bigint", 20, true)
	case *arrow.Float16Type, *arrow.Float32Type:
		ti.dataType, ti.columnType, ti.precision = "float", "float", 12
	case *arrow.Float64Type:
		ti.dataType, ti.columnType, ti.precision = "double", "double", 22
	case arrow.DecimalType:
		ti.dataType = "decimal"
		ti.precision, ti.scale = int64(t.GetPrecision()), int64(t.GetScale())
		ti.columnType = fmt.Sprintf("decimal(%d,%d)", ti.precision, ti.scale)
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		ti.dataType, ti.columnType, ti.charMax = "varchar", fmt.Sprintf("varchar(%d)", stringMaxLength), stringMaxLength
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType:
		ti.dataType, ti.columnType, ti.charMax = "varbinary", fmt.Sprintf("varbinary(%d)", stringMaxLength), stringMaxLength
	case *arrow.FixedSizeBinaryType:
		ti.dataType, ti.columnType, ti.charMax = "binary", fmt.Sprintf("binary(%d)", t.ByteWidth), int64(t.ByteWidth)
	case *arrow.Date32Type, *arrow.Date64Type:
		ti.dataType, ti.columnType = "date", "date"
	case *arrow.TimestampType:
		ti.dataType = "datetime"
		if t.TimeZone != "" {
			ti.dataType = "timestamp"
		}
		ti.datetimePrecision = fracDigits(t.Unit)
		ti.columnType = ti.dataType
		if ti.datetimePrecision > 0 {
			ti.columnType = fmt.Sprintf("%s(%d)", ti.dataType, ti.datetimePrecision)
		}
	case *arrow.Time32Type, *arrow.Time64Type:
		ti.dataType, ti.columnType, ti.datetimePrecision = "time", "time", 0
		if tt, ok := t.(arrow.TemporalWithUnit); ok && fracDigits(tt.TimeUnit()) > 0 {
			ti.datetimePrecision = fracDigits(tt.TimeUnit())
			ti.columnType = fmt.Sprintf("time(%d)", ti.datetimePrecision)
		}
	case *arrow.NullType:
		ti.dataType, ti.columnType = "null", "null"
	default:
		ti.dataType, ti.columnType = "json", "json"
	}
	return ti
}

func fracDigits(u arrow.TimeUnit) int64 {
	switch u {
	case arrow.Millisecond:
		return 3
	case arrow.Microsecond, arrow.Nanosecond: // MySQL stops at microseconds
		return 6
	}
	return 0
}

// MySQLTypeName returns the MySQL DATA_TYPE (e.g. "decimal") and COLUMN_TYPE
// (e.g. "decimal(15,2)") of an Arrow type.
func MySQLTypeName(dt arrow.DataType) (dataType, columnType string) {
	ti := mysqlType(dt)
	return ti.dataType, ti.columnType
}

// rowBuilder appends rows of strings and int64s (negative/absent → NULL
// where the caller says so) into one record batch.
type rowBuilder struct{ b *array.RecordBuilder }

func (r rowBuilder) str(i int, v string) { r.b.Field(i).(*array.StringBuilder).Append(v) }
func (r rowBuilder) null(i int)          { r.b.Field(i).AppendNull() }
func (r rowBuilder) i64(i int, v int64)  { r.b.Field(i).(*array.Int64Builder).Append(v) }

// i64OrNull appends v, or NULL when v < 0.
func (r rowBuilder) i64OrNull(i int, v int64) {
	if v < 0 {
		r.null(i)
		return
	}
	r.i64(i, v)
}

func sysSchema(cols ...any) *arrow.Schema {
	fields := make([]arrow.Field, 0, len(cols)/2)
	for i := 0; i < len(cols); i += 2 {
		fields = append(fields, arrow.Field{Name: cols[i].(string), Type: cols[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

var (
	str = arrow.BinaryTypes.String
	i64 = arrow.PrimitiveTypes.Int64
)

// systemTables returns the information_schema tables; their rows are built
// from the catalog's current state on every scan.
func (c *Catalog) systemTables() []*Table {
	c.sysOnce.Do(func() {
		mk := func(name string, cols *arrow.Schema, fill func(ctx context.Context, r rowBuilder) error) *Table {
			return &Table{Schema: InformationSchema, Name: name, Kind: SystemTable, Columns: cols,
				Stats: Stats{RowCount: -1, Bytes: -1},
				Rows: func(ctx context.Context) ([]arrow.RecordBatch, error) {
					b := array.NewRecordBuilder(memory.DefaultAllocator, cols)
					defer b.Release()
					if err := fill(ctx, rowBuilder{b}); err != nil {
						return nil, err
					}
					return []arrow.RecordBatch{b.NewRecordBatch()}, nil
				}}
		}
		c.sys = []*Table{
			mk("columns", sysSchema("TABLE_CATALOG", str, "TABLE_SCHEMA", str, "TABLE_NAME", str, "COLUMN_NAME", str,
				"ORDINAL_POSITION", i64, "COLUMN_DEFAULT", str, "IS_NULLABLE", str, "DATA_TYPE", str,
				"CHARACTER_MAXIMUM_LENGTH", i64, "CHARACTER_OCTET_LENGTH", i64, "NUMERIC_PRECISION", i64,
				"NUMERIC_SCALE", i64, "DATETIME_PRECISION", i64, "CHARACTER_SET_NAME", str, "COLLATION_NAME", str,
				"COLUMN_TYPE", str, "COLUMN_KEY", str, "EXTRA", str, "PRIVILEGES", str, "COLUMN_COMMENT", str),
				c.fillColumns),
			mk("schemata", sysSchema("CATALOG_NAME", str, "SCHEMA_NAME", str, "DEFAULT_CHARACTER_SET_NAME", str,
				"DEFAULT_COLLATION_NAME", str, "SQL_PATH", str), c.fillSchemata),
			mk("tables", sysSchema("TABLE_CATALOG", str, "TABLE_SCHEMA", str, "TABLE_NAME", str, "TABLE_TYPE", str,
				"ENGINE", str, "VERSION", i64, "ROW_FORMAT", str, "TABLE_ROWS", i64, "AVG_ROW_LENGTH", i64,
				"DATA_LENGTH", i64, "TABLE_COLLATION", str, "TABLE_COMMENT", str), c.fillTables),
			mk("views", sysSchema("TABLE_CATALOG", str, "TABLE_SCHEMA", str, "TABLE_NAME", str, "VIEW_DEFINITION", str,
				"CHECK_OPTION", str, "IS_UPDATABLE", str), c.fillViews),
			mk("table_constraints", sysSchema("CONSTRAINT_CATALOG", str, "CONSTRAINT_SCHEMA", str, "CONSTRAINT_NAME", str,
				"TABLE_SCHEMA", str, "TABLE_NAME", str, "CONSTRAINT_TYPE", str, "ENFORCED", str), c.fillTableConstraints),
			mk("key_column_usage", sysSchema("CONSTRAINT_CATALOG", str, "CONSTRAINT_SCHEMA", str, "CONSTRAINT_NAME", str,
				"TABLE_CATALOG", str, "TABLE_SCHEMA", str, "TABLE_NAME", str, "COLUMN_NAME", str, "ORDINAL_POSITION", i64,
				"POSITION_IN_UNIQUE_CONSTRAINT", i64, "REFERENCED_TABLE_SCHEMA", str, "REFERENCED_TABLE_NAME", str,
				"REFERENCED_COLUMN_NAME", str), c.fillKeyColumnUsage),
			mk("statistics", sysSchema("TABLE_CATALOG", str, "TABLE_SCHEMA", str, "TABLE_NAME", str, "NON_UNIQUE", i64,
				"INDEX_SCHEMA", str, "INDEX_NAME", str, "SEQ_IN_INDEX", i64, "COLUMN_NAME", str, "COLLATION", str,
				"CARDINALITY", i64, "SUB_PART", i64, "PACKED", str, "NULLABLE", str, "INDEX_TYPE", str, "COMMENT", str,
				"INDEX_COMMENT", str, "IS_VISIBLE", str, "EXPRESSION", str), c.fillStatistics),
		}
	})
	return c.sys
}

// eachTable calls fn for every table of every schema, in name order.
func (c *Catalog) eachTable(ctx context.Context, fn func(*Table)) error {
	for _, s := range c.Schemas() {
		if err := ctx.Err(); err != nil {
			return err
		}
		ts, err := c.Tables(ctx, s)
		if err != nil {
			continue // dropped meanwhile
		}
		for _, t := range ts {
			fn(t)
		}
	}
	return nil
}

func (c *Catalog) fillSchemata(ctx context.Context, r rowBuilder) error {
	for _, s := range c.Schemas() {
		r.str(0, catalogName)
		r.str(1, s)
		r.str(2, "utf8mb4")
		r.str(3, "utf8mb4_bin")
		r.null(4)
	}
	return nil
}

func (c *Catalog) fillTables(ctx context.Context, r rowBuilder) error {
	return c.eachTable(ctx, func(t *Table) {
		r.str(0, catalogName)
		r.str(1, t.Schema)
		r.str(2, t.Name)
		r.str(3, t.Kind.String())
		if t.Kind == View {
			for i := 4; i <= 10; i++ {
				r.null(i)
			}
			r.str(11, "VIEW")
			return
		}
		if t.Kind == SystemTable {
			r.str(4, "MEMORY")
		} else {
			r.str(4, "Quiver")
		}
		r.i64(5, 10)
		r.str(6, "Dynamic")
		r.i64OrNull(7, t.Stats.RowCount)
		if t.Stats.RowCount > 0 && t.Stats.Bytes >= 0 {
			r.i64(8, t.Stats.Bytes/t.Stats.RowCount)
		} else {
			r.i64(8, 0)
		}
		r.i64OrNull(9, t.Stats.Bytes)
		r.str(10, "utf8mb4_bin")
		r.str(11, "")
	})
}

func (c *Catalog) fillColumns(ctx context.Context, r rowBuilder) error {
	return c.eachTable(ctx, func(t *Table) {
		if t.Columns == nil {
			return
		}
		keys := Keys(t.Columns)
		for i, f := range t.Columns.Fields() {
			ti := declaredType(f, mysqlType(f.Type))
			r.str(0, catalogName)
			r.str(1, t.Schema)
			r.str(2, t.Name)
			r.str(3, f.Name)
			r.i64(4, int64(i+1))
			if d, ok := defaultText(f); ok {
				r.str(5, d)
			} else {
				r.null(5)
			}
			if f.Nullable {
				r.str(6, "YES")
			} else {
				r.str(6, "NO")
			}
			r.str(7, ti.dataType)
			r.i64OrNull(8, ti.charMax)
			text := f.Type.ID() == arrow.STRING || f.Type.ID() == arrow.LARGE_STRING
			if ti.charMax >= 0 && text {
				r.i64(9, ti.charMax*4) // utf8mb4
			} else {
				r.i64OrNull(9, ti.charMax)
			}
			r.i64OrNull(10, ti.precision)
			r.i64OrNull(11, ti.scale)
			r.i64OrNull(12, ti.datetimePrecision)
			if text {
				r.str(13, "utf8mb4")
				r.str(14, "utf8mb4_bin")
			} else {
				r.null(13)
				r.null(14)
			}
			r.str(15, ti.columnType)
			r.str(16, columnKey(keys, f.Name))
			r.str(17, "")
			r.str(18, "select")
			r.str(19, "")
		}
	})
}

func (c *Catalog) fillViews(ctx context.Context, r rowBuilder) error {
	return c.eachTable(ctx, func(t *Table) {
		if t.Kind != View {
			return
		}
		r.str(0, catalogName)
		r.str(1, t.Schema)
		r.str(2, t.Name)
		r.str(3, t.ViewSQL)
		r.str(4, "NONE")
		r.str(5, "NO")
	})
}

// columnKey is COLUMN_KEY (SHOW COLUMNS' Key) as MySQL reports it: PRI for
// a primary key column, UNI for the column of a one-column UNIQUE key, MUL
// for the first column of a composite one.
func columnKey(keys []Key, name string) string {
	k := ""
	for _, key := range keys {
		switch {
		case key.Primary && slices.Contains(key.Columns, name):
			return "PRI"
		case !key.Primary && key.Columns[0] == name && len(key.Columns) == 1:
			k = "UNI"
		case !key.Primary && key.Columns[0] == name && k == "":
			k = "MUL"
		}
	}
	return k
}

// eachKey calls fn for every key of every base table.
func (c *Catalog) eachKey(ctx context.Context, fn func(t *Table, k Key)) error {
	return c.eachTable(ctx, func(t *Table) {
		if t.Kind != BaseTable {
			return
		}
		for _, k := range Keys(t.Columns) {
			fn(t, k)
		}
	})
}

func (c *Catalog) fillTableConstraints(ctx context.Context, r rowBuilder) error {
	return c.eachKey(ctx, func(t *Table, k Key) {
		r.str(0, catalogName)
		r.str(1, t.Schema)
		r.str(2, k.Name)
		r.str(3, t.Schema)
		r.str(4, t.Name)
		if k.Primary {
			r.str(5, "PRIMARY KEY")
		} else {
			r.str(5, "UNIQUE")
		}
		r.str(6, "YES")
	})
}

func (c *Catalog) fillKeyColumnUsage(ctx context.Context, r rowBuilder) error {
	return c.eachKey(ctx, func(t *Table, k Key) {
		for i, col := range k.Columns {
			r.str(0, catalogName)
			r.str(1, t.Schema)
			r.str(2, k.Name)
			r.str(3, catalogName)
			r.str(4, t.Schema)
			r.str(5, t.Name)
			r.str(6, col)
			r.i64(7, int64(i+1))
			for j := 8; j <= 11; j++ {
				r.null(j)
			}
		}
	})
}

func (c *Catalog) fillStatistics(ctx context.Context, r rowBuilder) error {
	return c.eachKey(ctx, func(t *Table, k Key) {
		for i, col := range k.Columns {
			r.str(0, catalogName)
			r.str(1, t.Schema)
			r.str(2, t.Name)
			r.i64(3, 0)
			r.str(4, t.Schema)
			r.str(5, k.Name)
			r.i64(6, int64(i+1))
			r.str(7, col)
			r.str(8, "A")
			r.null(9)
			r.null(10)
			r.null(11)
			if f, ok := t.Columns.FieldsByName(col); ok && len(f) > 0 && f[0].Nullable {
				r.str(12, "YES")
			} else {
				r.str(12, "")
			}
			r.str(13, "BTREE")
			r.str(14, "")
			r.str(15, "")
			r.str(16, "YES")
			r.null(17)
		}
	})
}
