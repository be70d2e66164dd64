// Package execution runs physical operators as pull-based streams of Arrow
// record batches: the Stream and TaskContext contracts, per-query memory
// accounting (QueryAllocator), the instrumenting wrapper behind EXPLAIN
// ANALYZE and panic isolation (Instrument), and the vectorized hashing and
// key comparison shared by aggregation, joins and the shuffle. Operators live
// in execution/ops, scalar expressions in execution/expr, aggregates in
// execution/agg, table scans and file writers in execution/scan.
//
// It imports catalog (table metadata for scans) and nothing of planner,
// cluster, engine, server or cmd.
package execution
