package server

import (
	"bytes"
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quiverdb/quiver/engine"
)

// GetFlightInfoStatement describes a query without running it; the ticket
// carries the SQL and session so DoGetStatement can run it anywhere.
func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	id, sess := s.session(ctx)
	if info, ok, err := s.partitionedInfo(ctx, sess, cmd.GetQuery(), nil, desc); ok || err != nil {
		return info, s.toStatus(err)
	}
	p, err := s.eng.Prepare(ctx, sess, cmd.GetQuery())
	if err != nil {
		return nil, s.toStatus(err)
	}
	body, err := encodeTicket(statementTicket{SQL: cmd.GetQuery(), Session: id, Schema: sess.CurrentSchema})
	if err != nil {
		return nil, s.toStatus(err)
	}
	tkt, err := flightsql.CreateStatementQueryTicket(body)
	if err != nil {
		return nil, s.toStatus(err)
	}
	return s.resultInfo(desc, tkt, resultSchema(p)), nil
}

// GetSchemaStatement returns a query's result schema.
func (s *Server) GetSchemaStatement(ctx context.Context, cmd flightsql.StatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	_, sess := s.session(ctx)
	p, err := s.eng.Prepare(ctx, sess, cmd.GetQuery())
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(resultSchema(p), s.Alloc)}, nil
}

// DoGetStatement runs the query a ticket names and streams its result.
func (s *Server) DoGetStatement(ctx context.Context, cmd flightsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if id, ok := bytes.CutPrefix(cmd.GetStatementHandle(), pollMagic); ok {
		return s.doGetPoll(ctx, string(id))
	}
	if bytes.HasPrefix(cmd.GetStatementHandle(), partitionMagic) {
		return s.doGetPartition(ctx, cmd.GetStatementHandle())
	}
	t, err := decodeTicket(cmd.GetStatementHandle())
	if err != nil {
		return nil, nil, s.toStatus(err)
	}
	sess := s.ticketSession(t)
	res, err := s.eng.Execute(ctx, sess, t.SQL, nil)
	if err != nil {
		return nil, nil, s.toStatus(err)
	}
	return s.streamResult(ctx, res)
}

// ticketSession finds the session a ticket was issued in; an unnamed one,
// or one this node does not know (the ticket came from another node), is
// recreated at the schema it was positioned on.
func (s *Server) ticketSession(t statementTicket) *engine.Session {
	fresh := func() *engine.Session {
		sess := s.eng.NewSession()
		if t.Schema != "" {
			sess.CurrentSchema = t.Schema
		}
		return sess
	}
	if t.Session != "" {
		return s.sessions.get(t.Session, fresh)
	}
	return fresh()
}

// DoPutCommandStatementUpdate runs a DDL/DML statement and reports the
// affected rows (a query's rows are discarded).
func (s *Server) DoPutCommandStatementUpdate(ctx context.Context, cmd flightsql.StatementUpdate) (int64, error) {
	_, sess := s.session(ctx)
	n, err := s.executeUpdate(ctx, sess, cmd.GetQuery(), nil)
	return n, s.toStatus(err)
}

func (s *Server) flightInfo(desc *flight.FlightDescriptor, ticket []byte, schema *arrow.Schema) *flight.FlightInfo {
	return &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: ticket}}},
		FlightDescriptor: desc,
		Schema:           flight.SerializeSchema(schema, s.Alloc),
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
}
