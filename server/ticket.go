package server

import (
	"bytes"
	"encoding/json"

	"github.com/quiverdb/quiver/qerr"
)

// A statement ticket is what GetFlightInfoStatement hands out and
// DoGetStatement redeems: the SQL and the session it runs in, so any node
// can execute it without server-side state. Layout: magic+version prefix,
// then JSON. Unknown versions and malformed bodies are rejected.
var ticketMagic = []byte("QVT1:")

type statementTicket struct {
	SQL     string `json:"sql"`
	Session string `json:"session,omitempty"` // x-quiver-session id; "" = fresh session
	Schema  string `json:"schema,omitempty"`  // current schema when the ticket was made
}

func encodeTicket(t statementTicket) ([]byte, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "encode ticket")
	}
	return append(append([]byte{}, ticketMagic...), body...), nil
}

func decodeTicket(b []byte) (statementTicket, error) {
	var t statementTicket
	body, ok := bytes.CutPrefix(b, ticketMagic)
	if !ok {
		return t, qerr.New(qerr.InvalidArgument, "invalid statement ticket: unknown format or version")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return t, qerr.New(qerr.InvalidArgument, "invalid statement ticket: %v", err)
	}
	if t.SQL == "" {
		return t, qerr.New(qerr.InvalidArgument, "invalid statement ticket: empty query")
	}
	return t, nil
}
