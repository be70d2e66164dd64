package ops

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
)

// BenchmarkGroupTable inserts 1M int64 keys (of which distinct are
// distinct, in scattered order) batch by batch, then probes them again.
func BenchmarkGroupTable(b *testing.B) {
	mem := memory.NewGoAllocator()
	const rows = 1 << 20
	for _, distinct := range []int{1000, 100_000, 1 << 20} {
		var batches []arrow.Array
		for off := 0; off < rows; off += execution.BatchSize {
			kb := array.NewInt64Builder(mem)
			for i := off; i < off+execution.BatchSize; i++ {
				kb.Append(int64(i*7919%distinct) * 31)
			}
			batches = append(batches, kb.NewArray())
			kb.Release()
		}
		ids := make([]uint32, execution.BatchSize)
		b.Run(fmt.Sprintf("insert/%d", distinct), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				t := newGroupTable(true, 0)
				var nr []int32
				for _, k := range batches {
					nr = t.insert([]arrow.Array{k}, k.Len(), ids, nr[:0])
				}
			}
		})
		t := newGroupTable(true, 0)
		for _, k := range batches {
			t.insert([]arrow.Array{k}, k.Len(), ids, nil)
		}
		b.Run(fmt.Sprintf("find/%d", distinct), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, k := range batches {
					t.find([]arrow.Array{k}, nil, k.Len(), ids)
				}
			}
		})
		releaseAll(batches)
	}
}
