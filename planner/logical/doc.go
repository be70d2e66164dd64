// Package logical holds the logical plan (immutable nodes and typed
// expressions whose columns are identified by statement-unique ColumnIDs)
// and the binder that builds it from the tidb AST and the catalog: scopes,
// name resolution, MySQL typing through the execution/expr and
// execution/agg registries, subqueries, CTEs, views and set operations.
package logical
