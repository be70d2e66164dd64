package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Per-partition result endpoints (see endpoints.go). With
// --advertise-endpoints, GetFlightInfo of a query whose final stage has
// several partitions starts it (PlanPartitioned, HoldPartitioned) and returns
// one endpoint per partition, located at the node meant to serve it; the
// ticket is a signed partition ticket that any node of the cluster
// redeems (DoGet runs that partition there).

// PartitionEngine is the optional engine capability behind per-partition
// endpoints; *engine.Engine has it.
type PartitionEngine interface {
	PlanPartitioned(ctx context.Context, s *engine.Session, sql string, params []scalar.Scalar) (*engine.PartitionPlan, error)
	HoldPartitioned(ctx context.Context, p *engine.PartitionPlan, ttl time.Duration) (*engine.PartitionedResult, bool, error)
	OpenPartition(ctx context.Context, ref engine.PartitionRef) (*engine.Result, error)
	CancelPartitioned(ctx context.Context, ref engine.PartitionRef) error
	AddResultBytes(ctx context.Context, ref engine.PartitionRef, n, max int64) error
}

// A partition ticket (inside TicketStatementQuery) is
//
//	"QVP1:" | JSON partitionTicket | HMAC-SHA256 of both (32 bytes)
//
// keyed like prepared statement handles (the cluster secret, or a random
// per-node key), so a node accepts the tickets of its cluster only.
var partitionMagic = []byte("QVP1:")

type partitionTicket struct {
	Query           string `json:"q"`
	Coordinator     string `json:"c,omitempty"`
	CoordinatorAddr string `json:"a,omitempty"`
	Partition       int    `json:"p"`
	User            string `json:"u"`
	Expiry          int64  `json:"e"`           // Unix seconds
	Deadline        int64  `json:"d,omitempty"` // Unix ms: the query's --query-timeout
	MaxBytes        int64  `json:"m,omitempty"` // --max-result-bytes over all partitions
}

type partitionCodec struct {
	key []byte
	now func() time.Time
}

// newPartitionCodec derives the ticket key from the handle key.
func newPartitionCodec(handleKey []byte) *partitionCodec {
	m := hmac.New(sha256.New, handleKey)
	m.Write([]byte("quiver result partition ticket key\x00"))
	return &partitionCodec{key: m.Sum(nil), now: time.Now}
}

func (c *partitionCodec) mac(b []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(b)
	return m.Sum(nil)
}

func (c *partitionCodec) encode(t partitionTicket) ([]byte, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "encode partition ticket")
	}
	b := append(append([]byte{}, partitionMagic...), body...)
	return append(b, c.mac(b)...), nil
}

