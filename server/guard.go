package server

import (
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/quiverdb/quiver/qerr"
)

// guardedService checks what arrow-go's Flight SQL router
// (flightsql.NewFlightServer) takes for granted before it reads it: a
// DoPut whose first message has no FlightDescriptor made it dereference nil.
type guardedService struct {
	flight.FlightServer
	s *Server
}

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
	return g.FlightServer.DoPut(&peekedPut{FlightService_DoPutServer: stream, first: first})
}

// peekedPut gives the router back the message guardedService read.
type peekedPut struct {
	flight.FlightService_DoPutServer
	first *flight.FlightData
}

func (p *peekedPut) Recv() (*flight.FlightData, error) {
	if d := p.first; d != nil {
		p.first = nil
		return d, nil
	}
	return p.FlightService_DoPutServer.Recv()
}
