package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/qerr"
)

// Prepared statement handles are self-contained, so that any node of a
// cluster can redeem a handle another node made (clients behind a load
// balancer): a handle carries
//
//	version (1 byte) | expiry (uvarint, Unix seconds) | user | schema | SQL |
//	bound parameters (Arrow IPC stream, empty if none) | HMAC-SHA256 (32 bytes)
//
// (strings and the IPC stream are uvarint length-prefixed). The MAC is keyed
// by Config.HandleKey — in a cluster derived from the cluster secret, so
// every node accepts every node's handles; on a single node a random key
// made at start (handles then die with the process, as before). A handle
// whose MAC does not verify, that expired or that belongs to another user
// is NotFound. Nodes cache what a handle describes (handle → prepared) so a
// handle is prepared once per node; ClosePreparedStatement drops the entry.
const (
	handleVersion = 1
	handleMACLen  = sha256.Size
	// maxHandlePart bounds the SQL text and the bound parameters carried in
	// a handle.
	maxHandlePart = 1 << 20
	// DefaultHandleTTL is how long a prepared statement handle stays valid.
	DefaultHandleTTL = 24 * time.Hour
)

// handleData is what a handle says.
type handleData struct {
	expiry time.Time
	user   string
	schema string
	sql    string
	params []byte // Arrow IPC stream of the bound parameter batches; nil if none
}

// handleCodec signs and verifies handles.
type handleCodec struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// randomSecret stands in for the cluster secret on a single node: what it
// signs (handles, tokens) dies with the process.
func randomSecret() ([]byte, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "signing key")
	}
	return secret, nil
}

// deriveKey derives the MAC key of one kind of signed value from the
// secret, so a value of one kind never verifies as another.
func deriveKey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label + "\x00"))
	return m.Sum(nil)
}

// newHandleCodec derives the MAC key from secret (random if empty).
func newHandleCodec(secret []byte, ttl time.Duration) (*handleCodec, error) {
	if len(secret) == 0 {
		var err error
		if secret, err = randomSecret(); err != nil {
			return nil, err
		}
	}
	if ttl <= 0 {
		ttl = DefaultHandleTTL
	}
	return &handleCodec{key: deriveKey(secret, "quiver prepared statement handle key"), ttl: ttl, now: time.Now}, nil
}

func (c *handleCodec) mac(b []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(b)
	return m.Sum(nil)
}

// encode makes a handle for d; a zero expiry gets now+ttl.
func (c *handleCodec) encode(d handleData) ([]byte, error) {
	if len(d.sql) > maxHandlePart {
		return nil, qerr.New(qerr.InvalidArgument,
			"statement too long for a prepared statement: %d bytes (at most %d)", len(d.sql), maxHandlePart)
	}
	if len(d.params) > maxHandlePart {
		return nil, qerr.New(qerr.InvalidArgument,
			"bound parameters too large for a prepared statement: %d bytes of Arrow IPC (at most %d); bind fewer rows or send them with the update itself", len(d.params), maxHandlePart)
	}
	if d.expiry.IsZero() {
		d.expiry = c.now().Add(c.ttl)
	}
	b := make([]byte, 0, 1+4*binary.MaxVarintLen64+len(d.user)+len(d.schema)+len(d.sql)+len(d.params)+handleMACLen)
	b = append(b, handleVersion)
	b = binary.AppendUvarint(b, uint64(d.expiry.Unix()))
	for _, part := range [][]byte{[]byte(d.user), []byte(d.schema), []byte(d.sql), d.params} {
		b = binary.AppendUvarint(b, uint64(len(part)))
		b = append(b, part...)
	}
	return append(b, c.mac(b)...), nil
}

var errBadHandle = qerr.New(qerr.NotFound,
	"Unknown prepared statement handle: not issued by this server or cluster, or altered")

// decode verifies a handle and returns what it says, for user.
func (c *handleCodec) decode(h []byte, user string) (handleData, error) {
	var d handleData
	if len(h) < 1+handleMACLen || h[0] != handleVersion {
		return d, errBadHandle
	}
	body, sum := h[:len(h)-handleMACLen], h[len(h)-handleMACLen:]
	if !hmac.Equal(sum, c.mac(body)) {
		return d, errBadHandle
	}
	rest := body[1:]
	exp, n := binary.Uvarint(rest)
	if n <= 0 {
		return d, errBadHandle
	}
	rest = rest[n:]
	var parts [4][]byte
	for i := range parts {
		l, n := binary.Uvarint(rest)
		if n <= 0 || l > uint64(len(rest)-n) {
			return d, errBadHandle
		}
		parts[i], rest = rest[n:n+int(l)], rest[n+int(l):]
	}
	if len(rest) != 0 {
		return d, errBadHandle
	}
	d = handleData{expiry: time.Unix(int64(exp), 0), user: string(parts[0]), schema: string(parts[1]),
		sql: string(parts[2])}
	if len(parts[3]) > 0 {
		d.params = parts[3]
	}
	if d.user != user {
		// Another user's statement: as if it did not exist.
		return handleData{}, qerr.New(qerr.NotFound, "Unknown prepared statement handle")
	}
	if !c.now().Before(d.expiry) {
		return handleData{}, qerr.New(qerr.NotFound,
			"prepared statement handle expired at %s; prepare the statement again", d.expiry.UTC().Format(time.RFC3339))
	}
	return d, nil
}

// encodeParams writes bound parameter batches as one Arrow IPC stream.
func encodeParams(batches []arrow.RecordBatch) ([]byte, error) {
	if len(batches) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(batches[0].Schema()))
	for _, b := range batches {
		if !b.Schema().Equal(batches[0].Schema()) {
			w.Close()
			return nil, qerr.New(qerr.InvalidArgument, "parameter batches have different schemas")
		}
		if err := w.Write(b); err != nil {
			w.Close()
			return nil, qerr.Wrap(qerr.InvalidArgument, err, "encode bound parameters")
		}
		if buf.Len() > maxHandlePart {
			w.Close()
			return nil, qerr.New(qerr.InvalidArgument,
				"bound parameters too large for a prepared statement: over %d bytes of Arrow IPC; bind fewer rows or send them with the update itself", maxHandlePart)
		}
	}
	if err := w.Close(); err != nil {
		return nil, qerr.Wrap(qerr.InvalidArgument, err, "encode bound parameters")
	}
	return buf.Bytes(), nil
}

// decodeParams reads parameter rows back from a handle.
func decodeParams(b []byte, want int, alloc memory.Allocator) (rows [][]scalar.Scalar, batches []arrow.RecordBatch, err error) {
	r, err := ipc.NewReader(bytes.NewReader(b), ipc.WithAllocator(alloc))
	if err != nil {
		return nil, nil, qerr.Wrap(qerr.InvalidArgument, err, "prepared statement handle parameters")
	}
	defer r.Release()
	return readParams(r, want)
}