// decode verifies a partition ticket for user.
func (c *partitionCodec) decode(b []byte, user string) (partitionTicket, error) {
	var t partitionTicket
	if len(b) < len(partitionMagic)+sha256.Size || !bytes.HasPrefix(b, partitionMagic) {
		return t, qerr.New(qerr.InvalidArgument, "invalid result partition ticket: truncated")
	}
	signed, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if !hmac.Equal(sum, c.mac(signed)) {
		return t, qerr.New(qerr.InvalidArgument, "invalid result partition ticket: not issued by this server or cluster, or altered")
	}
	dec := json.NewDecoder(bytes.NewReader(signed[len(partitionMagic):]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil || t.Query == "" || t.Partition < 0 {
		return partitionTicket{}, qerr.New(qerr.InvalidArgument, "invalid result partition ticket: malformed")
	}
	if t.User != user {
		return partitionTicket{}, qerr.New(qerr.PermissionDenied, "this result partition ticket belongs to another user")
	}
	if exp := time.Unix(t.Expiry, 0); !c.now().Before(exp) {
		return partitionTicket{}, qerr.New(qerr.InvalidArgument,
			"result partition ticket expired at %s: the result was freed (--result-ttl); run the query again", exp.UTC().Format(time.RFC3339))
	}
	return t, nil
}

func (t partitionTicket) ref() engine.PartitionRef {
	return engine.PartitionRef{Query: t.Query, Coordinator: t.Coordinator, CoordinatorAddr: t.CoordinatorAddr, Partition: t.Partition}
}

// partitionedInfo starts sql for partition-wise fetch and describes its
// endpoints; ok=false when endpoints are not advertised or the result is
// one stream (the caller returns the lazy single endpoint).
func (s *Server) partitionedInfo(ctx context.Context, sess *engine.Session, sql string, params []scalar.Scalar, desc *flight.FlightDescriptor) (*flight.FlightInfo, bool, error) {
	plan, err := s.planPartitioned(ctx, sess, sql, params)
	if plan == nil || err != nil {
		return nil, false, err
	}
	release, err := s.guard().acquire(ctx)
	if err != nil {
		return nil, false, err
	}
	return s.holdInfo(ctx, sess, plan, desc, release)
}

// planPartitioned plans sql for partition-wise fetch: nil when endpoints
// are not advertised or the query does not qualify.
func (s *Server) planPartitioned(ctx context.Context, sess *engine.Session, sql string, params []scalar.Scalar) (*engine.PartitionPlan, error) {
	if s.location == "" || s.parts == nil {
		return nil, nil
	}
	if err := checkWrite(ctx, sql); err != nil {
		return nil, err
	}
	return s.parts.PlanPartitioned(ctx, sess, sql, params)
}

// holdInfo runs plan's producer stages and returns the FlightInfo of its
// partitions (ok=false: the scheduler streams it after all; nothing was
// started). release frees the caller's concurrency slot (guardedEngine):
// the held result is one running query of its user until it ends, its
// fetches are not counted again. --query-timeout bounds the whole query:
// at the deadline the held result ends and fetches fail (doGetPartition).
func (s *Server) holdInfo(ctx context.Context, sess *engine.Session, plan *engine.PartitionPlan, desc *flight.FlightDescriptor, release func()) (*flight.FlightInfo, bool, error) {
	lim := s.guard().limits
	hctx, cancel := ctx, context.CancelFunc(func() {})
	var deadline time.Time
	if lim.QueryTimeout > 0 {
		deadline = time.Now().Add(lim.QueryTimeout)
		hctx, cancel = context.WithDeadline(ctx, deadline)
	}
	res, ok, err := s.parts.HoldPartitioned(hctx, plan, s.resultTTL)
	err = s.guard().timeoutErr(ctx, hctx, err)
	cancel()
	if err != nil || !ok {
		release()
		return nil, false, err
	}
	h := res.Held
	// Tickets outlive the result by a little: a late fetch is told the
	// result is gone rather than that the ticket expired.
	expiry := time.Now().Add(s.resultTTL)
	t := partitionTicket{Query: h.Query, Coordinator: h.Coordinator, CoordinatorAddr: h.CoordinatorAddr, User: userOf(ctx),
		Expiry: expiry.Unix() + 1, MaxBytes: lim.MaxResultBytes}
	if !deadline.IsZero() {
		t.Deadline = deadline.UnixMilli()
		if deadline.Before(expiry) {
			expiry = deadline
		}
	}
	info := &flight.FlightInfo{FlightDescriptor: desc, Schema: flight.SerializeSchema(res.Schema, s.Alloc), TotalRecords: -1, TotalBytes: -1}
	for p, place := range h.Places {
		t.Partition = p
		body, err := s.partCodec.encode(t)
		if err == nil {
			var tkt []byte
			if tkt, err = flightsql.CreateStatementQueryTicket(body); err == nil {
				info.Endpoint = append(info.Endpoint, &flight.FlightEndpoint{
					Ticket: &flight.Ticket{Ticket: tkt}, Location: []*flight.Location{{Uri: s.placeURI(place)}},
					ExpirationTime: timestamppb.New(expiry),
				})
			}
		}
		if err != nil {
			s.cancelHeld(t)
			go func() { <-h.Done; release() }()
			return nil, false, err
		}
	}
	s.held.add(sess, t, h.Done)
	go func() {
		var timeout <-chan time.Time
		if !deadline.IsZero() {
			tm := time.NewTimer(time.Until(deadline))
			defer tm.Stop()
			timeout = tm.C
		}
		select {
		case <-h.Done:
		case <-timeout:
			s.log.Info("held result passed the query timeout: freed", zap.String("query_id", h.Query), zap.Duration("timeout", lim.QueryTimeout))
			s.cancelHeld(t)
			<-h.Done
		}
		release()
	}()
	s.log.Debug("result held for partition-wise fetch", zap.String("query_id", h.Query), zap.Int("partitions", len(h.Places)))
	return info, true, nil
}

// placeURI is the location of a partition the coordinator placed at a
// node's Flight SQL address ("" or unusable: this node; any node redeems
// a ticket).
func (s *Server) placeURI(place string) string {
	if place != "" {
		if uri, err := EndpointURI(place, s.tls != nil); err == nil {
			return uri
		}
	}
	return s.location
}

// guard is the limits wrapper around the engine.
func (s *Server) guard() *guardedEngine {
	if g, ok := s.eng.(*guardedEngine); ok {
		return g
	}
	return &guardedEngine{Engine: s.eng}
}

// heldResults are the running partitioned results of each session, so
// that CloseSession frees those not read yet.
type heldResults struct {
	mu sync.Mutex
	m  map[*engine.Session]map[string]partitionTicket // query → a ticket of it
}

func (h *heldResults) add(sess *engine.Session, t partitionTicket, done <-chan struct{}) {
	h.mu.Lock()
	if h.m == nil {
		h.m = map[*engine.Session]map[string]partitionTicket{}
	}
	if h.m[sess] == nil {
		h.m[sess] = map[string]partitionTicket{}
	}
	h.m[sess][t.Query] = t
	h.mu.Unlock()
	go func() {
		<-done
		h.mu.Lock()
		defer h.mu.Unlock()
		if delete(h.m[sess], t.Query); len(h.m[sess]) == 0 {
			delete(h.m, sess)
		}
	}()
}

func (s *Server) cancelSessionResults(sess *engine.Session) {
	s.held.mu.Lock()
	ts := make([]partitionTicket, 0, len(s.held.m[sess]))
	for _, t := range s.held.m[sess] {
		ts = append(ts, t)
	}
	s.held.mu.Unlock()
	for _, t := range ts {
		s.cancelHeld(t)
	}
}

func (s *Server) cancelHeld(t partitionTicket) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.parts.CancelPartitioned(ctx, t.ref()); err != nil {
		s.log.Debug("canceling a held result", zap.String("query_id", t.Query), zap.Error(err))
	}
}

// doGetPartition streams one partition of a held result. The ticket
// carries the query's limits: its deadline (--query-timeout) and the
// result size over all partitions (--max-result-bytes, counted at the
// coordinator); the fetch takes a task slot on this node (the engine).
func (s *Server) doGetPartition(ctx context.Context, raw []byte) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if s.parts == nil {
		return nil, nil, s.toStatus(qerr.New(qerr.InvalidArgument, "invalid statement ticket: this server does not serve result partitions"))
	}
	t, err := s.partCodec.decode(raw, userOf(ctx))
	if err != nil {
		return nil, nil, s.toStatus(err)
	}
	fctx, cancel := ctx, context.CancelFunc(func() {})
	if t.Deadline > 0 {
		dl := time.UnixMilli(t.Deadline)
		if !time.Now().Before(dl) {
			return nil, nil, s.toStatus(errPartitionDeadline(nil))
		}
		fctx, cancel = context.WithDeadline(ctx, dl)
	}
	res, err := s.parts.OpenPartition(fctx, t.ref())
	if err != nil {
		err = partitionErr(ctx, fctx, err)
		cancel()
		return nil, nil, s.toStatus(err)
	}
	res.Stream = &partitionStream{Stream: res.Stream, s: s, t: t, parent: ctx, fctx: fctx, cancel: cancel}
	return s.streamResult(ctx, res)
}

