package server

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/qerr"
)

// Ingester is the part of the catalog bulk ingest writes through;
// *catalog.Catalog satisfies it. Without it ingest answers Unimplemented.
type Ingester interface {
	Table(ctx context.Context, schema, name string) (*catalog.Table, error)
	CreateTableAs(ctx context.Context, schema, name string, cols *arrow.Schema, r array.RecordReader, ifNotExists bool) (int64, error)
	DropTable(ctx context.Context, schema, name string, ifExists bool) error
	Append(ctx context.Context, schema, name string, r array.RecordReader) (int64, error)
}

// DoPutCommandStatementIngest loads the Arrow stream of a DoPut into a
// table (ADBC adbc_ingest, pyarrow). Modes, from TableDefinitionOptions:
// missing table → create (default) or fail; existing table → fail
// (default), append, or replace (drop, create with the stream's schema,
// load). Appending checks the stream's columns against the table's by
// name (case-insensitive) and type. Temporary tables and transactions are
// not supported.
func (s *Server) DoPutCommandStatementIngest(ctx context.Context, cmd flightsql.StatementIngest, rdr flight.MessageReader) (int64, error) {
	n, err := s.ingest(ctx, cmd, rdr)
	return n, s.toStatus(err)
}

func (s *Server) ingest(ctx context.Context, cmd flightsql.StatementIngest, rdr flight.MessageReader) (int64, error) {
	ing, ok := s.cat.(Ingester)
	if !ok || s.cat == nil {
		return 0, qerr.New(qerr.Unimplemented, "bulk ingest is not available on this server")
	}
	if err := requireWritable(ctx, "bulk ingest"); err != nil {
		return 0, err
	}
	if cmd.GetTemporary() {
		return 0, qerr.New(qerr.Unimplemented, "temporary tables are not supported: ingest into a regular table")
	}
	if len(cmd.GetTransactionId()) > 0 {
		return 0, errNoTransactions
	}
	if c := cmd.GetCatalog(); c != "" && !strings.EqualFold(c, CatalogName) {
		return 0, qerr.New(qerr.NotFound, "Unknown catalog '%s' (the only catalog is '%s')", c, CatalogName)
	}
	table := cmd.GetTable()
	if table == "" {
		return 0, qerr.New(qerr.InvalidArgument, "ingest: no target table")
	}
	schema := cmd.GetSchema()
	if schema == "" {
		_, sess := s.session(ctx)
		schema = sess.CurrentSchema
	}
	if schema == "" {
		return 0, qerr.New(qerr.InvalidArgument, "ingest: no schema given and no current schema (set one with USE or the schema session option)")
	}
	in := rdr.Schema()
	if in == nil && rdr.Err() != nil {
		return 0, qerr.Wrap(qerr.InvalidArgument, rdr.Err(), "ingest: read the stream's schema")
	}
	if in == nil || in.NumFields() == 0 {
		return 0, qerr.New(qerr.InvalidArgument, "ingest: the stream has no columns")
	}
	opts := cmd.GetTableDefinitionOptions()
	ifNotExist := flightsql.TableDefinitionOptionsTableNotExistOption(0)
	ifExists := flightsql.TableDefinitionOptionsTableExistsOption(0)
	if opts != nil {
		ifNotExist, ifExists = opts.GetIfNotExist(), opts.GetIfExists()
	}
	const (
		notExistFail = 2 // TABLE_NOT_EXIST_OPTION_FAIL
		existsAppend = 2 // TABLE_EXISTS_OPTION_APPEND
		existsReplce = 3 // TABLE_EXISTS_OPTION_REPLACE
	)
	t, err := ing.Table(ctx, schema, table)
	if err != nil && qerr.KindOf(err) != qerr.NotFound {
		return 0, err
	}
	exists := err == nil && t != nil
	var cols *arrow.Schema
	switch {
	case !exists && ifNotExist == notExistFail:
		return 0, qerr.New(qerr.NotFound, "Table '%s.%s' doesn't exist (ingest mode: fail if missing)", schema, table)
	case !exists:
		// The table appears with all the stream's rows or not at all.
		return ing.CreateTableAs(ctx, schema, table, in, &renamedReader{MessageReader: rdr, schema: in}, false)
	case ifExists == existsAppend:
		if t.Kind != catalog.BaseTable {
			return 0, qerr.New(qerr.InvalidArgument, "'%s.%s' is not a base table", schema, table)
		}
		if err := sameColumns(t.Columns, in); err != nil {
			return 0, err
		}
		cols = t.Columns
	case ifExists == existsReplce:
		if err := ing.DropTable(ctx, schema, table, false); err != nil {
			return 0, err
		}
		return ing.CreateTableAs(ctx, schema, table, in, &renamedReader{MessageReader: rdr, schema: in}, false)
	default:
		return 0, qerr.New(qerr.AlreadyExists, "Table '%s.%s' already exists (ingest mode: fail if it exists; use append or replace)", schema, table)
	}
	return ing.Append(ctx, schema, table, &renamedReader{MessageReader: rdr, schema: cols})
}

// sameColumns checks that an ingest stream matches a table's columns.
func sameColumns(table, in *arrow.Schema) error {
	if table.NumFields() != in.NumFields() {
		return qerr.New(qerr.InvalidArgument, "ingest: the stream has %d columns, the table has %d (%s)",
			in.NumFields(), table.NumFields(), fieldList(table))
	}
	for i, tf := range table.Fields() {
		f := in.Field(i)
		if !strings.EqualFold(tf.Name, f.Name) {
			return qerr.New(qerr.InvalidArgument, "ingest: column %d is `%s` in the stream but `%s` in the table (%s)",
				i+1, f.Name, tf.Name, fieldList(table))
		}
		if !arrow.TypeEqual(tf.Type, f.Type) {
			return qerr.New(qerr.InvalidArgument, "ingest: column `%s` has type %s in the stream but %s in the table",
				tf.Name, f.Type, tf.Type)
		}
	}
	return nil
}

func fieldList(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Name + " " + f.Type.String()
	}
	return strings.Join(parts, ", ")
}

// renamedReader presents the stream's batches under the table's column
// names (the types are equal), and fails on a batch whose schema changed
// mid-stream.
type renamedReader struct {
	flight.MessageReader
	schema *arrow.Schema
	cur    arrow.RecordBatch
	err    error
}

func (r *renamedReader) Schema() *arrow.Schema { return r.schema }

func (r *renamedReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil || !r.MessageReader.Next() {
		return false
	}
	b := r.MessageReader.RecordBatch()
	if err := sameColumns(r.schema, b.Schema()); err != nil {
		r.err = err
		return false
	}
	r.cur = array.NewRecordBatch(r.schema, b.Columns(), b.NumRows())
	return true
}

func (r *renamedReader) RecordBatch() arrow.RecordBatch { return r.cur }

//nolint:staticcheck // Record is part of array.RecordReader.
func (r *renamedReader) Record() arrow.RecordBatch { return r.cur }

func (r *renamedReader) Err() error {
	if r.err != nil {
		return r.err
	}
	if err := r.MessageReader.Err(); err != nil {
		return qerr.Wrap(qerr.InvalidArgument, err, "ingest: read stream")
	}
	return nil
}

func (r *renamedReader) Release() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}
