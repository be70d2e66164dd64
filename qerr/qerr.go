// Package qerr classifies the errors every layer returns so that the one place
// that speaks to clients (server) can map them to gRPC status codes, and the
// sqllogictest runner can match them. It owns no logic beyond that.
package qerr

import (
	"errors"
	"fmt"
)

// Kind says what went wrong from the client's point of view.
type Kind int

const (
	Internal          Kind = iota // a bug: should never reach a user
	Syntax                        // malformed SQL (Error.Line/Col set)
	InvalidArgument               // type mismatch, wrong argument count, bad value, overflow
	NotFound                      // unknown schema/table/column/function/handle
	AlreadyExists                 // CREATE of an existing object without IF NOT EXISTS
	ResourceExhausted             // memory limit, result too large
	PermissionDenied              // path outside allowed dirs, read-only user
	Unimplemented                 // valid SQL we do not support yet
	Canceled                      // client cancel or deadline
	Unauthenticated               // no, bad or expired credentials
	DeadlineExceeded              // a server-side time limit (query timeout) ran out
	Unavailable                   // the server is shutting down: retry, possibly elsewhere
)

func (k Kind) String() string {
	switch k {
	case Syntax:
		return "syntax error"
	case InvalidArgument:
		return "invalid argument"
	case NotFound:
		return "not found"
	case AlreadyExists:
		return "already exists"
	case ResourceExhausted:
		return "resource exhausted"
	case PermissionDenied:
		return "permission denied"
	case Unimplemented:
		return "not supported"
	case Canceled:
		return "canceled"
	case Unauthenticated:
		return "unauthenticated"
	case DeadlineExceeded:
		return "deadline exceeded"
	case Unavailable:
		return "unavailable"
	}
	return "internal error"
}

// Error is a classified error. Line and Col are 1-based positions in the SQL
// text (0 when unknown).
type Error struct {
	Kind      Kind
	Msg       string
	Line, Col int
	Err       error // optional cause
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s at line %d column %d", e.Msg, e.Line, e.Col)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a formatted message.
func New(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Wrap classifies err (kept as the cause) with a message prefix.
func Wrap(k Kind, err error, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...) + ": " + err.Error(), Err: err}
}

// KindOf returns the kind of the first *Error in err's chain; context
// cancellation maps to Canceled; anything unclassified is Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if isCanceled(err) {
		return Canceled
	}
	return Internal
}
