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
}

func (p *prepared) bind(rows [][]scalar.Scalar, batches []arrow.RecordBatch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked()
	p.params, p.batches = rows, batches
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
	p.params, p.batches = nil, nil
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
		fields[i] = arrow.Field{Name: fmt.Sprintf("parameter_%d", i+1), Type: t, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// ClosePreparedStatement forgets a handle and its bound parameters.
func (s *Server) ClosePreparedStatement(_ context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	p, err := s.prepared.remove(req.GetPreparedStatementHandle())
	if err != nil {
		return s.toStatus(err)
	}
	p.bind(nil, nil)
	return nil
}

// GetFlightInfoPreparedStatement describes a prepared query; the ticket is
// the command itself (the handle), redeemed by DoGetPreparedStatement.
func (s *Server) GetFlightInfoPreparedStatement(_ context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	p, err := s.prepared.get(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, s.toStatus(err)
	}
	return s.flightInfo(desc, desc.Cmd, resultSchema(p.desc)), nil
}

// GetSchemaPreparedStatement returns a prepared statement's result schema.
func (s *Server) GetSchemaPreparedStatement(_ context.Context, cmd flightsql.PreparedStatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	p, err := s.prepared.get(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(resultSchema(p.desc), s.Alloc)}, nil
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
// batches) to a prepared statement and returns the same handle.
func (s *Server) DoPutPreparedStatementQuery(_ context.Context, cmd flightsql.PreparedStatementQuery, rdr flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	p, err := s.prepared.get(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, s.toStatus(err)
	}
	rows, batches, err := readParams(rdr, len(p.desc.Params))
	if err != nil {
		return nil, s.toStatus(err)
	}
	p.bind(rows, batches)
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
