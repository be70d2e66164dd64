// Package catalog owns the schemas, tables and views of a node and the data
// directory they live in; it imports only arrow-go, qerr, internal/flock,
// zap and execution's key encoding (execution.EncodeKeys, shared with hash
// joins and aggregation so PRIMARY KEY/UNIQUE checks compare keys as
// queries do; execution never imports catalog), never planner or server.
//
// Layout of the data dir (names are case-insensitive, lower-cased):
//
//	<schema>/                       a schema (database)
//	<schema>/<table>/*.parquet|csv  a table of many files (all with one schema)
//	<schema>/<table>/_schema.arrow  columns of a table made by CREATE TABLE,
//	                                with its PRIMARY KEY/UNIQUE keys in the
//	                                columns' metadata (keys.go)
//	<schema>/<table>/_files.json    live files of a table UPDATE/DELETE
//	                                rewrote (copy-on-write; see rewrite.go)
//	<schema>/<table>.parquet|csv    a single-file table
//	<schema>/<view>.view.json       a view: {"sql": ..., "schema": IPC bytes}
//
//	.locks/...                      flock(2) files serializing commits (lock.go)
//
// Entries starting with '.' or '_' are ignored (temporary and marker files).
// Every write goes to a hidden temporary name and is renamed into place, so
// other nodes sharing the directory never see a partial file; the catalog
// re-reads a table when its folder changed (see version).
//
// Several processes (the nodes of a cluster) may write one data dir: every
// commit point runs under a cross-process lock (lock.go), so no committed
// write is lost and a write killed half-way leaves the old version.
// Guarantees and the filesystem requirement: docs/cluster.md, "Writes on
// the shared data directory".
// PRIMARY KEY/UNIQUE are checked at the same commit points (Append,
// Rewrite) under the table's lock, so no two nodes both commit one key.
package catalog
