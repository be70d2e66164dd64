package catalog

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// Options configure a catalog.
type Options struct {
	DataDir       string   // root of <schema>/<table> files; created tables go here
	DefaultSchema string   // schema for unqualified names
	AllowedDirs   []string // extra directories SQL may read/write files in (INTO OUTFILE)
}

// Catalog is the set of schemas, tables and views of a node. All methods are
// safe for concurrent use; Table returns an immutable snapshot.
type Catalog struct {
	opts Options
	log  *zap.Logger
}

// Open scans opts.DataDir and builds the catalog.
func Open(ctx context.Context, opts Options, log *zap.Logger) (*Catalog, error) {
	return &Catalog{opts: opts, log: log}, nil
}

// DefaultSchema is the schema used for unqualified names when the session has none.
func (c *Catalog) DefaultSchema() string { return c.opts.DefaultSchema }

// Schemas lists schema names (including information_schema), sorted.
func (c *Catalog) Schemas() []string { return nil }

// SchemaExists reports whether a schema exists (case-insensitive).
func (c *Catalog) SchemaExists(name string) bool { return false }

// Tables lists the tables and views of a schema, sorted by name.
func (c *Catalog) Tables(ctx context.Context, schema string) ([]*Table, error) {
	return nil, qerr.New(qerr.NotFound, "Unknown database '%s'", schema)
}

// Table returns one table or view (NotFound: "Table 'schema.name' doesn't exist").
func (c *Catalog) Table(ctx context.Context, schema, name string) (*Table, error) {
	return nil, qerr.New(qerr.NotFound, "Table '%s.%s' doesn't exist", schema, name)
}

func (c *Catalog) CreateSchema(ctx context.Context, name string, ifNotExists bool) error {
	return qerr.New(qerr.Unimplemented, "CREATE DATABASE not implemented")
}

func (c *Catalog) DropSchema(ctx context.Context, name string, ifExists bool) error {
	return qerr.New(qerr.Unimplemented, "DROP DATABASE not implemented")
}

// CreateTable creates an empty base table stored as Parquet.
func (c *Catalog) CreateTable(ctx context.Context, schema, name string, cols *arrow.Schema, ifNotExists bool) error {
	return qerr.New(qerr.Unimplemented, "CREATE TABLE not implemented")
}

func (c *Catalog) DropTable(ctx context.Context, schema, name string, ifExists bool) error {
	return qerr.New(qerr.Unimplemented, "DROP TABLE not implemented")
}

// Append writes all batches of r (schema equal to the table's) as a new
// Parquet file of the table, atomically, and returns the rows written.
func (c *Catalog) Append(ctx context.Context, schema, name string, r array.RecordReader) (int64, error) {
	return 0, qerr.New(qerr.Unimplemented, "INSERT not implemented")
}

func (c *Catalog) CreateView(ctx context.Context, schema, name, sql string, cols *arrow.Schema, orReplace bool) error {
	return qerr.New(qerr.Unimplemented, "CREATE VIEW not implemented")
}

func (c *Catalog) DropView(ctx context.Context, schema, name string, ifExists bool) error {
	return qerr.New(qerr.Unimplemented, "DROP VIEW not implemented")
}

// ResolvePath checks that a path named in SQL lies under the data dir or an
// allowed directory and returns its cleaned absolute form (PermissionDenied otherwise).
func (c *Catalog) ResolvePath(path string) (string, error) {
	return "", qerr.New(qerr.PermissionDenied, "file access not implemented")
}
