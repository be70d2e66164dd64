package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
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
	p.cmd = exec.Command(bin, append([]string{"serve", "--listen", p.addr, "--log-level", "warn"}, args...)...)
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
// keeps open, and caches that warm up (parquet metadata, prepared handles).
const (
	goroutineSlack = 15
	heapSlack      = 48 << 20
)

// settle waits (generously: streams end when their context does) until the
// server's goroutines and heap are back near base; else it fails with the
// goroutine dump.
func (h *hostile) settle(t *testing.T, base debugStats) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var s debugStats
	for {
		s = h.stats(t)
		if s.Goroutines <= base.Goroutines+goroutineSlack && s.HeapAlloc <= base.HeapAlloc+heapSlack {
			t.Logf("settled: %+v", s)
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

var _ = filepath.Join
