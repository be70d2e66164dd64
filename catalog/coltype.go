package catalog

import (
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Field metadata keeping what a CREATE TABLE declared beyond the Arrow type:
// the MySQL column type as written (e.g. "char(3)", "text") and the maximum
// length in characters (bytes for binary types) that INSERT enforces.
const (
	columnTypeKey = "quiver.column_type"
	maxLengthKey  = "quiver.max_length"
)

// WithColumnType returns f carrying the declared MySQL column type and
// maximum length (maxLength < 0: unbounded).
func WithColumnType(f arrow.Field, columnType string, maxLength int64) arrow.Field {
	keys, vals := []string{columnTypeKey}, []string{strings.ToLower(columnType)}
	if maxLength >= 0 {
		keys, vals = append(keys, maxLengthKey), append(vals, strconv.FormatInt(maxLength, 10))
	}
	f.Metadata = arrow.NewMetadata(keys, vals)
	return f
}

// MaxLength is the declared maximum length of a string/binary column.
func MaxLength(f arrow.Field) (int64, bool) {
	v, ok := f.Metadata.GetValue(maxLengthKey)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// declaredType refines ti with the column type a CREATE TABLE declared.
func declaredType(f arrow.Field, ti typeInfo) typeInfo {
	ct, ok := f.Metadata.GetValue(columnTypeKey)
	if !ok {
		return ti
	}
	ti.columnType = ct
	ti.dataType = ct
	if i := strings.IndexAny(ct, "( "); i >= 0 {
		ti.dataType = ct[:i]
	}
	if n, ok := MaxLength(f); ok && ti.charMax >= 0 {
		ti.charMax = n
	}
	return ti
}

// FixedLength reports whether f was declared CHAR(n) (binary false) or
// BINARY(n) (binary true), with n: MySQL strips a CHAR's trailing spaces
// and pads a BINARY with 0x00 bytes to n.
func FixedLength(f arrow.Field) (n int64, binary, ok bool) {
	ct, _ := f.Metadata.GetValue(columnTypeKey)
	switch {
	case strings.HasPrefix(ct, "char"):
	case strings.HasPrefix(ct, "binary"):
		binary = true
	default:
		return 0, false, false
	}
	n, ok = MaxLength(f)
	return n, binary, ok
}

// defaultKey holds a column's DEFAULT as SQL text (a constant expression).
const defaultKey = "quiver.default"

// WithDefault returns f carrying the column's DEFAULT as SQL text
// (replacing one it had).
func WithDefault(f arrow.Field, sql string) arrow.Field {
	keys, vals := []string{defaultKey}, []string{sql}
	for i, k := range f.Metadata.Keys() {
		if k != defaultKey {
			keys, vals = append(keys, k), append(vals, f.Metadata.Values()[i])
		}
	}
	f.Metadata = arrow.NewMetadata(keys, vals)
	return f
}

// Default is the column's DEFAULT as SQL text; ok=false when it has none.
func Default(f arrow.Field) (sql string, ok bool) {
	return f.Metadata.GetValue(defaultKey)
}

// defaultText is COLUMN_DEFAULT as MySQL shows it: a string literal without
// quotes, an expression as written, nothing for DEFAULT NULL.
func defaultText(f arrow.Field) (string, bool) {
	d, ok := Default(f)
	switch {
	case !ok || strings.EqualFold(d, "NULL"):
		return "", false
	case len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'':
		return strings.ReplaceAll(d[1:len(d)-1], "''", "'"), true
	case d == "CURRENT_TIMESTAMP()":
		return "CURRENT_TIMESTAMP", true
	}
	return d, true
}
