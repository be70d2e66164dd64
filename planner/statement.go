// Package planner turns SQL text into bound statements (parse → bind) and
// queries into optimized, staged physical plans (see subpackages).
package planner

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/planner/logical"
)

// Statement is a bound SQL statement. The engine executes each kind.
type Statement interface{ statement() }

// Query is a SELECT (or SHOW/DESCRIBE rewritten to one): Plan's schema is the
// result schema (column names as the client sees them). Params are the `?`
// placeholders in order, with the types inferred from context.
type Query struct {
	Plan   logical.Node
	Params []*logical.Param
}

// Explain is EXPLAIN [ANALYZE] <query>.
type Explain struct {
	Analyze bool
	Query   *Query
}

// SelectInto is SELECT ... INTO OUTFILE 'path' (CSV, or Parquet when the path
// ends in .parquet). Path is as written; the engine checks it.
type SelectInto struct {
	Query      *Query
	Path       string
	FieldsTerm string // default ","
	Enclosed   string // default "" (optional quote char)
	LinesTerm  string // default "\n"
}

type CreateTable struct {
	Schema, Name string
	Columns      *arrow.Schema // nil when AsSelect gives them
	IfNotExists  bool
	AsSelect     *Query // CREATE TABLE ... AS SELECT (nil otherwise)
	// Defaults is one row: the DEFAULT of each column that declares one, in
	// column order (nil when none does). The engine stores it once to refuse
	// a default the column cannot hold; a Literal one is kept as the stored
	// value (DEFAULT 1.555 on DECIMAL(5,2) is 1.56).
	Defaults *Query
	Literal  []bool // per Defaults column
}

// Insert appends Source's rows. Source has the table's columns in order (the
// binder reorders and fills NULLs) but in the types of the values; the engine
// converts them to the columns' types with MySQL strict-mode checks.
type Insert struct {
	Schema, Table string
	Source        *Query
}

// Rewrite is a single-table UPDATE or DELETE, run copy-on-write. Source
// yields the table's columns, then the new value of each Set column (valid
// where the row is hit), then a boolean column: true for the rows the
// statement deletes or updates. Base is the table snapshot Source reads.
type Rewrite struct {
	Schema, Table string
	Delete        bool
	Set           []int // table column indexes assigned, in SET order
	Source        *Query
	Base          *catalog.Table
}

type DropTable struct {
	Tables   [][2]string // schema, name
	IfExists bool
}

type CreateView struct {
	Schema, Name string
	SQL          string // the SELECT text as written
	Columns      *arrow.Schema
	OrReplace    bool
}

type DropView struct {
	Views    [][2]string
	IfExists bool
}

type CreateDatabase struct {
	Name        string
	IfNotExists bool
}

type DropDatabase struct {
	Name     string
	IfExists bool
}

// Use sets the session's current schema.
type Use struct{ Schema string }

// Set is SET [SESSION] name = value; the engine keeps known variables in the
// session and accepts (and ignores) the rest that MySQL clients send.
type Set struct {
	Name  string
	Value string
}

func (*Query) statement()          {}
func (*Explain) statement()        {}
func (*SelectInto) statement()     {}
func (*CreateTable) statement()    {}
func (*Insert) statement()         {}
func (*Rewrite) statement()        {}
func (*DropTable) statement()      {}
func (*CreateView) statement()     {}
func (*DropView) statement()       {}
func (*CreateDatabase) statement() {}
func (*DropDatabase) statement()   {}
func (*Use) statement()            {}
func (*Set) statement()            {}
