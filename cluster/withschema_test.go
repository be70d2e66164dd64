package cluster

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestWithSchema: a peer's batch takes the receiver's field names; one
// whose columns differ in count or type is an error (array.NewRecordBatch
// would panic, killing the node), and every path releases the batch.
func TestWithSchema(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	batch := func() arrow.RecordBatch {
		bld := array.NewInt64Builder(mem)
		defer bld.Release()
		bld.AppendValues([]int64{1, 2}, nil)
		col := bld.NewArray()
		defer col.Release()
		sc := arrow.NewSchema([]arrow.Field{{Name: "peer_name", Type: arrow.PrimitiveTypes.Int64}}, nil)
		return array.NewRecordBatch(sc, []arrow.Array{col}, 2)
	}
	want := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	got, err := withSchema(batch(), want)
	if err != nil || !got.Schema().Equal(want) || got.NumRows() != 2 {
		t.Fatalf("renamed: %v, %v", got, err)
	}
	got.Release()

	for _, tc := range []struct {
		schema *arrow.Schema
		msg    string
	}{
		{arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.BinaryTypes.String}}, nil), "column 1 (x) is int64, want utf8"},
		{arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}, {Name: "y", Type: arrow.PrimitiveTypes.Int64}}, nil), "1 columns, want 2"},
	} {
		if _, err := withSchema(batch(), tc.schema); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("want %q, got %v", tc.msg, err)
		}
	}
}
