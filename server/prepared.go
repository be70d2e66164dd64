package server

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
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

	used uint64 // preparedStore LRU clock, under preparedStore.mu
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

// preparedStore caches, per node, what self-contained handles describe
// (see handle.go): handle → prepared. Any node with the handle key can
// rebuild an entry from the handle itself, so the cache is only for speed
// (and for the parameters a client bound to a handle without taking the new
// handle DoPutPreparedStatementQuery returned).
type preparedStore struct {
	codec *handleCodec

	mu    sync.Mutex
	m     map[string]*prepared
	seq   uint64
	bytes int64 // handles and SQL text of the entries
}

// maxCachedPrepared and maxCachedPreparedBytes bound the cache (a handle
// may carry 1 MiB of SQL and 1 MiB of parameters: a client preparing
// thousands of long statements must not pin gigabytes); the least recently
// used entries go first (they are rebuilt from their handle when used again).
const (
	maxCachedPrepared      = 10000
	maxCachedPreparedBytes = 64 << 20
)

// weight is what an entry costs the cache: its handle (which carries the
// SQL and the bound parameters) and the SQL the prepared statement keeps.
func weight(h string, p *prepared) int64 { return int64(len(h) + len(p.sql)) }

func (ps *preparedStore) lookup(h []byte) *prepared {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.m[string(h)]
	if p != nil {
		ps.seq++
		p.used = ps.seq
	}
	return p
}

// put caches p under h unless another call did first; it returns the entry.
func (ps *preparedStore) put(h []byte, p *prepared) *prepared {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.m == nil {
		ps.m = map[string]*prepared{}
	}
	if old := ps.m[string(h)]; old != nil {
		return old
	}
	w := weight(string(h), p)
	if len(ps.m) >= maxCachedPrepared || ps.bytes+w > maxCachedPreparedBytes {
		ps.evictLocked(w)
	}
	ps.seq++
	p.used = ps.seq
	ps.m[string(h)] = p
	ps.bytes += w
	return p
}

// evictLocked drops the least recently used tenth of the cache, or more
// until an entry of weight w fits its byte bound. Their bound batches are
// left to the garbage collector: a running call may still read the values.
func (ps *preparedStore) evictLocked(w int64) {
	type entry struct {
		h    string
		used uint64
	}
	byUse := make([]entry, 0, len(ps.m))
	for h, p := range ps.m {
		byUse = append(byUse, entry{h, p.used})
	}
	slices.SortFunc(byUse, func(a, b entry) int { return cmp.Compare(a.used, b.used) })
	for i, e := range byUse {
		if i >= len(byUse)/10 && ps.bytes+w <= maxCachedPreparedBytes*9/10 {
			break
		}
		ps.bytes -= weight(e.h, ps.m[e.h])
		delete(ps.m, e.h)
	}
}

func (ps *preparedStore) remove(h []byte) *prepared {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.m[string(h)]
	if p != nil {
		ps.bytes -= weight(string(h), p)
		delete(ps.m, string(h))
	}
	return p
}

// preparedFor redeems a handle for the caller: verified (NotFound when
// forged, altered, expired or another user's), from the cache or prepared
// again from the SQL, schema and bound parameters it carries.
func (s *Server) preparedFor(ctx context.Context, h []byte) (*prepared, handleData, error) {
	d, err := s.prepared.codec.decode(h, userOf(ctx))
	if err != nil {
		return nil, d, err
	}
	if p := s.prepared.lookup(h); p != nil {
		return p, d, nil
	}
	sess := s.eng.NewSession()
	sess.CurrentSchema = d.schema
	desc, err := s.eng.Prepare(ctx, sess, d.sql)
	if err != nil {
		return nil, d, err
	}
	p := &prepared{sql: d.sql, sess: sess, desc: desc}
	if d.params != nil {
		rows, batches, err := decodeParams(d.params, len(desc.Params), s.Alloc)
		if err != nil {
			return nil, d, err
		}
		var boundDesc *engine.Prepared
		if len(rows) == 1 && untypedParams(desc) {
			if boundDesc, err = s.prepareBound(ctx, p, rows[0]); err != nil {
				for _, b := range batches {
					b.Release()
				}
				return nil, d, err
			}
		}
		p.bind(rows, batches, boundDesc)
	}
	return s.prepared.put(h, p), d, nil
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
	h, err := s.prepared.codec.encode(handleData{user: userOf(ctx), schema: sess.CurrentSchema, sql: req.GetQuery()})
	if err != nil {
		return res, s.toStatus(err)
	}
	s.prepared.put(h, &prepared{sql: req.GetQuery(), sess: sess, desc: desc})
	isUpdate := desc.Schema == nil
	res.Handle = h
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

// ClosePreparedStatement forgets a handle's cache entry and its bound
// parameters on this node (the handle itself is self-contained: other
// nodes drop theirs when they evict it).
func (s *Server) ClosePreparedStatement(ctx context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	h := req.GetPreparedStatementHandle()
	if _, err := s.prepared.codec.decode(h, userOf(ctx)); err != nil {
		return s.toStatus(err)
	}
	if p := s.prepared.remove(h); p != nil {
		p.bind(nil, nil, nil)
	}
	return nil
}

// GetFlightInfoPreparedStatement describes a prepared query; the ticket is
// the command itself (the handle), redeemed by DoGetPreparedStatement.
func (s *Server) GetFlightInfoPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	p, _, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, s.toStatus(err)
	}
	if rows := p.bound(); len(rows) <= 1 {
		var params []scalar.Scalar
		if len(rows) == 1 {
			params = rows[0]
		}
		if info, ok, err := s.partitionedInfo(ctx, p.sess, p.sql, params, desc); ok || err != nil {
			return info, s.toStatus(err)
		}
	}
	return s.resultInfo(desc, desc.Cmd, resultSchema(p.describe())), nil
}

