package engine

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/planner"
	"github.com/quiverdb/quiver/qerr"
)

// storeColumn converts the values an INSERT computed (in) to the column's
// type with MySQL strict-mode checks: NULL into NOT NULL, values out of the
// type's range, strings that are not numbers/dates, and strings longer than
// the declared length are errors naming the column and the 1-based row
// (firstRow is the row number of in's first value).
func storeColumn(mem memory.Allocator, in arrow.Array, f arrow.Field, firstRow int64) (arrow.Array, error) {
	at := func(i int) int64 { return firstRow + int64(i) }
	if !f.Nullable && in.NullN() > 0 {
		return nil, qerr.New(qerr.InvalidArgument, "Column '%s' cannot be null", f.Name)
	}
	to := f.Type
	if err := checkStrings(in, f, at); err != nil {
		return nil, err
	}
	if isText(in.DataType()) && arrow.IsInteger(to.ID()) {
		// A string stored into an integer column is rounded ('1.5' → 2),
		// unlike CAST, which truncates at the first non-digit.
		dec, err := castArray(mem, in, &arrow.Decimal128Type{Precision: 38, Scale: 0})
		if err != nil {
			return nil, err
		}
		defer dec.Release()
		in = dec
	}
	if err := checkRange(mem, in, f, at); err != nil {
		return nil, err
	}
	out, err := castArray(mem, in, to)
	if err != nil {
		return nil, err
	}
	// A cast that yields NULL for a non-NULL value found no valid date/time.
	if out.NullN() > in.NullN() {
		for i := 0; i < in.Len(); i++ {
			if out.IsNull(i) && in.IsValid(i) {
				out.Release()
				return nil, qerr.New(qerr.InvalidArgument, "Incorrect %s value: '%s' for column '%s' at row %d", kindName(to), cellString(in, i), f.Name, at(i))
			}
		}
	}
	if err := checkTimeOfDay(out, f.Name, at); err != nil {
		out.Release()
		return nil, err
	}
	if n, binary, ok := catalog.FixedLength(f); ok {
		fixed := fixLength(mem, out, n, binary)
		out.Release()
		out = fixed
	}
	if max, ok := catalog.MaxLength(f); ok {
		trimmed := trimExcessSpaces(mem, out, max)
		out.Release()
		out = trimmed
		if err := checkLength(out, f.Name, max, at); err != nil {
			out.Release()
			return nil, err
		}
	}
	return out, nil
}

// trimExcessSpaces drops the trailing spaces of strings longer than max
// characters: MySQL truncates them (with a note) in any SQL mode; other
// excess characters stay for checkLength to refuse.
func trimExcessSpaces(mem memory.Allocator, in arrow.Array, max int64) arrow.Array {
	a, ok := in.(*array.String)
	trim := func(s string) string {
		for int64(utf8.RuneCountInString(s)) > max && strings.HasSuffix(s, " ") {
			s = s[:len(s)-1]
		}
		return s
	}
	long := false
	for i := 0; ok && !long && i < a.Len(); i++ {
		long = a.IsValid(i) && int64(len(a.Value(i))) > max && trim(a.Value(i)) != a.Value(i)
	}
	if !long {
		in.Retain()
		return in
	}
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(a.Len())
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		b.Append(trim(a.Value(i)))
	}
	return b.NewArray()
}

// fixLength stores CHAR(n) values without trailing spaces (what MySQL
// returns with PAD_CHAR_TO_FULL_LENGTH off) and BINARY(n) values padded with
// 0x00 to n bytes; longer values are left for checkLength to refuse.
func fixLength(mem memory.Allocator, in arrow.Array, n int64, binary bool) arrow.Array {
	switch a := in.(type) {
	case *array.String:
		if binary {
			break
		}
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(a.Len())
		for i := 0; i < a.Len(); i++ {
			if a.IsNull(i) {
				b.AppendNull()
				continue
			}
			b.Append(strings.TrimRight(a.Value(i), " "))
		}
		return b.NewArray()
	case *array.Binary:
		if !binary {
			break
		}
		b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
		defer b.Release()
		b.Reserve(a.Len())
		var buf []byte
		for i := 0; i < a.Len(); i++ {
			if a.IsNull(i) {
				b.AppendNull()
				continue
			}
			buf = append(buf[:0], a.Value(i)...)
			for int64(len(buf)) < n {
				buf = append(buf, 0)
			}
			b.Append(buf)
		}
		return b.NewArray()
	}
	in.Retain()
	return in
}