func errPartitionDeadline(err error) error {
	return &qerr.Error{Kind: qerr.DeadlineExceeded, Msg: "query exceeded its time limit (--query-timeout): its result was freed", Err: err}
}

// partitionErr names the query timeout when a fetch failed because the
// query's deadline passed (not because the client went away).
func partitionErr(parent, fctx context.Context, err error) error {
	if err == nil || parent.Err() != nil {
		return err
	}
	if dl, ok := fctx.Deadline(); ok && !time.Now().Before(dl) {
		return errPartitionDeadline(err)
	}
	return err
}

// partitionStream applies a partition ticket's limits to its fetch.
type partitionStream struct {
	execution.Stream
	s            *Server
	t            partitionTicket
	parent, fctx context.Context
	cancel       context.CancelFunc
}

func (p *partitionStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := p.Stream.Next(ctx)
	if err != nil {
		return nil, partitionErr(p.parent, p.fctx, err)
	}
	if p.t.MaxBytes > 0 {
		if err := p.s.parts.AddResultBytes(p.fctx, p.t.ref(), execution.BatchBytes(b), p.t.MaxBytes); err != nil {
			b.Release()
			return nil, partitionErr(p.parent, p.fctx, err)
		}
	}
	return b, nil
}

func (p *partitionStream) Close() error {
	err := p.Stream.Close()
	p.cancel()
	return err
}

// cancelPartition ends the held result a ticket reads (CancelFlightInfo);
// tickets of other kinds or users are ignored.
func (s *Server) cancelPartition(ticket []byte, user string, seen map[string]bool) {
	if s.parts == nil {
		return
	}
	tq, err := flightsql.GetStatementQueryTicket(&flight.Ticket{Ticket: ticket})
	if err != nil || !bytes.HasPrefix(tq.GetStatementHandle(), partitionMagic) {
		return
	}
	t, err := s.partCodec.decode(tq.GetStatementHandle(), user)
	if err != nil || seen[t.Query] {
		return
	}
	seen[t.Query] = true
	s.cancelHeld(t)
}
