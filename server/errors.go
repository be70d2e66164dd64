package server

import (
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toStatus is the one place where errors become gRPC statuses: every
// handler and interceptor of the server returns its errors through it (the
// server's own errors — authentication, time limits, cancellation,
// transactions — are qerr kinds too). Errors that already carry a status
// (from arrow-go or a nested call) pass through.
func (s *Server) toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codeOf(qerr.KindOf(err))
	if code == codes.Internal {
		s.log.Error("internal error", zap.Error(err))
	}
	return status.Error(code, err.Error())
}

// codeOf maps an error class to its gRPC code.
func codeOf(k qerr.Kind) codes.Code {
	switch k {
	case qerr.Syntax, qerr.InvalidArgument:
		return codes.InvalidArgument
	case qerr.NotFound:
		return codes.NotFound
	case qerr.AlreadyExists:
		return codes.AlreadyExists
	case qerr.ResourceExhausted:
		return codes.ResourceExhausted
	case qerr.PermissionDenied:
		return codes.PermissionDenied
	case qerr.Unimplemented:
		return codes.Unimplemented
	case qerr.Canceled:
		return codes.Canceled
	case qerr.Unauthenticated:
		return codes.Unauthenticated
	case qerr.DeadlineExceeded:
		return codes.DeadlineExceeded
	case qerr.Unavailable:
		return codes.Unavailable
	}
	return codes.Internal
}