// castArray is CAST(in AS to) with the engine's kernels.
func castArray(mem memory.Allocator, in arrow.Array, to arrow.DataType) (arrow.Array, error) {
	if arrow.TypeEqual(in.DataType(), to) {
		in.Retain()
		return in, nil
	}
	c, err := expr.NewCast(expr.NewColumn(0, "", in.DataType()), to)
	if err != nil {
		return nil, err
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: in.DataType(), Nullable: true}}, nil)
	b := array.NewRecordBatch(schema, []arrow.Array{in}, int64(in.Len()))
	defer b.Release()
	return c.Eval(mem, b)
}

func isNumeric(t arrow.DataType) bool {
	return arrow.IsInteger(t.ID()) || arrow.IsFloating(t.ID()) || arrow.IsDecimal(t.ID())
}

func isText(t arrow.DataType) bool {
	return t.ID() == arrow.STRING || t.ID() == arrow.LARGE_STRING || t.ID() == arrow.BINARY || t.ID() == arrow.LARGE_BINARY
}

// checkStrings refuses strings stored into a numeric column unless they are a
// whole number (surrounding spaces allowed), as MySQL strict mode does.
func checkStrings(in arrow.Array, f arrow.Field, at func(int) int64) error {
	if !isText(in.DataType()) || !isNumeric(f.Type) {
		return nil
	}
	for i := 0; i < in.Len(); i++ {
		if in.IsNull(i) {
			continue
		}
		s := cellString(in, i)
		switch n, whole := numberPrefix(s); {
		case n == 0:
			return qerr.New(qerr.InvalidArgument, "Incorrect %s value: '%s' for column '%s' at row %d", kindName(f.Type), s, f.Name, at(i))
		case !whole:
			return qerr.New(qerr.InvalidArgument, "Data truncated for column '%s' at row %d", f.Name, at(i))
		}
	}
	return nil
}

// numberPrefix returns the length of the longest numeric literal prefix of s
// (after leading spaces; 0 = none) and whether only spaces follow it.
func numberPrefix(s string) (int, bool) {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	n := i - start
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return n, i == len(s)
}

// checkRange refuses numbers outside the column type's range. Integers and
// decimals are compared exactly after MySQL's rounding to the column's scale.
func checkRange(mem memory.Allocator, in arrow.Array, f arrow.Field, at func(int) int64) error {
	from, to := in.DataType(), f.Type
	if !isNumeric(to) || !(isNumeric(from) || isText(from) || from.ID() == arrow.BOOL) {
		return nil
	}
	outOfRange := func(i int) error {
		return qerr.New(qerr.InvalidArgument, "Out of range value for column '%s' at row %d", f.Name, at(i))
	}
	if arrow.IsFloating(to.ID()) {
		if to.ID() != arrow.FLOAT32 && to.ID() != arrow.FLOAT16 {
			return nil
		}
		wide, err := castArray(mem, in, arrow.PrimitiveTypes.Float64)
		if err != nil {
			return err
		}
		defer wide.Release()
		w := wide.(*array.Float64)
		for i, v := range w.Float64Values() {
			if w.IsValid(i) && math.Abs(v) > math.MaxFloat32 {
				return outOfRange(i)
			}
		}
		return nil
	}
	var scale int32
	var lo, hi decimal128.Num
	switch t := to.(type) {
	case *arrow.Decimal128Type:
		scale = t.Scale
	default:
		lo, hi = intBounds(to)
	}
	wide, err := castArray(mem, in, &arrow.Decimal128Type{Precision: 38, Scale: scale})
	if err != nil {
		return err
	}
	defer wide.Release()
	w := wide.(*array.Decimal128)
	for i, v := range w.Values() {
		if !w.IsValid(i) {
			continue
		}
		if d, ok := to.(*arrow.Decimal128Type); ok {
			if !v.FitsInPrecision(d.Precision) {
				return outOfRange(i)
			}
		} else if v.Less(lo) || hi.Less(v) {
			return outOfRange(i)
		}
	}
	return nil
}

func intBounds(t arrow.DataType) (lo, hi decimal128.Num) {
	switch t.ID() {
	case arrow.INT8:
		return decimal128.FromI64(math.MinInt8), decimal128.FromI64(math.MaxInt8)
	case arrow.INT16:
		return decimal128.FromI64(math.MinInt16), decimal128.FromI64(math.MaxInt16)
	case arrow.INT32:
		return decimal128.FromI64(math.MinInt32), decimal128.FromI64(math.MaxInt32)
	case arrow.INT64:
		return decimal128.FromI64(math.MinInt64), decimal128.FromI64(math.MaxInt64)
	case arrow.UINT8:
		return decimal128.Num{}, decimal128.FromU64(math.MaxUint8)
	case arrow.UINT16:
		return decimal128.Num{}, decimal128.FromU64(math.MaxUint16)
	case arrow.UINT32:
		return decimal128.Num{}, decimal128.FromU64(math.MaxUint32)
	}
	return decimal128.Num{}, decimal128.FromU64(math.MaxUint64)
}