// GetSchemaPreparedStatement returns a prepared statement's result schema.
func (s *Server) GetSchemaPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	p, _, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(resultSchema(p.describe()), s.Alloc)}, nil
}

// DoGetPreparedStatement runs a prepared query with its bound parameters.
// A query takes at most one parameter row.
func (s *Server) DoGetPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	p, _, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
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
// batches) to a prepared statement and returns a new handle that carries
// them, so the execution may land on another node (clients that keep the
// old handle find the values bound to it on this node). A placeholder
// untyped by context (SELECT ?) takes its value's type: the FlightInfo and
// schema of the handle then report the bound types (the dataset_schema of
// CreatePreparedStatement had NULL for that column).
func (s *Server) DoPutPreparedStatementQuery(ctx context.Context, cmd flightsql.PreparedStatementQuery, rdr flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	p, d, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, s.toStatus(err)
	}
	rows, batches, err := readParams(rdr, len(p.desc.Params))
	if err != nil {
		return nil, s.toStatus(err)
	}
	release := func() {
		for _, b := range batches {
			b.Release()
		}
	}
	var boundDesc *engine.Prepared
	if len(rows) == 1 && untypedParams(p.desc) {
		if boundDesc, err = s.prepareBound(ctx, p, rows[0]); err != nil {
			release()
			return nil, s.toStatus(err)
		}
	}
	if d.params, err = encodeParams(batches); err != nil {
		release()
		return nil, s.toStatus(err)
	}
	h, err := s.prepared.codec.encode(d)
	if err != nil {
		release()
		return nil, s.toStatus(err)
	}
	for _, b := range batches {
		b.Retain() // one reference for each handle's entry
	}
	s.prepared.put(h, &prepared{sql: p.sql, sess: p.sess, desc: p.desc}).bind(rows, batches, boundDesc)
	p.bind(rows, batches, boundDesc)
	return h, nil
}

// DoPutPreparedStatementUpdate runs a prepared DDL/DML statement once per
// parameter row sent with the call (or with the rows bound before, or once
// without parameters) and returns the total affected rows. A prepared
// INSERT … VALUES runs once over all the call's rows (Engine.InsertBatch).
func (s *Server) DoPutPreparedStatementUpdate(ctx context.Context, cmd flightsql.PreparedStatementUpdate, rdr flight.MessageReader) (int64, error) {
	p, _, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return 0, s.toStatus(err)
	}
	batches, err := readParamBatches(rdr, len(p.desc.Params))
	if err != nil {
		return 0, s.toStatus(err)
	}
	defer releaseBatches(batches)
	if bi, can := s.eng.(batchInserter); can && len(batches) > 0 {
		// An INSERT … VALUES runs once over all the rows of the call: one
		// commit, all rows or none (executeBatch and executemany are atomic).
		n, ok, err := bi.InsertBatch(ctx, p.sess, p.sql, batches)
		if ok {
			if err != nil {
				return 0, s.toStatus(err)
			}
			return n, nil
		}
	}
	rows, err := paramRows(batches)
	if err != nil {
		return 0, s.toStatus(err)
	}
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

// batchInserter is the Engine's optional one-commit path for a prepared
// INSERT … VALUES run over many parameter rows (*engine.Engine has it).
type batchInserter interface {
	InsertBatch(ctx context.Context, s *engine.Session, sql string, params []arrow.RecordBatch) (int64, bool, error)
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
