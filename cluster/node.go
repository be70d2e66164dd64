package cluster

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// NodeState is a member's state as gossip sees it.
type NodeState int

const (
	StateAlive   NodeState = iota
	StateSuspect           // not answering probes; declared dead if it stays so
	StateDead              // failed (no graceful leave)
	StateLeft              // left gracefully
	StateLeaving           // announced it is leaving: takes no new tasks
)

func (s NodeState) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	case StateDead:
		return "dead"
	case StateLeft:
		return "left"
	case StateLeaving:
		return "leaving"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Live reports whether tasks may be sent to a node in this state.
func (s NodeState) Live() bool { return s == StateAlive || s == StateSuspect }

// NodeMeta is what a node tells its peers about itself (carried in
// memberlist's node metadata).
type NodeMeta struct {
	Cluster      string // cluster name; nodes of other clusters are refused
	FlightAddr   string // client-facing Flight SQL address (host:port)
	InternalAddr string // internal Flight service address (host:port)
	Cores        int    // task slots
	Memory       int64  // bytes of memory the node may use
	Version      string // quiver version
	Leaving      bool   // set by Leave before the node goes
	// Instance is random per process start: a node restarted under the
	// same name is a new instance, and its peers treat the old one as dead
	// (dscheduler_instance.go). Empty for nodes of format 1.
	Instance string
	Started  time.Time // when this instance started (millisecond precision); zero if unknown
}

// NewInstanceID returns a random instance id (16 hex digits).
func NewInstanceID() string {
	var b [8]byte
	rand.Read(b[:]) //nolint:errcheck // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// startTime is t at the millisecond precision the metadata carries, so a
// node's own view equals what its peers decode.
func startTime(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()) }

// Node is one member of the cluster.
type Node struct {
	Name       string
	GossipAddr string // memberlist host:port
	NodeMeta
	State NodeState
	Since time.Time // when the node entered State (as seen by this node)
}

// Metadata formats, told apart by their first byte. Format 1 (metaMagic1):
// magic, uvarint-length strings (cluster, flight, internal, version),
// uvarints (cores, memory), a flags byte (bit 0: leaving), nothing after.
// Format 2 (metaMagic) appends the instance id (uvarint-length string) and
// the start time (uvarint unix milliseconds); its readers ignore bytes
// after those, so a later format can append fields and still be read.
const (
	metaMagic1 byte = 0x51 // 'Q'
	metaMagic  byte = 0x52 // 'R': format 2, written by this version
)

var errMeta = errors.New("cluster: malformed node metadata")

// maxMetaString bounds each string of the metadata, maxInstance the
// instance id, so the encoding stays under memberlist's 512-byte limit.
const (
	maxMetaString = 115
	maxInstance   = 16
)

func encodeMeta(m NodeMeta) ([]byte, error) {
	b := []byte{metaMagic}
	for _, s := range []string{m.Cluster, m.FlightAddr, m.InternalAddr, m.Version} {
		if len(s) > maxMetaString {
			return nil, fmt.Errorf("cluster: node metadata field %q longer than %d bytes", s, maxMetaString)
		}
	}
	if len(m.Instance) > maxInstance {
		return nil, fmt.Errorf("cluster: instance id %q longer than %d bytes", m.Instance, maxInstance)
	}
	for _, s := range []string{m.Cluster, m.FlightAddr, m.InternalAddr, m.Version} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if m.Cores < 0 || m.Memory < 0 {
		return nil, fmt.Errorf("cluster: negative cores or memory in node metadata")
	}
	b = binary.AppendUvarint(b, uint64(m.Cores))
	b = binary.AppendUvarint(b, uint64(m.Memory))
	var flags byte
	if m.Leaving {
		flags |= 1
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(m.Instance)))
	b = append(b, m.Instance...)
	var started uint64
	if !m.Started.IsZero() && m.Started.UnixMilli() > 0 {
		started = uint64(m.Started.UnixMilli())
	}
	return binary.AppendUvarint(b, started), nil
}

func decodeMeta(b []byte) (NodeMeta, error) {
	var m NodeMeta
	if len(b) == 0 || b[0] != metaMagic && b[0] != metaMagic1 {
		return m, errMeta
	}
	format1 := b[0] == metaMagic1
	b = b[1:]
	str := func() (string, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", errMeta
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, nil
	}
	num := func() (uint64, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, errMeta
		}
		b = b[k:]
		return n, nil
	}
	var err error
	for _, p := range []*string{&m.Cluster, &m.FlightAddr, &m.InternalAddr, &m.Version} {
		if *p, err = str(); err != nil {
			return m, err
		}
	}
	cores, err := num()
	if err != nil {
		return m, err
	}
	mem, err := num()
	if err != nil || cores > 1<<20 || mem > 1<<62 || len(b) < 1 || b[0]&^1 != 0 || format1 && len(b) != 1 {
		return m, errMeta
	}
	m.Cores, m.Memory, m.Leaving = int(cores), int64(mem), b[0]&1 != 0
	b = b[1:]
	if format1 {
		return m, nil
	}
	if m.Instance, err = str(); err != nil {
		return m, err
	}
	started, err := num()
	if err != nil || started > 1<<62 {
		return m, errMeta
	}
	if started > 0 {
		m.Started = time.UnixMilli(int64(started))
	}
	return m, nil
}