// checkTimeOfDay bounds a TIME column's values: TIME is Arrow Time64, which
// clients (JDBC, ADBC, pyarrow) read as a time of day, so MySQL's wider
// -838:59:59..838:59:59 range is refused rather than wrapped at 24h.
func checkTimeOfDay(out arrow.Array, col string, at func(int) int64) error {
	t, ok := out.(*array.Time64)
	if !ok {
		return nil
	}
	day := arrow.Time64(24 * 3600 * 1e6)
	if t.DataType().(*arrow.Time64Type).Unit == arrow.Nanosecond {
		day *= 1000
	}
	for i, v := range t.Time64Values() {
		if t.IsValid(i) && (v < 0 || v >= day) {
			return qerr.New(qerr.InvalidArgument, "Out of range value for column '%s' at row %d: TIME columns hold 00:00:00 to 23:59:59.999999", col, at(i))
		}
	}
	return nil
}

// checkLength refuses strings longer than the declared CHAR/VARCHAR length
// (characters) or BINARY/VARBINARY length (bytes).
func checkLength(out arrow.Array, col string, max int64, at func(int) int64) error {
	for i := 0; i < out.Len(); i++ {
		if out.IsNull(i) {
			continue
		}
		var n int
		switch a := out.(type) {
		case *array.String:
			n = utf8.RuneCountInString(a.Value(i))
		case *array.Binary:
			n = len(a.Value(i))
		default:
			return nil
		}
		if int64(n) > max {
			return qerr.New(qerr.InvalidArgument, "Data too long for column '%s' at row %d", col, at(i))
		}
	}
	return nil
}

// kindName is the type word of MySQL's "Incorrect <kind> value" errors.
func kindName(t arrow.DataType) string {
	switch {
	case arrow.IsInteger(t.ID()):
		return "integer"
	case arrow.IsDecimal(t.ID()):
		return "decimal"
	case arrow.IsFloating(t.ID()):
		return "double"
	}
	switch t.ID() {
	case arrow.DATE32, arrow.DATE64:
		return "date"
	case arrow.TIMESTAMP:
		return "datetime"
	case arrow.TIME32, arrow.TIME64:
		return "time"
	}
	return "string"
}

func cellString(a arrow.Array, i int) string {
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return string(a.Value(i))
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	}
	return fmt.Sprint(a.GetOneForMarshal(i))
}

// checkDefaults stores each declared DEFAULT once, as an INSERT would: a
// value its column cannot hold is MySQL's "Invalid default value" (1067).
// A literal default of a number or string column is kept as the stored
// value (DEFAULT 1.555 on DECIMAL(5,2) is 1.56; information_schema shows it).
func (e *Engine) checkDefaults(ctx context.Context, ct *planner.CreateTable, params []scalar.Scalar) (*arrow.Schema, error) {
	all := ct.Columns.Fields()
	var idx []int // columns with a DEFAULT, in Defaults order
	for i, f := range all {
		if _, ok := catalog.Default(f); ok {
			idx = append(idx, i)
		}
	}
	_, stream, err := e.start(ctx, ct.Defaults, params, nil)
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	b, err := stream.Next(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	if int(b.NumCols()) != len(idx) || b.NumRows() != 1 {
		return nil, qerr.New(qerr.Internal, "internal: defaults row has %d columns and %d rows for %d defaults", b.NumCols(), b.NumRows(), len(idx))
	}
	for k, i := range idx {
		f := all[i]
		stored, err := storeColumn(memory.DefaultAllocator, b.Column(k), f, 1)
		if err != nil {
			return nil, qerr.New(qerr.InvalidArgument, "Invalid default value for '%s'", f.Name)
		}
		if lit, ok := sqlLiteral(stored); ok && k < len(ct.Literal) && ct.Literal[k] {
			all[i] = catalog.WithDefault(f, lit)
		}
		stored.Release()
	}
	return arrow.NewSchema(all, nil), nil
}

// sqlLiteral is the first value of a number or string column as SQL.
func sqlLiteral(a arrow.Array) (string, bool) {
	if a.IsNull(0) {
		return "", false
	}
	switch a := a.(type) {
	case *array.Decimal128:
		return a.Value(0).ToString(a.DataType().(*arrow.Decimal128Type).Scale), true
	case *array.Float64:
		return strconv.FormatFloat(a.Value(0), 'g', -1, 64), true
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(0)), 'g', -1, 32), true
	case *array.String:
		return "'" + strings.ReplaceAll(a.Value(0), "'", "''") + "'", true
	}
	if arrow.IsInteger(a.DataType().ID()) {
		return fmt.Sprint(a.GetOneForMarshal(0)), true
	}
	return "", false
}
