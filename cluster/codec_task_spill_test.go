package cluster

import (
	"reflect"
	"testing"
	"time"

	"github.com/quiverdb/quiver/execution"
)

// TestTaskResultCarriesSpill: a worker's operator metrics reach the
// coordinator whole, spilled bytes and files included (EXPLAIN ANALYZE of
// a distributed query shows where operators spilled).
func TestTaskResultCarriesSpill(t *testing.T) {
	in := taskResult{Rows: 3, Ops: []OpMetric{{Op: 2, Name: "HashJoin", OperatorMetrics: execution.OperatorMetrics{
		Rows: 3, Batches: 1, Bytes: 24, Elapsed: time.Millisecond, PeakMemory: 1 << 20, SpilledBytes: 12345, SpillFiles: 33,
	}}}}
	data, err := encodeTaskResult(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeTaskResult(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("decoded %+v, want %+v", out, in)
	}
}
