package cluster

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/planner/physical"
	"github.com/quiverdb/quiver/planner/stages"
)

// A stage whose partitions one task each reads once is handed to its
// reader (the store forgets it: its memory goes as the reader consumes
// it); broadcast, one-partition build sides read by every partition, and
// the final stage's inputs are shared and stay until released.
func TestLocalShuffleConsumeOnRead(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	leaf := &physical.Values{Out: schema}
	read := func(stage, parts int, bcast bool) *physical.ShuffleRead {
		return &physical.ShuffleRead{Stage: stage, Partitions: parts, Out: schema, Broadcast: bcast}
	}
	graph := []*stages.Stage{
		{ID: 0, Root: leaf, Partitions: 2}, // hash-partitioned probe side
		{ID: 1, Root: leaf, Partitions: 1}, // broadcast build side
		{ID: 2, Root: leaf, Partitions: 1}, // one-partition build side
		{ID: 3, Root: leaf, Partitions: 2}, // read by the final stage
		{ID: 4, Root: &physical.HashJoin{Left: read(0, 2, false), Right: &physical.HashJoin{Left: read(1, 1, true), Right: read(2, 1, false)}}, Partitions: 2, Inputs: []int{0, 1, 2}},
		{ID: 5, Root: read(3, 2, false), Partitions: 2, Inputs: []int{3}},
	}
	schemas := map[int]*arrow.Schema{}
	for _, st := range graph {
		schemas[st.ID] = schema
	}
	s := NewLocalShuffle(schemas)
	defer s.Release()
	s.ConsumeOnRead(graph)
	for _, st := range []int{0, 1, 2, 3} {
		w, _ := s.Writer(context.Background(), st, 0)
		for p := 0; p < 2; p++ {
			b := array.NewInt64Builder(mem)
			b.AppendValues([]int64{int64(st), int64(p)}, nil)
			col := b.NewArray()
			b.Release()
			rb := array.NewRecordBatch(schema, []arrow.Array{col}, 2)
			col.Release()
			w.Put(p, rb)
			rb.Release()
		}
		w.Close()
	}
	for _, c := range []struct {
		stage  int
		handed bool
	}{{0, true}, {1, false}, {2, false}, {3, false}} {
		for p := 0; p < 2; p++ {
			r, err := s.Read(context.Background(), c.stage, p)
			if err != nil {
				t.Fatal(err)
			}
			bs, err := execution.Collect(context.Background(), r)
			if err != nil || len(bs) != 1 || bs[0].NumRows() != 2 {
				t.Fatalf("stage %d partition %d: %d batches, %v", c.stage, p, len(bs), err)
			}
			bs[0].Release()
			s.mu.Lock()
			_, held := s.parts[shuffleKey{c.stage, p}]
			s.mu.Unlock()
			if held == c.handed {
				t.Errorf("stage %d partition %d: store still holds it = %v after a read", c.stage, p, held)
			}
		}
	}
}
