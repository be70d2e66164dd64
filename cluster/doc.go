// Package cluster schedules the stages of a query as tasks and moves data
// between them (the shuffle). Today it runs every task on this node with an
// in-memory shuffle store; memberlist membership, the internal Flight
// service and remote tasks build on the same Scheduler/Shuffle contracts.
// It imports execution and planner/physical+stages; it must not import
// server, engine or cmd.
package cluster
