// Package server is Quiver's client-facing Flight SQL service. It embeds
// flightsql.BaseServer and translates Flight SQL commands (statements,
// prepared statements, parameter binding, updates, metadata, SqlInfo) into
// calls on the engine, streams results back, and is the only place that
// converts errors into gRPC status codes (errors.go).
//
// It imports engine, catalog and qerr; nothing imports server except cmd and
// integration tests.
package server
