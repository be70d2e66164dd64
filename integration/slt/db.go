package slt

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/server"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// EngineDB runs statements in-process through the engine API, in one session.
type EngineDB struct {
	Engine  *engine.Engine
	Session *engine.Session
}

func (d *EngineDB) Run(ctx context.Context, sql string) (*arrow.Schema, []arrow.RecordBatch, error) {
	res, err := d.Engine.Execute(ctx, d.Session, sql, nil)
	if err != nil {
		return nil, nil, err
	}
	if res.Stream == nil {
		return nil, nil, nil
	}
	defer res.Stream.Close()
	var out []arrow.RecordBatch
	for {
		b, err := res.Stream.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			release(out)
			return nil, nil, err
		}
		out = append(out, b)
	}
	schema := res.Schema
	if schema == nil {
		schema = res.Stream.Schema()
	}
	return schema, out, nil
}

// FlightDB runs statements through a Flight SQL server the way JDBC does:
// prepare, then an update when the dataset schema is empty, else a query.
// Session names the server-side session (see server.SessionHeader).
type FlightDB struct {
	Client  *flightsql.Client
	Session string
}

func (d *FlightDB) Run(ctx context.Context, sql string) (*arrow.Schema, []arrow.RecordBatch, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, server.SessionHeader, d.Session)
	prep, err := d.Client.Prepare(ctx, sql)
	if err != nil {
		return nil, nil, statusErr(err)
	}
	defer prep.Close(ctx)
	if ds := prep.DatasetSchema(); ds == nil || ds.NumFields() == 0 {
		_, err := prep.ExecuteUpdate(ctx)
		return nil, nil, statusErr(err)
	}
	info, err := prep.Execute(ctx)
	if err != nil {
		return nil, nil, statusErr(err)
	}
	var (
		out    []arrow.RecordBatch
		schema = prep.DatasetSchema()
	)
	for _, ep := range info.Endpoint {
		rdr, err := d.Client.DoGet(ctx, ep.Ticket)
		if err != nil {
			release(out)
			return nil, nil, statusErr(err)
		}
		schema = rdr.Schema()
		for rdr.Next() {
			b := rdr.RecordBatch()
			b.Retain()
			out = append(out, b)
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			release(out)
			return nil, nil, statusErr(err)
		}
	}
	return schema, out, nil
}

// statusErr keeps the server's message (what error regexes match) and code.
func statusErr(err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return fmt.Errorf("%s (%s)", st.Message(), st.Code())
	}
	return err
}

func release(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}
