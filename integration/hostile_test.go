package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestHostileClients is a robustness campaign against a real `quiver serve`:
// clients that send garbage, abuse DoPut, or hoard resources. Each scenario
// checks that every call gets a clear error (never Internal/Unknown, never
// a panic in the log), and afterwards that the server still answers a
// normal query correctly and that its goroutines and Go heap are back near
// the baseline (read from the QUIVER_DEBUG_ADDR endpoint, after a GC).
func TestHostileClients(t *testing.T) {
	bin := buildQuiver(t)
	data := t.TempDir()
	copyTree(t, sf001, data)
	h := startHostile(t, bin, "--data", data, "--default-schema", "tpch", "--query-timeout", "8s")
	h.healthy(t)
	base := h.stats(t)
	t.Logf("baseline: %+v", base)

	scenario := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			f(t)
			h.healthy(t)
			h.settle(t, base)
			h.noPanics(t)
		})
	}
	scenario("garbage", h.garbage)
	scenario("doput", func(t *testing.T) { h.doPutAbuse(t, data) })
	scenario("unread-streams", h.unreadStreams)
	scenario("vanishing-client", h.vanishingClient)
	scenario("unread-polls", h.unreadPolls)
	scenario("hoarding", h.hoarding)
	scenario("huge-sql", h.hugeSQL)
}

// hostile is a `quiver serve` under attack and the means to watch it.
type hostile struct {
	p      *process
	debug  string // debug endpoint address
	stderr *lockedBuffer
	raw    flight.Client
	cl     *flightsql.Client
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startHostile(t *testing.T, bin string, args ...string) *hostile {
	t.Helper()
	h := &hostile{debug: freeAddr(t), stderr: &lockedBuffer{}}
	p := &process{addr: freeAddr(t), exited: make(chan error, 1), stderr: &strings.Builder{}}
	p.cmd = dieWithTest(exec.Command(bin, append([]string{"serve", "--listen", p.addr, "--log-level", "warn"}, args...)...))
	p.cmd.Env = append(os.Environ(), "QUIVER_DEBUG_ADDR="+h.debug)
	p.cmd.Stderr = h.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { p.stop(t, syscall.SIGKILL) })
	if err := waitListening(p.addr, p.exited); err != nil {
		t.Fatalf("%v\nserver output:\n%s", err, h.stderr.String())
	}
	h.p = p
	var err error
	h.raw, err = flight.NewClientWithMiddleware(p.addr, nil, nil,
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.raw.Close() })
	h.cl = dial(t, p.addr)
	t.Cleanup(func() { h.cl.Close() })
	return h
}

// debugStats is what the server's debug endpoint reports.
type debugStats struct {
	Goroutines int64 `json:"goroutines"`
	HeapAlloc  int64 `json:"heap_alloc"`
}

func (h *hostile) stats(t *testing.T) debugStats {
	t.Helper()
	resp, err := http.Get("http://" + h.debug + "/debug/quiver")
	if err != nil {
		t.Fatalf("debug endpoint: %v", err)
	}
	defer resp.Body.Close()
	var s debugStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("debug endpoint: %v", err)
	}
	return s
}

// rss is the server process's resident set size in bytes.
func (h *hostile) rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// Slack over the baseline: a few goroutines per client connection the test
// keeps open, and caches that warm up: parquet metadata, and the prepared
// statement handle cache (up to 64 MiB, server.maxCachedPreparedBytes).
const (
	goroutineSlack = 15
	heapSlack      = (64 + 32) << 20
)

