package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/qerr"
)

// prepared is one prepared statement: its SQL, the session it was prepared
// in and the parameter rows bound last (each row executes the statement once).
type prepared struct {
	sql  string
	sess *engine.Session
	desc *engine.Prepared

	mu      sync.Mutex
	params  [][]scalar.Scalar
	batches []arrow.RecordBatch // keep the bound values' buffers alive
	// boundDesc describes the statement with the bound values when one of
	// its parameters has no type from context (SELECT ?): its result column
	// then has the value's type, unknown at preparation (nil otherwise).
	boundDesc *engine.Prepared
}

func (p *prepared) bind(rows [][]scalar.Scalar, batches []arrow.RecordBatch, boundDesc *engine.Prepared) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked()
	p.params, p.batches, p.boundDesc = rows, batches, boundDesc
}

// describe is the statement's description as it runs now: with the bound
// values' types for parameters untyped by context.
func (p *prepared) describe() *engine.Prepared {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.boundDesc != nil {
		return p.boundDesc
	}
	return p.desc
}

// boundPreparer is the optional Engine method that describes a statement
// with its parameter values (*engine.Engine has it).
type boundPreparer interface {
	PrepareBound(ctx context.Context, s *engine.Session, sql string, params []scalar.Scalar) (*engine.Prepared, error)
}

// prepareBound describes p with params bound; nil when the engine cannot
// (the stream then still carries the values' types).
func (s *Server) prepareBound(ctx context.Context, p *prepared, params []scalar.Scalar) (*engine.Prepared, error) {
	eng := s.eng
	if g, ok := eng.(*guardedEngine); ok {
		eng = g.Engine
	}
	bp, ok := eng.(boundPreparer)
	if !ok {
		return nil, nil
	}
	return bp.PrepareBound(ctx, p.sess, p.sql, params)
}

// untypedParams reports whether a placeholder's type comes only from the
// value bound to it.
func untypedParams(d *engine.Prepared) bool {
	for _, t := range d.Params {
		if t == nil || t.ID() == arrow.NULL {
			return true
		}
	}
	return false
}

func (p *prepared) bound() [][]scalar.Scalar {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.params
}

func (p *prepared) releaseLocked() {
	for _, b := range p.batches {
		b.Release()
	}
	p.params, p.batches, p.boundDesc = nil, nil, nil
}

// preparedStore maps handles to prepared statements. Handles are random,
// so a guessed handle does not reach another client's statement.
type preparedStore struct {
	mu sync.Mutex
	m  map[string]*prepared
}

func (ps *preparedStore) add(p *prepared) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", qerr.Wrap(qerr.Internal, err, "prepared statement handle")
	}
	h := hex.EncodeToString(b[:])
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.m == nil {
		ps.m = map[string]*prepared{}
	}
	ps.m[h] = p
	return h, nil
}

func (ps *preparedStore) get(handle []byte) (*prepared, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.m[string(handle)]
	if !ok {
		return nil, qerr.New(qerr.NotFound, "Unknown prepared statement handle '%s'", printable(handle))
	}
	return p, nil
}

func (ps *preparedStore) remove(handle []byte) (*prepared, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.m[string(handle)]
	if !ok {
		return nil, qerr.New(qerr.NotFound, "Unknown prepared statement handle '%s'", printable(handle))
	}
	delete(ps.m, string(handle))
	return p, nil
}

// printable keeps client-supplied bytes out of error messages verbatim.
func printable(b []byte) string {
	const maxLen = 64
	if len(b) > maxLen {
		b = b[:maxLen]
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(b)
		}
	}
	return string(b)
}

// CreatePreparedStatement prepares a statement. dataset_schema is the
// result schema of a query and empty for DDL/DML, which is how JDBC tells
// an update from a query.
func (s *Server) CreatePreparedStatement(ctx context.Context, req flightsql.ActionCreatePreparedStatementRequest) (flightsql.ActionCreatePreparedStatementResult, error) {
	var res flightsql.ActionCreatePreparedStatementResult
	_, sess := s.session(ctx)
	desc, err := s.eng.Prepare(ctx, sess, req.GetQuery())
	if err != nil {
		return res, s.toStatus(err)
	}
	h, err := s.prepared.add(&prepared{sql: req.GetQuery(), sess: sess, desc: desc})
	if err != nil {
		return res, s.toStatus(err)
	}
	isUpdate := desc.Schema == nil
	res.Handle = []byte(h)
	res.DatasetSchema = desc.Schema
	if isUpdate {
		res.DatasetSchema = arrow.NewSchema(nil, nil)
	}
	res.ParameterSchema = parameterSchema(desc.Params)
	res.IsUpdate = &isUpdate
	return res, nil
}

