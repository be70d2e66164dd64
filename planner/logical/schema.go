package logical

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// ColumnID identifies a column uniquely within one statement. The binder hands
// out a fresh ID for every column a node produces (each scan instance, each
// computed projection, aggregate or window output, each mark-join flag), so
// rewrites never need to rename: an expression refers to the ID, and a column
// is "available" in a node iff its schema holds that ID.
type ColumnID int64

// Field is one column of a logical schema.
type Field struct {
	ID        ColumnID
	Qualifier string // table name or alias it is visible under ("" for computed)
	Name      string // column name as the user sees it
	Type      arrow.DataType
	Nullable  bool
}

func (f Field) String() string {
	if f.Qualifier != "" {
		return fmt.Sprintf("%s.%s#%d", f.Qualifier, f.Name, f.ID)
	}
	return fmt.Sprintf("%s#%d", f.Name, f.ID)
}

// Schema is the ordered list of columns a node produces.
type Schema struct {
	Fields []Field
}

func NewSchema(fields ...Field) *Schema { return &Schema{Fields: fields} }

func (s *Schema) Len() int { return len(s.Fields) }

// IndexOf returns the position of the column with the given ID, or -1.
func (s *Schema) IndexOf(id ColumnID) int {
	for i, f := range s.Fields {
		if f.ID == id {
			return i
		}
	}
	return -1
}

// Field returns the column with the given ID.
func (s *Schema) Field(id ColumnID) (Field, bool) {
	if i := s.IndexOf(id); i >= 0 {
		return s.Fields[i], true
	}
	return Field{}, false
}

// IDs returns the column IDs in order.
func (s *Schema) IDs() []ColumnID {
	ids := make([]ColumnID, len(s.Fields))
	for i, f := range s.Fields {
		ids[i] = f.ID
	}
	return ids
}

// Concat returns the columns of s followed by those of o (join output).
func (s *Schema) Concat(o *Schema) *Schema {
	fs := make([]Field, 0, len(s.Fields)+len(o.Fields))
	fs = append(fs, s.Fields...)
	fs = append(fs, o.Fields...)
	return &Schema{Fields: fs}
}

// ToArrow converts to an Arrow schema using the user-visible names.
func (s *Schema) ToArrow() *arrow.Schema {
	fs := make([]arrow.Field, len(s.Fields))
	for i, f := range s.Fields {
		fs[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable}
	}
	return arrow.NewSchema(fs, nil)
}

func (s *Schema) String() string {
	parts := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		parts[i] = f.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
