package lbproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// backend is a Flight service that names itself in what it answers.
type backend struct {
	flight.BaseFlightServer
	name string
}

func (b *backend) DoAction(a *flight.Action, st flight.FlightService_DoActionServer) error {
	md, _ := metadata.FromIncomingContext(st.Context())
	st.SetHeader(metadata.Pairs("x-backend", b.name))
	st.SetTrailer(metadata.Pairs("x-trailer", b.name))
	if a.Type == "fail" {
		return status.Error(codes.NotFound, "nope from "+b.name)
	}
	for i := range 2 {
		body := fmt.Sprintf("%s:%s:%s:%d", b.name, a.Body, md.Get("x-in"), i)
		if err := st.Send(&flight.Result{Body: []byte(body)}); err != nil {
			return err
		}
	}
	return nil
}

// DoPut counts the client's messages (client streaming).
func (b *backend) DoPut(st flight.FlightService_DoPutServer) error {
	n := 0
	for {
		_, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return st.Send(&flight.PutResult{AppMetadata: []byte(fmt.Sprintf("%s:%d", b.name, n))})
		}
		if err != nil {
			return err
		}
		n++
	}
}

func startBackend(t *testing.T, name string) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	flight.RegisterFlightServiceServer(s, &backend{name: name})
	go s.Serve(lis) //nolint:errcheck
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// TestProxyRoundRobin: calls alternate between backends; messages, headers,
// trailers and error statuses pass unchanged both ways; client streams
// arrive whole; Calls records each call's backend and command.
func TestProxyRoundRobin(t *testing.T) {
	p, err := New("127.0.0.1:0", []string{startBackend(t, "a"), startBackend(t, "b")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	conn, err := grpc.NewClient(p.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cl := flight.NewFlightServiceClient(conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-in", "hi")
	for i, want := range []string{"a", "b", "a"} {
		var hdr, trl metadata.MD
		st, err := cl.DoAction(ctx, &flight.Action{Type: "echo", Body: []byte(fmt.Sprint(i))}, grpc.Header(&hdr), grpc.Trailer(&trl))
		if err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for {
			r, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, string(r.Body))
		}
		exp := []string{fmt.Sprintf("%s:%d:[hi]:0", want, i), fmt.Sprintf("%s:%d:[hi]:1", want, i)}
		if fmt.Sprint(bodies) != fmt.Sprint(exp) || fmt.Sprint(hdr.Get("x-backend")) != "["+want+"]" ||
			fmt.Sprint(trl.Get("x-trailer")) != "["+want+"]" {
			t.Fatalf("call %d: bodies %v headers %v trailers %v, want backend %s", i, bodies, hdr, trl, want)
		}
	}
	// An error keeps its code and message (and trailers).
	var trl metadata.MD
	st, _ := cl.DoAction(ctx, &flight.Action{Type: "fail"}, grpc.Trailer(&trl))
	_, err = st.Recv()
	if status.Code(err) != codes.NotFound || status.Convert(err).Message() != "nope from b" || len(trl.Get("x-trailer")) != 1 {
		t.Fatalf("error through the proxy: %v (trailers %v)", err, trl)
	}
	// A client stream arrives whole.
	put, err := cl.DoPut(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := put.Send(&flight.FlightData{DataBody: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	put.CloseSend()
	res, err := put.Recv()
	if err != nil || string(res.AppMetadata) != "a:5" {
		t.Fatalf("DoPut through the proxy: %v %v", res, err)
	}
	if c := p.Counts(); c[0] != 3 || c[1] != 2 {
		t.Fatalf("counts %v, want [3 2]", c)
	}
	if calls := p.Calls(); calls[0].Command != "echo" || calls[3].Command != "fail" || calls[4].Method != "/arrow.flight.protocol.FlightService/DoPut" {
		t.Fatalf("calls %+v", calls)
	}
}