// settle waits (generously: streams end when their context does) until the
// server's goroutines and heap are back near base; else it fails with the
// goroutine dump.
func (h *hostile) settle(t *testing.T, base debugStats) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	var s debugStats
	for {
		s = h.stats(t)
		if s.Goroutines <= base.Goroutines+goroutineSlack && s.HeapAlloc <= base.HeapAlloc+heapSlack {
			t.Logf("settled in %v: %+v", time.Since(start).Round(time.Millisecond), s)
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	resp, err := http.Get("http://" + h.debug + "/debug/pprof/goroutine?debug=1")
	var dump []byte
	if err == nil {
		dump, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	t.Fatalf("server did not return to baseline %+v: %+v\n%s", base, s, dump)
}

// healthy: a normal query still gets the right answer.
func (h *hostile) healthy(t *testing.T) {
	t.Helper()
	cl := dial(t, h.p.addr)
	defer cl.Close()
	rows, err := fetchAll(cl, "SELECT COUNT(*), SUM(n_regionkey) FROM nation")
	if err != nil {
		t.Fatalf("normal query after the scenario: %v\n%s", err, h.stderr.String())
	}
	if got := joinRows(rows); got != "25|50" {
		t.Fatalf("normal query after the scenario: %q, want 25|50", got)
	}
}

// noPanics: the server logged no panic and no internal error.
func (h *hostile) noPanics(t *testing.T) {
	t.Helper()
	log := h.stderr.String()
	for _, bad := range []string{"panic", "internal error", "DATA RACE"} {
		if strings.Contains(log, bad) {
			t.Fatalf("server log has %q:\n%s", bad, log)
		}
	}
}

// clearError fails unless err is nil or a status with a code a client can
// act on and a message.
func clearError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || errors.Is(err, io.EOF) {
		return
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Errorf("%s: not a gRPC status: %v", what, err)
		return
	}
	switch st.Code() {
	case codes.InvalidArgument, codes.NotFound, codes.Unimplemented, codes.AlreadyExists,
		codes.FailedPrecondition, codes.ResourceExhausted, codes.DeadlineExceeded, codes.Canceled:
		if strings.TrimSpace(st.Message()) == "" {
			t.Errorf("%s: %v without a message", what, st.Code())
		}
	default:
		t.Errorf("%s: %v: %s", what, st.Code(), st.Message())
	}
}

func anyOf(t *testing.T, m proto.Message) []byte {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func anyRaw(url string, value []byte) []byte {
	b, _ := proto.Marshal(&anypb.Any{TypeUrl: url, Value: value})
	return b
}

// garbageCorpus is a fixed list of malformed payloads plus mutations of
// valid ones (seeded, so a failure reproduces).
func (h *hostile) garbageCorpus(t *testing.T) [][]byte {
	ctx := context.Background()
	prep, err := h.cl.Prepare(ctx, "SELECT n_name FROM nation WHERE n_nationkey = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer prep.Close(ctx)
	info, err := h.cl.Execute(ctx, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	valid := [][]byte{
		anyOf(t, &pb.CommandStatementQuery{Query: "SELECT 1"}),
		anyOf(t, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: prep.Handle()}),
		anyOf(t, &pb.CommandGetTables{DbSchemaFilterPattern: proto.String("tp%")}),
		anyOf(t, &pb.CommandGetSqlInfo{Info: []uint32{0, 1}}),
		anyOf(t, &pb.ActionCreatePreparedStatementRequest{Query: "SELECT 1"}),
		anyOf(t, &pb.ActionClosePreparedStatementRequest{PreparedStatementHandle: prep.Handle()}),
		info.Endpoint[0].Ticket.Ticket,
	}
	const typePrefix = "type.googleapis.com/arrow.flight.protocol.sql."
	corpus := [][]byte{
		nil,
		{},
		[]byte("garbage"),
		{0xff, 0x00, 0x13},
		{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, // length far past the end
		anyRaw("", nil),
		anyRaw("nonsense", []byte("x")),
		anyRaw("type.googleapis.com/no.Such", []byte("x")),
		anyRaw(typePrefix+"CommandStatementQuery", []byte{0xff, 0xff}),
		anyRaw(typePrefix+"CommandPreparedStatementQuery", []byte("not a handle")),
		anyRaw(typePrefix+"TicketStatementQuery", []byte{0x0a, 0x03, 'Q', 'V', 'T'}),
		anyOf(t, &pb.TicketStatementQuery{StatementHandle: []byte("QVT1:{")}),
		anyOf(t, &pb.TicketStatementQuery{StatementHandle: []byte(`QVT1:{"sql":"SELECT 1","extra":1}`)}),
		anyOf(t, &pb.TicketStatementQuery{StatementHandle: []byte("QVP1:garbage")}),
		anyOf(t, &pb.TicketStatementQuery{StatementHandle: []byte("QVPOLL:nope")}),
		anyOf(t, &pb.TicketStatementQuery{}),
		anyOf(t, &pb.CommandPreparedStatementQuery{}),
		anyOf(t, &pb.CommandPreparedStatementUpdate{PreparedStatementHandle: []byte{1, 2, 3}}),
		anyOf(t, &pb.CommandStatementQuery{}),
		anyOf(t, &pb.CommandStatementSubstraitPlan{}),
		anyOf(t, &pb.CommandGetPrimaryKeys{}),
		anyOf(t, &pb.CommandGetCrossReference{}),
		anyOf(t, &pb.CommandGetXdbcTypeInfo{DataType: proto.Int32(-12345)}),
		anyOf(t, &pb.CommandGetSqlInfo{Info: []uint32{0xffffffff}}),
		anyOf(t, &pb.CommandGetTables{TableTypes: []string{"", "\x00"}, TableNameFilterPattern: proto.String(`\`)}),
		anyOf(t, &pb.Ticket{Ticket: []byte("x")}),
		anyOf(t, &pb.FlightDescriptor{Type: pb.FlightDescriptor_PATH, Path: []string{"../x"}}),
	}
	rng := rand.New(rand.NewPCG(13, 2026))
	for range 150 {
		v := bytes.Clone(valid[rng.IntN(len(valid))])
		switch rng.IntN(4) {
		case 0: // truncate
			v = v[:rng.IntN(len(v)+1)]
		case 1: // flip bytes
			for range 1 + rng.IntN(4) {
				v[rng.IntN(len(v))] ^= byte(1 + rng.IntN(255))
			}
		case 2: // random bytes
			v = make([]byte, rng.IntN(64))
			for i := range v {
				v[i] = byte(rng.Uint32())
			}
		case 3: // valid type, random value
			var a anypb.Any
			proto.Unmarshal(v, &a)
			val := make([]byte, rng.IntN(32))
			for i := range val {
				val[i] = byte(rng.Uint32())
			}
			v = anyRaw(a.TypeUrl, val)
		}
		corpus = append(corpus, v)
	}
	return corpus
}

// drain reads a server stream to its end and returns its error.
func drain[T any](recv func() (T, error)) error {
	for {
		if _, err := recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// garbage sends every corpus payload as a descriptor command (GetFlightInfo,
// GetSchema, PollFlightInfo, DoPut), a ticket (DoGet) and an action body (of
// every action type and unknown ones), plus path descriptors and empty
// messages.
func (h *hostile) garbage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	corpus := h.garbageCorpus(t)
	actions := []string{
		flightsql.CreatePreparedStatementActionType, flightsql.ClosePreparedStatementActionType,
		flightsql.CreatePreparedSubstraitPlanActionType, flightsql.BeginTransactionActionType,
		flightsql.EndTransactionActionType, flightsql.BeginSavepointActionType, flightsql.EndSavepointActionType,
		flightsql.CancelQueryActionType, flight.CancelFlightInfoActionType, flight.RenewFlightEndpointActionType,
		flight.SetSessionOptionsActionType, flight.GetSessionOptionsActionType, flight.CloseSessionActionType,
		"", "NoSuchAction", "result-fragment", "session-update",
	}
	descs := []*flight.FlightDescriptor{
		{},
		{Type: flight.DescriptorPATH},
		{Type: flight.DescriptorPATH, Path: []string{"../x"}},
		{Type: flight.DescriptorPATH, Path: []string{"/etc/passwd"}},
		{Type: 99, Cmd: []byte("x")},
	}
	for _, c := range corpus {
		descs = append(descs, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: c})
	}
	for i, d := range descs {
		what := fmt.Sprintf("descriptor %d %x", i, d.Cmd)
		_, err := h.raw.GetFlightInfo(ctx, d)
		clearError(t, "GetFlightInfo "+what, err)
		_, err = h.raw.GetSchema(ctx, d)
		clearError(t, "GetSchema "+what, err)
		_, err = h.raw.PollFlightInfo(ctx, d)
		clearError(t, "PollFlightInfo "+what, err)
		clearError(t, "DoPut "+what, h.doPutDescriptor(ctx, d))
	}
	for i, c := range corpus {
		what := fmt.Sprintf("ticket %d %x", i, c)
		s, err := h.raw.DoGet(ctx, &flight.Ticket{Ticket: c})
		if err == nil {
			err = drain(s.Recv)
		}
		clearError(t, "DoGet "+what, err)
		for _, a := range actions {
			what := fmt.Sprintf("action %q body %d %x", a, i, c)
			s, err := h.raw.DoAction(ctx, &flight.Action{Type: a, Body: c})
			if err == nil {
				err = drain(s.Recv)
			}
			clearError(t, what, err)
		}
	}
	// Empty messages on the remaining RPCs.
	s, err := h.raw.ListFlights(ctx, &flight.Criteria{Expression: []byte("garbage")})
	if err == nil {
		err = drain(s.Recv)
	}
	clearError(t, "ListFlights", err)
	la, err := h.raw.ListActions(ctx, &flight.Empty{})
	if err == nil {
		err = drain(la.Recv)
	}
	clearError(t, "ListActions", err)
	// DoPut whose first message has no descriptor; one that sends nothing.
	clearError(t, "DoPut without descriptor", h.doPutDescriptor(ctx, nil))
	put, err := h.raw.DoPut(ctx)
	if err == nil {
		put.CloseSend()
		err = drain(put.Recv)
	}
	clearError(t, "DoPut half-closed at once", err)
	ex, err := h.raw.DoExchange(ctx)
	if err == nil {
		ex.CloseSend()
		err = drain(ex.Recv)
	}
	clearError(t, "DoExchange", err)
	hs, err := h.raw.Handshake(ctx)
	if err == nil {
		hs.Send(&flight.HandshakeRequest{Payload: []byte("garbage")})
		hs.CloseSend()
		err = drain(hs.Recv)
	}
	clearError(t, "Handshake", err)
}

// doPutDescriptor sends one FlightData carrying only d, then half-closes.
func (h *hostile) doPutDescriptor(ctx context.Context, d *flight.FlightDescriptor) error {
	put, err := h.raw.DoPut(ctx)
	if err != nil {
		return err
	}
	if err := put.Send(&flight.FlightData{FlightDescriptor: d}); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	put.CloseSend()
	return drain(put.Recv)
}

// captured collects the FlightData messages a RecordWriter makes.
type captured struct{ msgs []*flight.FlightData }

func (c *captured) Send(d *flight.FlightData) error {
	c.msgs = append(c.msgs, proto.Clone(d).(*flight.FlightData)) // the writer reuses d
	return nil
}

// ipcMessages is the Flight IPC stream of batches (schema message first).
func ipcMessages(t *testing.T, schema *arrow.Schema, batches ...arrow.RecordBatch) []*flight.FlightData {
	t.Helper()
	var c captured
	w := flight.NewRecordWriter(&c, ipc.WithSchema(schema))
	for _, b := range batches {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	return c.msgs
}

// putRaw sends msgs (the first carrying desc) in one DoPut, half-closes and
// returns the PutResults' app metadata and the call's error.
func (h *hostile) putRaw(ctx context.Context, desc []byte, msgs []*flight.FlightData, opts ...grpc.CallOption) ([][]byte, error) {
	put, err := h.raw.DoPut(ctx, opts...)
	if err != nil {
		return nil, err
	}
	first := &flight.FlightData{}
	if len(msgs) > 0 {
		first, msgs = proto.Clone(msgs[0]).(*flight.FlightData), msgs[1:]
	}
	first.FlightDescriptor = &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: desc}
	for _, m := range append([]*flight.FlightData{first}, msgs...) {
		if err := put.Send(m); err != nil {
			break // the server ended the call: its status comes from Recv
		}
	}
	put.CloseSend()
	var meta [][]byte
	for {
		r, err := put.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return meta, err
		}
		meta = append(meta, r.AppMetadata)
	}
}

// batchOf makes a one-column batch.
func batchOf(t *testing.T, name string, arr arrow.Array) arrow.RecordBatch {
	t.Helper()
	defer arr.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: name, Type: arr.DataType(), Nullable: true}}, nil)
	return array.NewRecordBatch(schema, []arrow.Array{arr}, int64(arr.Len()))
}

func arrayFromJSON(t *testing.T, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	arr, _, err := array.FromJSON(memory.DefaultAllocator, dt, strings.NewReader(js))
	if err != nil {
		t.Fatalf("%s %s: %v", dt, js, err)
	}
	return arr
}

// doPutAbuse binds malformed parameters to prepared statements and ingests
// malformed streams, checking each gets a clear error and changes nothing:
// the data directory holds the same tables before and after.
func (h *hostile) doPutAbuse(t *testing.T, data string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before := dirListing(t, data)

	prep, err := h.cl.Prepare(ctx, "SELECT n_name FROM nation WHERE n_nationkey = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer prep.Close(ctx)
	bindCmd := anyOf(t, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: prep.Handle()})
	one := batchOf(t, "p", arrayFromJSON(t, arrow.PrimitiveTypes.Int64, "[3]"))
	defer one.Release()
	two := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64}, {Name: "b", Type: arrow.PrimitiveTypes.Int64}}, nil),
		[]arrow.Array{one.Column(0), one.Column(0)}, 1)
	defer two.Release()

	// bindAndRun binds msgs and, when that is accepted, runs the statement
	// with the handle it returned.
	bindAndRun := func(what string, msgs []*flight.FlightData) {
		meta, err := h.putRaw(ctx, bindCmd, msgs)
		clearError(t, what+": bind", err)
		if err != nil || len(meta) == 0 {
			return
		}
		var res pb.DoPutPreparedStatementResult
		if err := proto.Unmarshal(meta[0], &res); err != nil {
			t.Errorf("%s: bind result: %v", what, err)
			return
		}
		info, err := h.raw.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD,
			Cmd: anyOf(t, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: res.PreparedStatementHandle})})
		clearError(t, what+": run", err)
		if err != nil {
			return
		}
		for _, ep := range info.Endpoint {
			s, err := h.raw.DoGet(ctx, ep.Ticket)
			if err == nil {
				err = drain(s.Recv)
			}
			clearError(t, what+": fetch", err)
		}
	}

	// Wrong schemas for the statement's one parameter.
	bindAndRun("two parameters", ipcMessages(t, two.Schema(), two))
	for _, c := range []struct {
		dt arrow.DataType
		js string
	}{
		{arrow.BinaryTypes.String, `["abc"]`},
		{arrow.BinaryTypes.Binary, `["YWJj"]`},
		{arrow.FixedWidthTypes.Boolean, `[true]`},
		{arrow.PrimitiveTypes.Float64, `[1e300]`},
		{arrow.FixedWidthTypes.Date32, `["2020-01-01"]`},
		{arrow.FixedWidthTypes.Duration_s, `[5]`},
		{arrow.FixedWidthTypes.MonthInterval, `[{"months": 1}]`},
		{arrow.FixedWidthTypes.Float16, `[1.5]`},
		{&arrow.Decimal256Type{Precision: 76, Scale: 2}, `["1.00"]`},
		{arrow.ListOf(arrow.PrimitiveTypes.Int64), `[[1, 2]]`},
		{arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64}), `[{"x": 1}]`},
		{arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), `[[{"key": "k", "value": 1}]]`},
		{arrow.Null, `[null]`},
	} {
		b := batchOf(t, "p", arrayFromJSON(t, c.dt, c.js))
		bindAndRun("parameter of type "+c.dt.String(), ipcMessages(t, b.Schema(), b))
		b.Release()
	}
	// Dictionary-encoded parameter.
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.PrimitiveTypes.Int64}
	db := array.NewDictionaryBuilder(memory.DefaultAllocator, dictType).(*array.Int64DictionaryBuilder)
	db.Append(3)
	dict := batchOf(t, "p", db.NewArray())
	db.Release()
	bindAndRun("dictionary parameter", ipcMessages(t, dict.Schema(), dict))
	dict.Release()
	// Schema and no batch; a batch with more columns than the schema said.
	bindAndRun("schema only", ipcMessages(t, one.Schema()))
	wide := ipcMessages(t, two.Schema(), two)
	bindAndRun("batch wider than its schema", append(ipcMessages(t, one.Schema())[:1], wide[1]))
	narrow := ipcMessages(t, one.Schema(), one)
	bindAndRun("batch narrower than its schema", append(ipcMessages(t, two.Schema())[:1], narrow[1]))
	// A batch message whose body is cut short; one that is not IPC at all.
	cut := ipcMessages(t, one.Schema(), one)
	cut[1] = proto.Clone(cut[1]).(*flight.FlightData)
	cut[1].DataBody = cut[1].DataBody[:len(cut[1].DataBody)/2]
	bindAndRun("truncated batch body", cut)
	bindAndRun("garbage header", []*flight.FlightData{{DataHeader: []byte("garbage"), DataBody: []byte("x")}})
	// Many rows for a query (which takes one).
	many := batchOf(t, "p", arrayFromJSON(t, arrow.PrimitiveTypes.Int64, "[1, 2, 3]"))
	bindAndRun("three rows for a query", ipcMessages(t, many.Schema(), many))
	many.Release()

	// A message above the 64 MiB limit: ResourceExhausted from gRPC.
	bigBld := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
	bigBld.Append(make([]byte, 65<<20))
	big := batchOf(t, "p", bigBld.NewArray())
	bigBld.Release()
	_, err = h.putRaw(ctx, bindCmd, ipcMessages(t, big.Schema(), big), grpc.MaxCallSendMsgSize(128<<20))
	big.Release()
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("message over 64 MiB: %v, want ResourceExhausted", err)
	}

	h.ingestAbuse(t, ctx)
	if after := dirListing(t, data); after != before {
		t.Errorf("the data directory changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// ingestAbuse: bulk ingest of streams and names it must refuse.
func (h *hostile) ingestAbuse(t *testing.T, ctx context.Context) {
	ingest := func(table, schema string, opts *pb.CommandStatementIngest_TableDefinitionOptions) []byte {
		cmd := &pb.CommandStatementIngest{Table: table, TableDefinitionOptions: opts}
		if schema != "" {
			cmd.Schema = proto.String(schema)
		}
		return anyOf(t, cmd)
	}
	ints := batchOf(t, "x", arrayFromJSON(t, arrow.PrimitiveTypes.Int64, "[1, 2, 3]"))
	defer ints.Release()
	// Names that must not reach the file system.
	for _, name := range []string{"../x", "../../etc/x", "/etc/x", "a/b", `a\b`, ".", "..", "x\x00y",
		strings.Repeat("n", 300), " ", "nation/../../x"} {
		_, err := h.putRaw(ctx, ingest(name, "", nil), ipcMessages(t, ints.Schema(), ints))
		if err == nil {
			t.Errorf("ingest into table %q accepted", name)
		}
		clearError(t, fmt.Sprintf("ingest into table %q", name), err)
		_, err = h.putRaw(ctx, ingest("x", name, nil), ipcMessages(t, ints.Schema(), ints))
		if err == nil {
			t.Errorf("ingest into schema %q accepted", name)
		}
		clearError(t, fmt.Sprintf("ingest into schema %q", name), err)
	}
	// Types a table cannot hold.
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	db := array.NewDictionaryBuilder(memory.DefaultAllocator, dictType).(*array.BinaryDictionaryBuilder)
	db.AppendString("a")
	dict := batchOf(t, "d", db.NewArray())
	db.Release()
	defer dict.Release()
	odd := []arrow.RecordBatch{dict}
	for _, c := range []struct {
		dt arrow.DataType
		js string
	}{
		{arrow.ListOf(arrow.PrimitiveTypes.Int64), `[[1, 2]]`},
		{arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64}), `[{"x": 1}]`},
		{arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), `[[{"key": "k", "value": 1}]]`},
		{arrow.FixedWidthTypes.Duration_s, `[5]`},
		{arrow.FixedWidthTypes.MonthInterval, `[{"months": 1}]`},
		{arrow.FixedWidthTypes.Float16, `[1.5]`},
		{arrow.Null, `[null]`},
		{&arrow.Decimal256Type{Precision: 76, Scale: 2}, `["1.00"]`},
	} {
		odd = append(odd, batchOf(t, "c", arrayFromJSON(t, c.dt, c.js)))
	}
	for i, b := range odd {
		name := fmt.Sprintf("hostile_odd_%d", i)
		_, err := h.putRaw(ctx, ingest(name, "", nil), ipcMessages(t, b.Schema(), b))
		clearError(t, "ingest of "+b.Schema().Field(0).Type.String(), err)
		if err == nil {
			// Accepted: it must read back.
			if _, err := fetchAll(h.cl, "SELECT * FROM "+name); err != nil {
				t.Errorf("ingested %s does not read back: %v", b.Schema().Field(0).Type, err)
			}
			if _, err := h.cl.ExecuteUpdate(ctx, "DROP TABLE "+name); err != nil {
				t.Error(err)
			}
		}
		if i > 0 {
			b.Release()
		}
	}
	// A stream whose second batch changes schema; mid-stream garbage.
	wide := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "x", Type: arrow.PrimitiveTypes.Int64}, {Name: "y", Type: arrow.PrimitiveTypes.Int64}}, nil),
		[]arrow.Array{ints.Column(0), ints.Column(0)}, 3)
	defer wide.Release()
	msgs := append(ipcMessages(t, ints.Schema(), ints), ipcMessages(t, wide.Schema(), wide)[1])
	_, err := h.putRaw(ctx, ingest("hostile_mixed", "", nil), msgs)
	if err == nil {
		t.Error("ingest with a batch wider than the schema accepted")
	}
	clearError(t, "ingest with a batch wider than the schema", err)
	msgs = append(ipcMessages(t, ints.Schema(), ints), &flight.FlightData{DataHeader: []byte("garbage")})
	_, err = h.putRaw(ctx, ingest("hostile_mixed", "", nil), msgs)
	if err == nil {
		t.Error("ingest with a garbage message accepted")
	}
	clearError(t, "ingest with a garbage message", err)
	// The client goes away mid-stream: nothing of it stays.
	cctx, ccancel := context.WithCancel(ctx)
	put, err := h.raw.DoPut(cctx)
	if err != nil {
		t.Fatal(err)
	}
	stream := ipcMessages(t, ints.Schema(), ints, ints, ints)
	stream[0].FlightDescriptor = &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: ingest("hostile_canceled", "", nil)}
	for _, m := range stream {
		put.Send(m)
	}
	time.Sleep(200 * time.Millisecond) // let the server start writing
	ccancel()
	if _, err := put.Recv(); err == nil {
		t.Log("canceled ingest: the server answered first")
	}
	// 10,000 tiny batches go in whole.
	tiny := batchOf(t, "x", arrayFromJSON(t, arrow.PrimitiveTypes.Int64, "[7]"))
	defer tiny.Release()
	batches := make([]arrow.RecordBatch, 10000)
	for i := range batches {
		batches[i] = tiny
	}
	meta, err := h.putRaw(ctx, ingest("hostile_tiny", "", nil), ipcMessages(t, tiny.Schema(), batches...))
	if err != nil {
		t.Fatalf("10,000 tiny batches: %v", err)
	}
	var res pb.DoPutUpdateResult
	if len(meta) == 0 || proto.Unmarshal(meta[0], &res) != nil || res.RecordCount != 10000 {
		t.Errorf("10,000 tiny batches: result %v", meta)
	}
	rows, err := fetchAll(h.cl, "SELECT COUNT(*), SUM(x) FROM hostile_tiny")
	if err != nil || joinRows(rows) != "10000|70000" {
		t.Errorf("10,000 tiny batches read back: %v %v", rows, err)
	}
	if _, err := h.cl.ExecuteUpdate(ctx, "DROP TABLE hostile_tiny"); err != nil {
		t.Error(err)
	}
	// The canceled ingest left nothing (or, had it finished first, all).
	rows, err = fetchAll(h.cl, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'hostile_canceled'")
	if err != nil {
		t.Fatal(err)
	}
	if joinRows(rows) == "1" {
		rows, err := fetchAll(h.cl, "SELECT COUNT(*) FROM hostile_canceled")
		if err != nil || joinRows(rows) != "9" {
			t.Errorf("canceled ingest left a partial table: %v %v", rows, err)
		}
		h.cl.ExecuteUpdate(ctx, "DROP TABLE hostile_canceled")
	}
}

// dirListing lists the files under dir (names and sizes), sorted.
func dirListing(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == ".locks" {
			return filepath.SkipDir // write locks, one file per table name ever written
		}
		if d.IsDir() {
			lines = append(lines, rel+"/")
			return nil
		}
		lines = append(lines, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// bigQuery's result (lineitem, about 10 MB as Arrow) is far larger than
// what the server should hold for a client that does not read.
const bigQuery = "SELECT * FROM lineitem"

// openUnread starts n DoGet streams of bigQuery over conns connections
// and reads nothing from them.
func (h *hostile) openUnread(t *testing.T, ctx context.Context, n, conns int) []flight.Client {
	t.Helper()
	info, err := h.cl.Execute(ctx, bigQuery)
	if err != nil {
		t.Fatal(err)
	}
	clients := make([]flight.Client, conns)
	for i := range clients {
		if clients[i], err = flight.NewClientWithMiddleware(h.p.addr, nil, nil,
			grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if _, err := clients[i%conns].DoGet(ctx, info.Endpoint[0].Ticket); err != nil {
			t.Fatal(err)
		}
	}
	return clients
}

// unreadStreams: 200 DoGet streams of a big result that the client never
// reads. The server's memory stays bounded while they are open (measured:
// RSS before, at the peak, after); half end by the client cancelling, the
// rest by --query-timeout; then nothing is left.
func (h *hostile) unreadStreams(t *testing.T) {
	before := h.rss(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gone, gcancel := context.WithCancel(ctx)
	closeAll := func(cs []flight.Client) {
		for _, c := range cs {
			c.Close()
		}
	}
	early := h.openUnread(t, gone, 100, 2)
	late := h.openUnread(t, ctx, 100, 2)
	var peak int64
	for range 20 {
		peak = max(peak, h.rss(t))
		time.Sleep(100 * time.Millisecond)
	}
	gcancel()
	closeAll(early)
	peak = max(peak, h.rss(t))
	// The others end at --query-timeout (8s); wait past it.
	deadline := time.Now().Add(30 * time.Second)
	for h.stats(t).Goroutines > 100 && time.Now().Before(deadline) {
		peak = max(peak, h.rss(t))
		time.Sleep(200 * time.Millisecond)
	}
	closeAll(late)
	t.Logf("RSS: before %d MiB, peak with 200 unread streams %d MiB, after %d MiB", before>>20, peak>>20, h.rss(t)>>20)
	// Each unread stream may hold a few batches in flight, not its whole
	// result (200 results of about 10 MB would be 2 GB).
	if peak-before > 1<<30 {
		t.Errorf("200 unread streams took %d MiB", (peak-before)>>20)
	}
}

// vanishingClient: a client opens streams and its connection is reset
// (as when the client process is killed).
func (h *hostile) vanishingClient(t *testing.T) {
	ctx := context.Background()
	info, err := h.cl.Execute(ctx, "SELECT * FROM orders")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []*net.TCPConn
	cl, err := flight.NewClientWithMiddleware(h.p.addr, nil, nil,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			if err == nil {
				mu.Lock()
				conns = append(conns, c.(*net.TCPConn))
				mu.Unlock()
			}
			return c, err
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for range 8 {
		s, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil { // the query runs
			t.Fatal(err)
		}
	}
	// Half-written ingest and bind streams too.
	for range 5 {
		put, err := cl.DoPut(ctx)
		if err != nil {
			t.Fatal(err)
		}
		put.Send(&flight.FlightData{FlightDescriptor: &flight.FlightDescriptor{Type: flight.DescriptorCMD,
			Cmd: anyOf(t, &pb.CommandStatementIngest{Table: "hostile_vanished"})}})
	}
	time.Sleep(200 * time.Millisecond)
	t.Logf("streams open: %+v", h.stats(t))
	mu.Lock()
	for _, c := range conns {
		c.SetLinger(0) // close sends a TCP reset
		c.Close()
	}
	mu.Unlock()
	reset := time.Now()
	for h.stats(t).Goroutines > 30 && time.Since(reset) < 30*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("streams of the reset connection ended in %v", time.Since(reset).Round(time.Millisecond))
}

// hoarding: many prepared statements never closed (with long SQL), many
// sessions, a metadata flood with huge LIKE patterns.
func (h *hostile) hoarding(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// 400 prepared statements of 200 kB each (80 MB of SQL), never closed.
	pad := strings.Repeat("x", 200<<10)
	for i := range 400 {
		_, err := h.cl.Prepare(ctx, fmt.Sprintf("SELECT %d /* %s */", i, pad))
		if err != nil {
			t.Fatalf("prepare %d: %v", i, err)
		}
	}
	// 3000 sessions, each used once.
	for i := range 3000 {
		_, err := h.raw.GetFlightInfo(metadata.AppendToOutgoingContext(ctx, "x-quiver-session", fmt.Sprintf("hoard-%d", i)),
			&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: anyOf(t, &pb.CommandStatementQuery{Query: "USE tpch"})})
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	// Metadata with 16 MB LIKE patterns, 8 at once.
	pattern := strings.Repeat("%a", 8<<20)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			cmd := anyOf(t, &pb.CommandGetTables{DbSchemaFilterPattern: proto.String(pattern), TableNameFilterPattern: proto.String(pattern)})
			s, err := h.raw.DoGet(ctx, &flight.Ticket{Ticket: cmd}, grpc.MaxCallSendMsgSize(64<<20))
			if err == nil {
				err = drain(s.Recv)
			}
			clearError(t, "GetTables with a 16 MB pattern", err)
		})
	}
	wg.Wait()
}

// hugeSQL: 10 MB statements and deeply nested ones get a clear error (or
// an answer), never a crash.
func (h *hostile) hugeSQL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := 200000 // parentheses: 400 kB, within the 1 MiB text limit, far past the nesting limit
	cases := map[string]string{
		"10 MB of terms":     "SELECT 1" + strings.Repeat("+1", 5<<20),
		"10 MB comment":      "SELECT 1 /*" + strings.Repeat("x", 10<<20) + "*/",
		"nested parentheses": "SELECT " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n),
		"nested functions":   "SELECT " + strings.Repeat("abs(", 100000) + "1" + strings.Repeat(")", 100000),
		"nested subqueries":  "SELECT * FROM " + strings.Repeat("(SELECT * FROM ", 10000) + "nation" + strings.Repeat(") t", 10000),
		"long AND chain":     "SELECT COUNT(*) FROM nation WHERE " + strings.Repeat("n_nationkey >= 0 AND ", 20000) + "1=1",
		"long IN list":       "SELECT COUNT(*) FROM nation WHERE n_nationkey IN (" + strings.Repeat("1,", 100000) + "1)",
		// Just within the nesting limit: every stage copes.
		"9,000 terms":             "SELECT 1" + strings.Repeat("+1", 9000),
		"3,000 AND terms":         "SELECT COUNT(*) FROM nation WHERE " + strings.Repeat("n_nationkey >= 0 AND ", 3000) + "1=1",
		"300 subqueries":          "SELECT * FROM " + strings.Repeat("(SELECT * FROM ", 300) + "nation" + strings.Repeat(") t", 300),
		"1,000 scalar subqueries": "SELECT " + strings.Repeat("(SELECT ", 1000) + "1" + strings.Repeat(")", 1000),
		"nested CASE":             "SELECT " + strings.Repeat("CASE WHEN 1=1 THEN ", 20000) + "1" + strings.Repeat(" END", 20000),
		"nested scalar query":     "SELECT " + strings.Repeat("(SELECT ", 20000) + "1" + strings.Repeat(")", 20000),
	}
	for name, sql := range cases {
		start := time.Now()
		info, err := h.cl.Execute(ctx, sql, grpc.MaxCallSendMsgSize(64<<20))
		if err == nil {
			for _, ep := range info.Endpoint {
				s, err2 := h.raw.DoGet(ctx, ep.Ticket)
				if err2 == nil {
					err2 = drain(s.Recv)
				}
				err = err2
			}
		}
		t.Logf("%s (%d bytes): %v in %v", name, len(sql), status.Code(err), time.Since(start).Round(time.Millisecond))
		clearError(t, name, err)
		_, err = h.cl.Prepare(ctx, sql, grpc.MaxCallSendMsgSize(64<<20))
		clearError(t, name+" (prepared)", err)
	}
}

// unreadPolls: PollFlightInfo starts queries whose results the server
// holds until read; a client that starts many and reads none must not make
// the server hold them all (a bound per client: 512 MiB).
func (h *hostile) unreadPolls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before := h.rss(t)
	desc := &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: anyOf(t, &pb.CommandStatementQuery{Query: bigQuery})}
	var polls []*flight.PollInfo
	for range 60 {
		p, err := h.raw.PollFlightInfo(ctx, desc)
		clearError(t, "poll", err)
		if err == nil {
			polls = append(polls, p)
		}
	}
	// Wait until the background queries ended.
	deadline := time.Now().Add(45 * time.Second)
	var peak int64
	for time.Now().Before(deadline) {
		peak = max(peak, h.rss(t))
		if h.stats(t).Goroutines < 30 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	peak = max(peak, h.rss(t))
	held := h.stats(t).HeapAlloc
	// Poll each again: finished ones are complete, the ones past the bound
	// failed with ResourceExhausted.
	var refused, timedOut int
	for _, p := range polls {
		if p.FlightDescriptor == nil {
			continue
		}
		_, err := h.raw.PollFlightInfo(ctx, p.FlightDescriptor)
		switch status.Code(err) {
		case codes.ResourceExhausted:
			refused++
		case codes.DeadlineExceeded: // --query-timeout on a slow machine
			timedOut++
		}
		clearError(t, "poll again", err)
	}
	t.Logf("60 unread polls of %s (about 11 MB each): %d failed past the bound; RSS before %d MiB, peak %d MiB; heap holding them %d MiB",
		bigQuery, refused, before>>20, peak>>20, held>>20)
	// The bound counts Arrow buffer bytes; the Go heap holding them is up
	// to a fifth larger (allocation rounding, builders' spare capacity).
	if held > 640<<20 {
		t.Errorf("the server holds %d MiB for one client's unread polls", held>>20)
	}
	if refused == 0 && timedOut == 0 {
		t.Error("no poll was refused: 60 results of about 11 MB fit under 512 MiB?")
	}
	// Cancel them all (CancelFlightInfo), as a client should: then nothing is held.
	for _, p := range polls {
		if p.Info == nil {
			continue
		}
		_, err := h.cl.CancelFlightInfo(ctx, &flight.CancelFlightInfoRequest{Info: p.Info})
		clearError(t, "cancel poll", err)
	}
}
