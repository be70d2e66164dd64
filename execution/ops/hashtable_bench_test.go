package ops

import (
	"fmt"
	"math/rand/v2"
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

// BenchmarkGroupTableBuild inserts a 2M-row join build side in one
// insertAll: unique keys (a primary key), keys in runs of 4 (lineitem by
// l_orderkey) and 100k keys scattered (orders by o_custkey).
func BenchmarkGroupTableBuild(b *testing.B) {
	mem := memory.NewGoAllocator()
	const rows = 2 << 20
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		key  func(i int) int64
	}{
		{"unique", func(i int) int64 { return int64(i*7919%rows) * 31 }},
		{"runs4", func(i int) int64 { return int64(i / 4) }},
		{"scattered100k", func(int) int64 { return rng.Int64N(100_000) }},
	} {
		kb := array.NewInt64Builder(mem)
		for i := 0; i < rows; i++ {
			kb.Append(c.key(i))
		}
		keys := []arrow.Array{kb.NewArray()}
		kb.Release()
		ids := make([]uint32, rows)
		b.Run(c.name, func(b *testing.B) {
			var slots int
			for i := 0; i < b.N; i++ {
				t := newGroupTable(true, insertChunk)
				t.insertAll(keys, rows, ids)
				slots = t.size()
			}
			b.ReportMetric(float64(slots), "slots")
		})
		releaseAll(keys)
	}
}
