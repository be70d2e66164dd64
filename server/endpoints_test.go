package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func TestEndpointURI(t *testing.T) {
	for _, c := range []struct {
		addr string
		tls  bool
		want string
	}{
		{"127.0.0.1:32010", false, "grpc+tcp://127.0.0.1:32010"},
		{"db.example.com:443", true, "grpc+tls://db.example.com:443"},
		{"[::1]:32010", true, "grpc+tls://[::1]:32010"},
		{"0.0.0.0:32010", false, ""},
		{"[::]:32010", true, ""},
		{":32010", false, ""},
		{"nohostport", false, ""},
	} {
		got, err := EndpointURI(c.addr, c.tls)
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("EndpointURI(%q, %v) = %q, %v; want %q", c.addr, c.tls, got, err, c.want)
		}
	}
	if _, err := New(Config{Engine: &fakeEngine{}, EndpointAddr: "0.0.0.0:1"}); err == nil {
		t.Error("New accepted an unspecified endpoint host")
	}
	s, err := New(Config{Engine: &fakeEngine{}, EndpointAddr: "127.0.0.1:1", TLS: &tls.Config{}})
	if err != nil || s.location != "grpc+tls://127.0.0.1:1" {
		t.Errorf("TLS server location %q, %v", s.location, err)
	}
}

// With EndpointAddr, statement, prepared-statement and poll results are
// located at the node (and still readable there); metadata results and a
// default server's results have no location.
func TestAdvertisedEndpoints(t *testing.T) {
	locations := func(info *flight.FlightInfo) []string {
		var out []string
		for _, ep := range info.Endpoint {
			for _, l := range ep.Location {
				out = append(out, l.Uri)
			}
		}
		return out
	}
	for _, advertise := range []bool{false, true} {
		f := &fakeEngine{mem: memory.DefaultAllocator}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Engine: f, Catalog: fakeCatalog{}}
		want := ""
		if advertise {
			cfg.EndpointAddr = lis.Addr().String()
			want = "grpc+tcp://" + lis.Addr().String()
		}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx, lis, time.Second) }()
		cl, err := flightsql.NewClient(lis.Addr().String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, info *flight.FlightInfo, want string) {
			t.Helper()
			got := locations(info)
			if want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
				t.Errorf("advertise=%v %s: locations %v, want %q", advertise, what, got, want)
			}
		}
		bg := context.Background()
		info, err := cl.Execute(bg, "select 3")
		if err != nil {
			t.Fatal(err)
		}
		check("statement", info, want)
		if vals, _ := fetch(t, cl, info); len(vals) != 3 {
			t.Errorf("statement rows %v", vals)
		}
		ps, err := cl.Prepare(bg, "select 2")
		if err != nil {
			t.Fatal(err)
		}
		if info, err = ps.Execute(bg); err != nil {
			t.Fatal(err)
		}
		check("prepared statement", info, want)
		poll, err := cl.ExecutePoll(bg, "select 4", nil)
		if err != nil {
			t.Fatal(err)
		}
		check("poll", poll.GetInfo(), want)
		if vals, _ := fetch(t, cl, poll.GetInfo()); len(vals) != 4 {
			t.Errorf("poll rows %v", vals)
		}
		ps.Close(bg)
		if info, err = cl.GetCatalogs(bg); err != nil {
			t.Fatal(err)
		}
		check("GetCatalogs", info, "")
		cl.Close()
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// Partition tickets: signed (a ticket of another key, altered or cut
// short is InvalidArgument), bound to the user (PermissionDenied) and to
// the result's lifetime (expired: InvalidArgument saying so).
func TestPartitionTicket(t *testing.T) {
	c := newPartitionCodec([]byte("cluster secret"))
	now := time.Unix(1_800_000_000, 0)
	c.now = func() time.Time { return now }
	want := partitionTicket{Query: "n1/q7", Coordinator: "n1", CoordinatorAddr: "10.0.0.1:32011", Partition: 3, User: "alice", Expiry: now.Unix() + 60}
	tk, err := c.encode(want)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.decode(tk, "alice"); err != nil || got != want {
		t.Fatalf("decode = %+v, %v", got, err)
	}
	if got, err := newPartitionCodec([]byte("cluster secret")).decode(tk, "alice"); err != nil || got != want {
		t.Errorf("another node with the same secret: %+v, %v", got, err)
	}
	kind := func(err error) qerr.Kind { return qerr.KindOf(err) }
	altered := bytes.Replace(tk, []byte(`"p":3`), []byte(`"p":4`), 1)
	for name, b := range map[string][]byte{
		"altered":      altered,
		"truncated":    tk[:len(tk)-1],
		"empty":        nil,
		"magic only":   partitionMagic,
		"other secret": must(newPartitionCodec([]byte("other")).encode(want)),
	} {
		if _, err := c.decode(b, "alice"); kind(err) != qerr.InvalidArgument {
			t.Errorf("%s ticket: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := c.decode(tk, "bob"); kind(err) != qerr.PermissionDenied {
		t.Errorf("another user's ticket: %v, want PermissionDenied", err)
	}
	now = now.Add(time.Minute)
	if _, err := c.decode(tk, "alice"); kind(err) != qerr.InvalidArgument || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired ticket: %v", err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