// parameterSchema names the placeholders parameter_1..n; an undetermined
// type (arrow.Null) is reported as nullable null.
func parameterSchema(types []arrow.DataType) *arrow.Schema {
	fields := make([]arrow.Field, len(types))
	for i, t := range types {
		if t == nil {
			t = arrow.Null
		}
		t = paramWireType(t)
		fields[i] = arrow.Field{Name: fmt.Sprintf("parameter_%d", i+1), Type: t, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// paramWireType is the type a parameter is advertised with in
// parameter_schema. Timestamps finer than milliseconds are advertised in
// milliseconds: the Flight SQL JDBC driver (18.3) fills the vector it builds
// from parameter_schema with a java.sql.Timestamp's epoch milliseconds
// whatever the vector's unit, so a microsecond parameter arrived 1000 times
// too small (and matched nothing). Clients that bind their own types (ADBC,
// pyarrow, Go) still send microseconds; every value is cast to the
// placeholder's type when bound.
func paramWireType(t arrow.DataType) arrow.DataType {
	if ts, ok := t.(*arrow.TimestampType); ok && (ts.Unit == arrow.Microsecond || ts.Unit == arrow.Nanosecond) {
		return &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: ts.TimeZone}
	}
	return t
}

// ClosePreparedStatement forgets a handle and its bound parameters.
func (s *Server) ClosePreparedStatement(_ context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	p, err := s.prepared.remove(req.GetPreparedStatementHandle())
	if err != nil {
		return s.toStatus(err)
	}
	p.bind(nil, nil, nil)
	return nil
}

// GetFlightInfoPreparedStatement describes a prepared query; the ticket is
// the command itself (the handle), redeemed by DoGetPreparedStatement.
func (s *Server) GetFlightInfoPreparedStatement(_ context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	p, err := s.prepared.get(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, s.toStatus(err)
	}
	return s.resultInfo(desc, desc.Cmd, resultSchema(p.describe())), nil
}

// GetSchemaPreparedStatement returns a prepared statement's result schema.
func (s *Server) GetSchemaPreparedStatement(_ context.Context, cmd flightsql.PreparedStatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	p, err := s.prepared.get(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(resultSchema(p.describe()), s.Alloc)}, nil
}

// DoGetPreparedStatement runs a prepared query with its bound parameters.
// A query takes at most one parameter row.
func (s *Server) DoGetPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	p, err := s.prepared.get(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, nil, s.toStatus(err)
	}
	rows := p.bound()
	if len(rows) > 1 {
		return nil, nil, s.toStatus(qerr.New(qerr.InvalidArgument,
			"a query takes one row of parameters, %d rows were bound", len(rows)))
	}
	var params []scalar.Scalar
	if len(rows) == 1 {
		params = rows[0]
	}
	res, err := s.eng.Execute(ctx, p.sess, p.sql, params)
	if err != nil {
		return nil, nil, s.toStatus(err)
	}
	return s.streamResult(ctx, res)
}

// DoPutPreparedStatementQuery binds parameters (all rows of the incoming
// batches) to a prepared statement and returns the same handle. A
// placeholder untyped by context (SELECT ?) takes its value's type: the
// FlightInfo and schema of the handle then report the bound types (the
// dataset_schema of CreatePreparedStatement had NULL for that column).
func (s *Server) DoPutPreparedStatementQuery(ctx context.Context, cmd flightsql.PreparedStatementQuery, rdr flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	p, err := s.prepared.get(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, s.toStatus(err)
	}
	rows, batches, err := readParams(rdr, len(p.desc.Params))
	if err != nil {
		return nil, s.toStatus(err)
	}
	var boundDesc *engine.Prepared
	if len(rows) == 1 && untypedParams(p.desc) {
		if boundDesc, err = s.prepareBound(ctx, p, rows[0]); err != nil {
			for _, b := range batches {
				b.Release()
			}
			return nil, s.toStatus(err)
		}
	}
	p.bind(rows, batches, boundDesc)
	return cmd.GetPreparedStatementHandle(), nil
}

// DoPutPreparedStatementUpdate runs a prepared DDL/DML statement once per
// parameter row sent with the call (or with the rows bound before, or once
// without parameters) and returns the total affected rows.
func (s *Server) DoPutPreparedStatementUpdate(ctx context.Context, cmd flightsql.PreparedStatementUpdate, rdr flight.MessageReader) (int64, error) {
	p, err := s.prepared.get(cmd.GetPreparedStatementHandle())
	if err != nil {
		return 0, s.toStatus(err)
	}
	rows, batches, err := readParams(rdr, len(p.desc.Params))
	if err != nil {
		return 0, s.toStatus(err)
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	if len(rows) == 0 {
		rows = p.bound()
	}
	if len(rows) == 0 {
		rows = [][]scalar.Scalar{nil}
	}
	var total int64
	for _, params := range rows {
		n, err := s.executeUpdate(ctx, p.sess, p.sql, params)
		if err != nil {
			return total, s.toStatus(err)
		}
		total += n
	}
	return total, nil
}

// executeUpdate runs a statement for its effect; a query's rows are discarded.
func (s *Server) executeUpdate(ctx context.Context, sess *engine.Session, sql string, params []scalar.Scalar) (int64, error) {
	res, err := s.eng.Execute(ctx, sess, sql, params)
	if err != nil {
		return 0, err
	}
	if res.Stream != nil {
		return 0, res.Stream.Close()
	}
	return res.RowsAffected, nil
}
