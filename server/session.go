package server

import (
	"context"
	"sync"

	"github.com/quiverdb/quiver/engine"
	"google.golang.org/grpc/metadata"
)

// SessionHeader names the gRPC metadata key a client sets to keep state
// (current schema, variables) across calls. Without it every statement runs
// in a fresh session at the default schema. Sessions per connection, with
// expiry and CloseSession, come with the full session support.
const SessionHeader = "x-quiver-session"

// sessions holds the named sessions of this node.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*engine.Session
}

// sessionID returns the client's session id from the call metadata ("" if none).
func sessionID(ctx context.Context) string {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ""
	}
	if v := md.Get(SessionHeader); len(v) > 0 {
		return v[0]
	}
	return ""
}

// get returns the session named id, creating it (through newSession) on
// first use; id "" yields a fresh unnamed session.
func (s *sessions) get(id string, newSession func() *engine.Session) *engine.Session {
	if id == "" {
		return newSession()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*engine.Session{}
	}
	sess, ok := s.byID[id]
	if !ok {
		sess = newSession()
		s.byID[id] = sess
	}
	return sess
}
