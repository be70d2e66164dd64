package server

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow/flight"
	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/quiverdb/quiver/qerr"
)

// guardedService checks what arrow-go's Flight SQL router
// (flightsql.NewFlightServer) takes for granted before it reads it: a
// DoPut whose first message has no FlightDescriptor made it dereference nil.
type guardedService struct {
	flight.FlightServer
	s *Server
}

// DoGet runs the handler with an afterGet in its context and runs it when
// the handler returned (see stream.go).
func (g guardedService) DoGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	a := &afterGet{}
	defer a.run()
	return g.FlightServer.DoGet(t, getStream{stream, context.WithValue(stream.Context(), afterGetKey{}, a)})
}

type getStream struct {
	flight.FlightService_DoGetServer
	ctx context.Context
}

func (s getStream) Context() context.Context { return s.ctx }

func (g guardedService) DoPut(stream flight.FlightService_DoPutServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return g.s.toStatus(qerr.New(qerr.InvalidArgument,
			"DoPut: the client sent nothing; a Flight SQL DoPut starts with a FlightDescriptor naming the command"))
	}
	if err != nil {
		return err
	}
	if first.GetFlightDescriptor() == nil {
		return g.s.toStatus(qerr.New(qerr.InvalidArgument,
			"DoPut: the first message carries no FlightDescriptor; a Flight SQL DoPut names its command there"))
	}
	return g.FlightServer.DoPut(&peekedPut{FlightService_DoPutServer: stream, first: first, nodes: -1})
}

// peekedPut gives the router back the message guardedService read, and
// checks each record batch against the stream's schema: arrow-go's IPC
// reader ignores the extra columns of a batch wider than its schema, so
// bound parameters or ingested rows would silently lose values.
type peekedPut struct {
	flight.FlightService_DoPutServer
	first *flight.FlightData
	nodes int // field nodes of a batch of the stream's schema; -1 before it
}

func (p *peekedPut) Recv() (*flight.FlightData, error) {
	d := p.first
	p.first = nil
	if d == nil {
		var err error
		if d, err = p.FlightService_DoPutServer.Recv(); err != nil {
			return nil, err
		}
	}
	return p.check(d)
}

func (p *peekedPut) check(d *flight.FlightData) (*flight.FlightData, error) {
	if len(d.DataHeader) == 0 {
		return d, nil
	}
	switch kind, nodes, err := ipcShape(d.DataHeader); {
	case err != nil:
		return nil, err
	case kind == ipcSchema:
		p.nodes = nodes
	case kind == ipcRecordBatch && p.nodes >= 0 && nodes != p.nodes:
		return nil, qerr.New(qerr.InvalidArgument,
			"IPC record batch with %d field nodes, its schema has %d: the batch does not match the stream's schema", nodes, p.nodes)
	}
	return d, nil
}

// Arrow IPC message header types (Message.fbs MessageHeader).
const (
	ipcSchema      = 1
	ipcRecordBatch = 3
	// maxSchemaDepth bounds the nesting of a client's schema (the IPC
	// reader recurses per level).
	maxSchemaDepth = 64
)

// ipcShape reads an IPC message header (Message.fbs): its type and, for a
// schema, how many field nodes its record batches have (one per field and
// nested child; one for a dictionary-encoded field), for a record batch how
// many it has. What it cannot read is left to the IPC reader (kind 0).
func ipcShape(header []byte) (kind byte, nodes int, err error) {
	defer func() {
		if recover() != nil { // out-of-range offsets: not a valid header
			kind, nodes, err = 0, 0, nil
		}
	}()
	if len(header) < 8 {
		return 0, 0, nil
	}
	msg := flatbuffers.Table{Bytes: header, Pos: flatbuffers.GetUOffsetT(header)}
	typeOff, headerOff := msg.Offset(fbSlot(1)), msg.Offset(fbSlot(2))
	if typeOff == 0 || headerOff == 0 {
		return 0, 0, nil
	}
	kind = msg.GetByte(msg.Pos + flatbuffers.UOffsetT(typeOff))
	var h flatbuffers.Table
	msg.Union(&h, flatbuffers.UOffsetT(headerOff))
	switch kind {
	case ipcSchema: // fields: slot 1
		n, ok := countNodes(&h, 1, 0)
		if !ok {
			return 0, 0, qerr.New(qerr.InvalidArgument, "schema nested more than %d levels deep", maxSchemaDepth)
		}
		return kind, n, nil
	case ipcRecordBatch: // nodes: slot 1
		if o := h.Offset(fbSlot(1)); o != 0 {
			return kind, h.VectorLen(flatbuffers.UOffsetT(o)), nil
		}
		return kind, 0, nil
	}
	return 0, 0, nil
}

func fbSlot(id int) flatbuffers.VOffsetT { return flatbuffers.VOffsetT(4 + 2*id) }

// countNodes counts the field nodes of the Field vector in slot of t.
func countNodes(t *flatbuffers.Table, slot, depth int) (int, bool) {
	if depth > maxSchemaDepth {
		return 0, false
	}
	o := t.Offset(fbSlot(slot))
	if o == 0 {
		return 0, true
	}
	n, start := t.VectorLen(flatbuffers.UOffsetT(o)), t.Vector(flatbuffers.UOffsetT(o))
	total := 0
	for i := range n {
		f := flatbuffers.Table{Bytes: t.Bytes}
		f.Pos = t.Indirect(start + flatbuffers.UOffsetT(i*flatbuffers.SizeUOffsetT))
		total++
		if f.Offset(fbSlot(4)) != 0 { // dictionary-encoded: the indices' node only
			continue
		}
		c, ok := countNodes(&f, 5, depth+1) // children
		if !ok {
			return 0, false
		}
		total += c
	}
	return total, true
}
