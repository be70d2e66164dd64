package server

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/qerr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// fuzzEngine is the fake engine without its statements that block or
// panic on purpose.
type fuzzEngine struct{ *fakeEngine }

func deliberate(sql string) error {
	if sql == "hang" || sql == "wait" || sql == "panic" {
		return qerr.New(qerr.NotFound, "no %s while fuzzing", sql)
	}
	// "select N" streams N rows: keep N small.
	if n, ok := strings.CutPrefix(sql, "select "); ok && len(n) > 4 {
		return qerr.New(qerr.InvalidArgument, "no large results while fuzzing")
	}
	return nil
}

func (f fuzzEngine) Prepare(ctx context.Context, s *engine.Session, sql string) (*engine.Prepared, error) {
	if err := deliberate(sql); err != nil {
		return nil, err
	}
	return f.fakeEngine.Prepare(ctx, s, sql)
}

func (f fuzzEngine) Execute(ctx context.Context, s *engine.Session, sql string, params []scalar.Scalar) (*engine.Result, error) {
	if err := deliberate(sql); err != nil {
		return nil, err
	}
	return f.fakeEngine.Execute(ctx, s, sql, params)
}

// fakeStream is the server side of a streaming call: it discards what the
// handler sends and replays in.
type fakeServerStream struct {
	grpc.ServerStream
	ctx context.Context
	in  []*flight.FlightData
}

func (f *fakeServerStream) Context() context.Context    { return f.ctx }
func (f *fakeServerStream) Send(any) error              { return nil }
func (f *fakeServerStream) SendMsg(any) error           { return nil }
func (f *fakeServerStream) SetHeader(metadata.MD) error { return nil }
func (f *fakeServerStream) Recv() (*flight.FlightData, error) {
	if len(f.in) == 0 {
		return nil, io.EOF
	}
	d := f.in[0]
	f.in = f.in[1:]
	return d, nil
}

type doGetStream struct{ *fakeServerStream }

func (doGetStream) Send(*flight.FlightData) error { return nil }

type doActionStream struct{ *fakeServerStream }

func (doActionStream) Send(*pb.Result) error { return nil }

type doPutStream struct{ *fakeServerStream }

func (doPutStream) Send(*pb.PutResult) error { return nil }

var fuzzActions = []string{
	flightsql.CreatePreparedStatementActionType, flightsql.ClosePreparedStatementActionType,
	flightsql.CreatePreparedSubstraitPlanActionType, flightsql.BeginTransactionActionType,
	flightsql.EndTransactionActionType, flightsql.BeginSavepointActionType, flightsql.EndSavepointActionType,
	flightsql.CancelQueryActionType, flight.CancelFlightInfoActionType, flight.RenewFlightEndpointActionType,
	flight.SetSessionOptionsActionType, flight.GetSessionOptionsActionType, flight.CloseSessionActionType,
	"NoSuchAction",
}

// FuzzFlightCommand: whatever bytes a client puts in a descriptor command
// (GetFlightInfo, GetSchema, PollFlightInfo, DoPut), a ticket (DoGet), an
// action body (every action type), or the IPC header of a DoPut message,
// the Flight SQL service (arrow-go's router plus this server, called
// directly, without the gRPC recovery interceptor) does not panic and
// answers with a status a client can act on, never Internal or Unknown.
// Seeds: valid commands here, and testdata/fuzz/FuzzFlightCommand (inputs
// that crashed before: a DoPut without descriptor).
func FuzzFlightCommand(f *testing.F) {
	anyOf := func(m proto.Message) []byte {
		a, _ := anypb.New(m)
		b, _ := proto.Marshal(a)
		return b
	}
	for kind := range uint8(8) {
		f.Add(kind, anyOf(&pb.CommandStatementQuery{Query: "select 3"}))
		f.Add(kind, anyOf(&pb.CommandGetTables{TableNameFilterPattern: proto.String("%a_\\")}))
		f.Add(kind, anyOf(&pb.TicketStatementQuery{StatementHandle: []byte(`QVT1:{"sql":"select 2"}`)}))
		f.Add(kind, anyOf(&pb.ActionCreatePreparedStatementRequest{Query: "insert ?"}))
		f.Add(kind, anyOf(&pb.CommandStatementIngest{Table: "t"}))
		f.Add(kind, []byte("garbage"))
	}
	// A parameter schema nested deeper than maxSchemaDepth.
	deep := arrow.DataType(arrow.PrimitiveTypes.Int64)
	for range maxSchemaDepth + 10 {
		deep = arrow.StructOf(arrow.Field{Name: "x", Type: deep})
	}
	var c capture
	w := flight.NewRecordWriter(&c, ipc.WithSchema(arrow.NewSchema([]arrow.Field{{Name: "p", Type: deep}}, nil)))
	w.Close()
	f.Add(uint8(6), c.msgs[0].DataHeader)
	mem := memory.NewGoAllocator()
	s, err := New(Config{Engine: fuzzEngine{&fakeEngine{mem: mem}}, Catalog: fakeCatalog{}, Alloc: mem})
	if err != nil {
		f.Fatal(err)
	}
	svc := guardedService{FlightServer: flightsql.NewFlightServer(s), s: s}
	prep, err := s.CreatePreparedStatement(context.Background(), &pb.ActionCreatePreparedStatementRequest{Query: "insert ?"})
	if err != nil {
		f.Fatal(err)
	}
	bindCmd := anyOf(&pb.CommandPreparedStatementQuery{PreparedStatementHandle: prep.Handle})
	f.Fuzz(func(t *testing.T, kind uint8, payload []byte) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stream := &fakeServerStream{ctx: ctx}
		desc := &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: payload}
		var err error
		switch kind % 8 {
		case 0:
			_, err = svc.GetFlightInfo(ctx, desc)
		case 1:
			_, err = svc.GetSchema(ctx, desc)
		case 2:
			_, err = svc.PollFlightInfo(ctx, desc)
		case 3:
			err = svc.DoGet(&flight.Ticket{Ticket: payload}, doGetStream{stream})
		case 4:
			typ, body := "", payload
			if len(payload) > 0 {
				typ, body = fuzzActions[int(payload[0])%len(fuzzActions)], payload[1:]
			}
			err = svc.DoAction(&flight.Action{Type: typ, Body: body}, doActionStream{stream})
		case 5: // command of a DoPut
			stream.in = []*flight.FlightData{{FlightDescriptor: desc}}
			err = svc.DoPut(doPutStream{stream})
		case 6: // IPC header of a parameter binding
			stream.in = []*flight.FlightData{{FlightDescriptor: &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: bindCmd},
				DataHeader: payload}}
			err = svc.DoPut(doPutStream{stream})
		case 7: // a DoPut whose first message has no descriptor
			stream.in = []*flight.FlightData{{DataHeader: payload}}
			err = svc.DoPut(doPutStream{stream})
		}
		if err == nil || errors.Is(err, io.EOF) {
			return
		}
		st, ok := status.FromError(err)
		if !ok {
			t.Fatalf("kind %d %q: not a status: %v", kind%8, payload, err)
		}
		if c := st.Code(); c == codes.Internal || c == codes.Unknown || strings.TrimSpace(st.Message()) == "" {
			t.Fatalf("kind %d %q: %v", kind%8, payload, err)
		}
	})
}
